"""python manage.py seed_demo [--reviews N]: demo shops, team and reviews, safe to run again."""

import argparse
import sys
import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from reviews.choices import EventSource
from reviews.services import review_events_ingest
from reviews.validation import EventInvalid, validate_event
from tickets.demo_data import PASSWORD
from tickets.management.demo import (
    PERIOD_DAYS,
    demo_period_end,
    demo_shops_ensure,
    demo_team_ensure,
    demo_ticket_counts,
    review_stories,
)
from tickets.management.demo_bulk import bulk_load
from tickets.management.demo_work import apply_demo_work, ticket_story
from tickets.rollup import rollup_compact

CHUNK_EVENTS = 500  # the ingest service is one transaction per call; 500 is the push API's batch
BULK_FROM = 50_000  # from this many reviews on PostgreSQL, COPY instead of the ingest service


class Command(BaseCommand):
    help = (
        "Load demo data: 3 shops (Taobao, Tmall, JD), 5 agents and a supervisor (password demo1234) and N reviews "
        f"over the last {PERIOD_DAYS} days, about 10 % of them neutral or negative with their tickets and the "
        "team's work on them (contact attempts, causes, remedies, outcomes). Reviews go through the ingest "
        f"service with deterministic event ids (from {BULK_FROM:,} on PostgreSQL: written with COPY), so running "
        "it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reviews", type=int, default=2000, help="How many reviews (default 2000).")
        parser.add_argument("--seed", type=int, default=1, help="Another seed gives other reviews (default 1).")
        parser.add_argument(
            "--until", type=date.fromisoformat, help="Last day of the demo period, YYYY-MM-DD (default: yesterday)."
        )
        parser.add_argument("--no-progress", action="store_true", help="Do not show the progress bar.")
        parser.add_argument(
            "--bulk",
            action=argparse.BooleanOptionalAction,
            default=None,
            help=f"Write with COPY instead of the ingest service (PostgreSQL; default from {BULK_FROM:,} reviews). "
            "Much faster; keeps no inbound event log.",
        )

    def handle(self, *args, reviews, seed, until, no_progress, **options):
        if reviews < 0:
            raise CommandError("--reviews must be 0 or more.")
        started = time.monotonic()
        until = until or timezone.localdate() - timedelta(days=1)
        with transaction.atomic():
            shops = demo_shops_ensure()
            team = demo_team_ensure(shops)

        stream = options.get("stderr") or sys.stderr
        progress = tqdm(
            total=reviews,
            unit=" reviews",
            desc="seed_demo",
            file=stream,
            disable=no_progress or not stream.isatty(),
            mininterval=0.5,
        )
        end = demo_period_end(until)
        now = min(timezone.now(), end)
        bulk = options.get("bulk")
        if bulk is None:
            bulk = reviews >= BULK_FROM and connection.vendor == "postgresql"
        if bulk and connection.vendor != "postgresql":
            raise CommandError("--bulk needs PostgreSQL (it writes with COPY).")
        with progress:
            if bulk:
                counts = bulk_load(review_stories(reviews, seed=seed, until=until), shops, progress, end=end, now=now)
            else:
                stories = {}
                counts = self._ingest(review_stories(reviews, seed=seed, until=until), shops, progress, stories)
                apply_demo_work(stories, end=end, now=now)

        # Fold what the loading appended to the statistics rollup, as the beat task would.
        rollup_compact()
        tickets = demo_ticket_counts(shops.values())
        self._summary(reviews, seed, until, counts, shops, tickets, team, time.monotonic() - started)

    def _ingest(self, stories, shops, progress, new_tickets):
        """Push every story through the ingest service; fills `new_tickets` with {ticket id:
        TicketStory} of the tickets this run opened (a second run opens none)."""
        counts = {"events": 0, "created": 0, "updated": 0, "duplicate": 0, "ignored": 0}
        pending = []
        unhappy = {}

        def flush():
            for result in review_events_ingest(pending, source=EventSource.DEMO, actor_label="Demo data"):
                counts[str(result.status)] += 1
                story = unhappy.get(result.review_id)
                if result.status == "created" and result.ticket_id and story is not None:
                    new_tickets[result.ticket_id] = story
            pending.clear()
            unhappy.clear()

        for story in stories:
            facts = ticket_story(story)
            if facts is not None:
                unhappy[facts.review_id] = facts
            for raw in story:
                try:
                    event = validate_event(raw)
                except EventInvalid as exc:  # a bug in the generator, not bad input
                    raise CommandError(f"Demo event {raw.get('event_id')} is invalid: {exc.fields}")
                pending.append((counts["events"], event, shops[event.shop]))
                counts["events"] += 1
            progress.update(1)
            if len(pending) >= CHUNK_EVENTS:
                flush()
        if pending:
            flush()
        return counts

    def _summary(self, reviews, seed, until, counts, shops, tickets, team, elapsed):
        start = until - timedelta(days=PERIOD_DAYS - 1)
        out = self.stdout.write
        out(f"Demo data ready in {elapsed:.1f} s (seed {seed}, {start} to {until}).")
        for shop in shops.values():
            out(f"  shop {shop.external_id:<12} {shop.get_platform_display():<7} {shop.name}")
        out(
            f"  {reviews:,} reviews, {counts['events']:,} events: {counts['created']:,} created, "
            f"{counts['updated']:,} updated, {counts['duplicate']:,} duplicate, {counts['ignored']:,} ignored"
        )
        out(
            f"  tickets in the demo shops: {tickets['total']:,} ({tickets['open']:,} open, "
            f"{tickets['resolved']:,} resolved, {tickets['verified']:,} verified by the platform)"
        )
        out(f"Demo logins (password {PASSWORD}; admin at /admin/):")
        for username, display_name, role, shop_ids, skills, _created in team:
            out(f"  {username:<11} {display_name}  {', '.join([role, *skills]):<17} {' '.join(shop_ids)}")
        kept = [username for username, *_rest, created in team if not created]
        if kept:
            out(f"  (existed already, so they kept their password: {', '.join(kept)})")

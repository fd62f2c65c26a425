"""Fetch a shop's reviews of the last N days through its marketplace connector, with a progress bar."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from reviews.choices import ConnectorKind
from reviews.connectors.base import ConnectorError, connector_for
from reviews.connectors.services import BackfillRefused, connector_backfill_start, connector_pull
from reviews.connectors.windowed import SECOND, WindowCursor
from reviews.models import Connector, Shop

WAIT_FOR_WORKER_SECONDS = 1.0


def remaining_seconds(cursor, horizon):
    """Seconds of review time the cursor still has to cover up to `horizon`."""
    state = WindowCursor.loads(cursor)
    left = max(0.0, (horizon - state.through).total_seconds())
    if state.backfill:
        left += max(0.0, (state.backfill[1] - state.backfill[0] + SECOND).total_seconds())
    return left


class Command(BaseCommand):
    help = (
        "Fetch the reviews a shop received in the last --days days (at most 180: the platforms keep no older "
        "ones) through its Taobao or JD connector, window by window like a regular pull, through the same ingest "
        "service. Each window is stored with the cursor, so an interrupted backfill continues where it stopped "
        "when run again (or by the connector's next scheduled pull), and nothing is stored twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="The shop's external id.")
        parser.add_argument("--days", type=int, default=180, help="How far back to fetch (default 180).")
        parser.add_argument("--connector", type=int, help="The connector's id, when the shop has several.")
        parser.add_argument("--no-progress", action="store_true", help="Do not show the progress bar.")

    def handle(self, *args, shop, days, connector, no_progress, **options):
        if not 1 <= days <= 180:
            raise CommandError("--days must be between 1 and 180.")
        connector_row = self._connector(shop, connector)
        try:
            connector_row = connector_backfill_start(connector_row.pk, days)
        except (BackfillRefused, ConnectorError) as exc:
            raise CommandError(str(exc)) from None
        with connector_for(connector_row) as client:
            horizon = client.horizon

        stream = options.get("stderr") or sys.stderr
        total = remaining_seconds(connector_row.cursor, horizon(timezone.now()))
        totals = {"fetched": 0, "created": 0, "updated": 0, "duplicates": 0}
        progress = tqdm(
            total=round(total / 3600, 1),
            unit=" h",
            desc=f"backfill {shop}",
            file=stream,
            disable=no_progress or not stream.isatty(),
            mininterval=0.5,
        )

        def on_page(row, page):
            done = total - remaining_seconds(row.cursor, horizon(timezone.now()))
            progress.n = round(max(0.0, min(done, total)) / 3600, 1)
            progress.set_postfix(reviews=totals["fetched"] + len(page.events), refresh=False)
            progress.refresh()

        with progress:
            while True:
                result = connector_pull(connector_row.pk, on_page=on_page)
                if result is None:  # a worker is pulling it right now; its windows count too
                    Connector.objects.filter(pk=connector_row.pk, lease_until__isnull=True).update(
                        next_run_at=timezone.now()
                    )
                    time.sleep(WAIT_FOR_WORKER_SECONDS)
                    continue
                for key in totals:
                    totals[key] += getattr(result, key)
                if result.error:
                    raise CommandError(
                        f"Stopped: {result.error} What was fetched so far is stored; run the command again to continue."
                    )
                if result.caught_up:
                    break
            progress.n = progress.total
        self.stdout.write(
            f"Backfilled {days} days of {shop} through connector {connector_row.name!r}: "
            f"{totals['fetched']:,} events fetched, {totals['created']:,} reviews created, "
            f"{totals['updated']:,} updated, {totals['duplicates']:,} already stored."
        )

    def _connector(self, shop, connector_id):
        shop_row = Shop.objects.filter(external_id=shop).first()
        if shop_row is None:
            raise CommandError(f"Unknown shop {shop!r}.")
        queryset = Connector.objects.filter(shop=shop_row, kind__in=[ConnectorKind.TAOBAO, ConnectorKind.JD])
        if connector_id is not None:
            queryset = queryset.filter(pk=connector_id)
        found = list(queryset.order_by("pk")[:2])
        if not found:
            raise CommandError(f"Shop {shop!r} has no Taobao or JD connector{' with that id' if connector_id else ''}.")
        if len(found) > 1:
            raise CommandError(f"Shop {shop!r} has several marketplace connectors; choose one with --connector.")
        if not found[0].is_enabled:
            raise CommandError(f"Connector {found[0].name!r} is disabled; enable it first.")
        return found[0]

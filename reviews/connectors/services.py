"""Pulling review events through connectors: claim a lease, fetch pages, store each page with its
cursor in one transaction, and record status and back-off on the Connector row."""

import logging
import math
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from ..choices import EventSource, EventStatus
from ..models import Connector
from ..services import review_events_ingest
from ..validation import EventInvalid, validate_event
from .base import ConnectorConfigError, ConnectorError, PageRejected, connector_for
from .selectors import connector_due_q, review_snapshots

logger = logging.getLogger(__name__)

# A run renews its lease with every stored page, so the lease only has to outlast one page
# (connect + read timeouts) plus its transaction; a crashed worker's connector is free again after it.
LEASE_DURATION = timedelta(minutes=10)
MAX_PAGES_PER_RUN = 50
MAX_RUN_SECONDS = 120  # then the run ends and the task queues the next one, so one shop cannot hog a worker
MAX_BACKOFF_SECONDS = 3600
INGEST_CHUNK = 2000  # events per ingest call; a marketplace window (one page) holds up to a few thousand
LAST_ERROR_MAX_CHARS = 2000
_PROBLEMS_SHOWN = 3


@dataclass(slots=True)
class PullResult:
    """What one run did: pages and events stored, by ingest status, and how it ended."""

    connector_id: int
    pages: int = 0
    fetched: int = 0
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    ignored: int = 0
    caught_up: bool = False
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    ok: bool
    message: str


class LeaseLost(Exception):
    """Another worker took the connector over (our lease expired); stop without writing."""


def connector_client(connector):
    """The implementation for a Connector row, given read access to the shop's stored reviews
    (marketplace connectors compare what the platform shows with what was stored)."""
    client = connector_for(connector)
    if hasattr(client, "review_state"):
        client.review_state = partial(review_snapshots, connector.shop_id)
    return client


def connector_pull(connector_id, *, on_page=None):
    """Run one pull of a due, free connector; None when it is not due, disabled or held by another worker.
    `on_page(connector, page)` is called after each stored page (the backfill command's progress bar)."""
    lease = _claim(connector_id)
    if lease is None:
        return None
    connector = Connector.objects.select_related("shop").get(pk=connector_id)
    connector.lease_until = lease  # our token: every later write is conditional on it
    result = PullResult(connector_id=connector_id)
    try:
        with connector_client(connector) as client:
            _pull_pages(connector, client, result, on_page)
    except LeaseLost:
        logger.warning("connector %s: lease lost mid-run; the run stopped without writing", connector_id)
        result.error = "Another worker took over this connector."
        return result
    except ConnectorError as exc:
        _record_failure(connector, result, exc.message, retry_after=exc.retry_after)
    except Exception as exc:
        # Record it so the admin shows it and back-off applies, then let the worker log the traceback.
        _record_failure(connector, result, f"Internal error ({type(exc).__name__}); see the worker log.")
        raise
    else:
        _record_success(connector, result)
    logger.info(
        "connector %s: %s pages, %s events (%s created, %s updated, %s duplicates, %s ignored)%s",
        connector_id,
        result.pages,
        result.fetched,
        result.created,
        result.updated,
        result.duplicates,
        result.ignored,
        f"; failed: {result.error}" if result.error else "",
    )
    return result


def connectors_pull_now(connector_ids):
    """Make the given enabled connectors due now and queue a pull of each after commit; returns the ids queued."""
    from ..tasks import pull_connector_task  # the tasks module imports this one

    ids = list(
        Connector.objects.filter(pk__in=connector_ids, is_enabled=True).order_by("pk").values_list("pk", flat=True)
    )
    Connector.objects.filter(pk__in=ids).update(next_run_at=timezone.now())
    for connector_id in ids:
        transaction.on_commit(partial(pull_connector_task.delay, connector_id))
    return ids


def connector_test(connector_id):
    """Make one authenticated request with the connector's settings; changes nothing."""
    connector = Connector.objects.select_related("shop").get(pk=connector_id)
    try:
        with connector_for(connector) as client:
            return ConnectionCheck(ok=True, message=client.test_connection())
    except ConnectorError as exc:
        return ConnectionCheck(ok=False, message=exc.message)


def connector_refetch_order(connector_id, order_id, sub_order_id=None):
    """Fetch one order's reviews again (after a pushed rating message) and ingest what changed.

    Independent of the cursor and the lease: the events have deterministic ids, so a review the
    window pull also brings lands once. Returns the ingest results; raises ConnectorError."""
    connector = Connector.objects.select_related("shop").get(pk=connector_id)
    with connector_client(connector) as client:
        if not hasattr(client, "refetch_events"):
            raise ConnectorConfigError(f"A {connector.get_kind_display()} connector cannot fetch a single order.")
        events = client.refetch_events(order_id, sub_order_id)
    items = _page_items(connector, events)
    results = []
    for start in range(0, len(items), INGEST_CHUNK):
        results += review_events_ingest(
            items[start : start + INGEST_CHUNK],
            source=EventSource.PULL,
            actor_label=f"Connector: {connector.name}",
            connector=connector,
        )
    return results


class BackfillRefused(Exception):
    """The backfill cannot start now; the message says why."""


def connector_backfill_start(connector_id, days):
    """Extend the connector's cursor so its pulls also fetch the last `days` days, and make it due.

    The windows are the same as a regular pull's and are stored the same way (each with the cursor,
    in one transaction), so an interrupted backfill continues where it stopped, by the command or
    by the next scheduled pull. Returns the Connector."""
    now = timezone.now()
    with transaction.atomic():
        connector = Connector.objects.select_for_update().select_related("shop").get(pk=connector_id)
        if connector.lease_until is not None and connector.lease_until > now:
            raise BackfillRefused("A pull of this connector is running; try again when it has finished.")
        with connector_for(connector) as client:
            if not hasattr(client, "with_backfill"):
                raise BackfillRefused(f"A {connector.get_kind_display()} connector has no time windows to backfill.")
            connector.cursor = client.with_backfill(connector.cursor, days, now)
        connector.next_run_at = now
        connector.save(update_fields=["cursor", "next_run_at"])
    return connector


def backoff_seconds(poll_interval_seconds, failures, retry_after=None):
    """Seconds to wait after `failures` in a row: poll interval doubling to an hour, never before Retry-After."""
    delay = min(MAX_BACKOFF_SECONDS, poll_interval_seconds * 2 ** min(failures - 1, 16))
    if retry_after is not None:
        delay = max(delay, math.ceil(retry_after))
    return delay


def _claim(connector_id):
    """Take the connector's lease with one conditional UPDATE; two workers can never both win it."""
    now = timezone.now()
    lease = now + LEASE_DURATION
    claimed = Connector.objects.filter(connector_due_q(now), pk=connector_id).update(lease_until=lease, last_run_at=now)
    return lease if claimed else None


def _pull_pages(connector, client, result, on_page=None):
    started = time.monotonic()
    # A connector whose next page needs no database (a marketplace's next time window) has it
    # fetched while this page is stored: fetching and storing overlap instead of taking turns.
    prefetchable = getattr(client, "prefetchable", None)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"connector-{connector.pk}-prefetch") as pool:
        upcoming = None
        for number in range(MAX_PAGES_PER_RUN):
            if upcoming is not None:
                page, upcoming = (
                    upcoming.result(),
                    None,
                )  # a failed prefetch raises here, after the page before it was stored
            else:
                page = client.fetch_page(connector.cursor, limit=connector.page_size)
            items = _page_items(connector, page.events)
            if (
                prefetchable is not None
                and page.has_more
                and number + 1 < MAX_PAGES_PER_RUN
                and time.monotonic() - started <= MAX_RUN_SECONDS
                and prefetchable(page.next_cursor)
            ):
                upcoming = pool.submit(client.fetch_page, page.next_cursor, limit=connector.page_size)
            outcomes = _store_page(connector, items, page)
            if on_page is not None:
                on_page(connector, page)
            result.pages += 1
            result.fetched += len(page.events)
            statuses = Counter(outcome.status for outcome in outcomes)
            result.created += statuses[EventStatus.CREATED]
            result.updated += statuses[EventStatus.UPDATED]
            result.duplicates += statuses[EventStatus.DUPLICATE]
            result.ignored += statuses[EventStatus.IGNORED]
            if not page.has_more:
                result.caught_up = True
                break
            if time.monotonic() - started > MAX_RUN_SECONDS:
                break


def _page_items(connector, raw_events):
    """(index, event, shop) for every event of the page, or PageRejected naming each bad event and field."""
    shop = connector.shop
    items, problems = [], []
    for index, raw in enumerate(raw_events):
        try:
            event = validate_event(raw)
        except EventInvalid as exc:
            problems.append((index, exc.fields))
            continue
        if event.shop != shop.external_id:
            problems.append((index, {"shop": [f"Must be {shop.external_id}, this connector's shop."]}))
        elif event.platform != shop.platform:
            problems.append((index, {"platform": [f"Must be {shop.platform}, the shop's platform."]}))
        else:
            items.append((index, event, shop))
    if problems:
        raise PageRejected(_rejection_message(connector.cursor, raw_events, problems), problems=problems)
    return items


def _rejection_message(cursor, raw_events, problems):
    where = f"after cursor {cursor!r}" if cursor else "at the start of the feed"
    described = []
    for index, fields in problems[:_PROBLEMS_SHOWN]:
        raw = raw_events[index]
        review_id = raw.get("review_id") if isinstance(raw, dict) else None
        label = f"event {index}" + (f" (review {review_id})" if isinstance(review_id, str) else "")
        details = " ".join(f"{path or 'event'}: {' '.join(messages)}" for path, messages in fields.items())
        described.append(f"{label}: {details}")
    more = len(problems) - _PROBLEMS_SHOWN
    tail = f" … and {more} more invalid events." if more > 0 else ""
    return (
        f"Page {where} rejected: {len(problems)} of {len(raw_events)} events invalid, so nothing from it was "
        f"stored and the cursor was kept. " + " | ".join(described) + tail
    )


def _store_page(connector, items, page):
    """Ingest the page's events and move the cursor in one transaction, only while we hold the lease."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The page and the cursor commit together, so a crash that loses the newest commits loses
            # both: the next run fetches those pages again and nothing is missed or stored twice. The
            # commit need not wait for the disk, then (the push API, which answers "accepted", does).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        renewed = timezone.now() + LEASE_DURATION
        # Written first so the row lock is held to commit; the lease check makes a superseded run stop here.
        held = Connector.objects.filter(pk=connector.pk, lease_until=connector.lease_until).update(
            cursor=page.next_cursor,
            lease_until=renewed,
            fetched_total=F("fetched_total") + len(page.events),
        )
        if not held:
            raise LeaseLost
        outcomes = []
        for start in range(0, len(items), INGEST_CHUNK):
            outcomes += review_events_ingest(
                items[start : start + INGEST_CHUNK],
                source=EventSource.PULL,
                actor_label=f"Connector: {connector.name}",
                connector=connector,
            )
    connector.cursor, connector.lease_until = page.next_cursor, renewed
    return outcomes


def _record_success(connector, result):
    now = timezone.now()
    # Still behind after this run's page cap: due again at once rather than after a full interval.
    next_run_at = now + timedelta(seconds=connector.poll_interval_seconds) if result.caught_up else now
    released = Connector.objects.filter(pk=connector.pk, lease_until=connector.lease_until).update(
        lease_until=None,
        last_success_at=now,
        consecutive_failures=0,
        last_fetched_count=result.fetched,
        next_run_at=next_run_at,
    )
    if not released:
        logger.warning("connector %s: lease lost before the run was recorded", connector.pk)


def _record_failure(connector, result, message, retry_after=None):
    now = timezone.now()
    failures = connector.consecutive_failures + 1
    delay = backoff_seconds(connector.poll_interval_seconds, failures, retry_after)
    result.error = message
    released = Connector.objects.filter(pk=connector.pk, lease_until=connector.lease_until).update(
        lease_until=None,
        last_error=message[:LAST_ERROR_MAX_CHARS],
        last_error_at=now,
        consecutive_failures=failures,
        last_fetched_count=result.fetched,
        next_run_at=now + timedelta(seconds=delay),
    )
    if not released:
        logger.warning("connector %s: lease lost before the failure was recorded: %s", connector.pk, message)

"""The JSON feed connector and the pull service, against a real HTTP feed on loopback."""

import threading
from datetime import timedelta
from email.utils import format_datetime

import pytest
from django.db import connection
from django.utils import timezone

from reviews.connectors import connector_for, registered_kinds
from reviews.connectors import services as pull_services
from reviews.connectors.http import retry_after_seconds
from reviews.connectors.json_feed import JsonFeedConnector
from reviews.connectors.services import PullResult, backoff_seconds, connector_pull, connector_test
from reviews.models import Connector, InboundEvent, Review
from tickets.models import Ticket

from .conftest import event
from .fake_feed import FakeFeed, Reply, closed_port, envelope

TOKEN = "feed-secret-token-123"


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch):
    monkeypatch.setattr(JsonFeedConnector, "timeout", (1.0, 0.5))


@pytest.fixture
def feed():
    with FakeFeed(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def connector(shop_a, feed):
    return Connector.objects.create(
        shop=shop_a, name="tb-a feed", feed_url=feed.url, token=TOKEN, page_size=2, poll_interval_seconds=60
    )


def review_event(n, **overrides):
    """Event n of shop A: a negative review.created, so each opens one ticket."""
    return event(event_id=f"e-{n}", review_id=f"r-{n}", buyer={"id": f"buyer-{n}"}, **overrides)


def make_due(connector):
    Connector.objects.filter(pk=connector.pk).update(next_run_at=timezone.now())


def reloaded(connector):
    return Connector.objects.get(pk=connector.pk)


def assert_failed_without_progress(connector, *, cursor="", failures=1):
    connector = reloaded(connector)
    assert connector.cursor == cursor
    assert connector.consecutive_failures == failures
    assert connector.lease_until is None
    assert connector.last_error_at is not None
    assert connector.next_run_at > connector.last_error_at
    assert InboundEvent.objects.count() == 0 and Review.objects.count() == 0 and Ticket.objects.count() == 0
    return connector


pytestmark = pytest.mark.django_db


# Paging and resuming ----------------------------------------------------------------------------


def test_a_run_pages_through_the_feed_and_saves_the_cursor_of_the_last_page(feed, connector):
    feed.events = [review_event(n) for n in range(1, 6)]

    result = connector_pull(connector.pk)

    assert result == PullResult(connector_id=connector.pk, pages=3, fetched=5, created=5, caught_up=True)
    assert feed.cursors == [None, "c2", "c4"]
    assert {seen.limit for seen in feed.requests} == {"2"}
    assert {seen.authorization for seen in feed.requests} == {f"Bearer {TOKEN}"}
    connector = reloaded(connector)
    assert connector.cursor == "c5"
    assert (connector.last_fetched_count, connector.fetched_total, connector.consecutive_failures) == (5, 5, 0)
    assert connector.lease_until is None
    assert connector.last_error == ""
    assert connector.next_run_at == connector.last_success_at + timedelta(seconds=60)
    assert sorted(InboundEvent.objects.values_list("event_id", flat=True)) == [f"e-{n}" for n in range(1, 6)]
    assert set(InboundEvent.objects.values_list("source", "connector_id")) == {("pull", connector.pk)}
    assert Ticket.objects.count() == 5


def test_the_next_run_fetches_only_what_arrived_after_the_saved_cursor(feed, connector):
    feed.events = [review_event(n) for n in range(1, 6)]
    connector_pull(connector.pk)
    feed.events.append(review_event(6))
    make_due(connector)

    result = connector_pull(connector.pk)

    assert result == PullResult(connector_id=connector.pk, pages=1, fetched=1, created=1, caught_up=True)
    assert feed.cursors == [None, "c2", "c4", "c5"]
    connector = reloaded(connector)
    assert (connector.cursor, connector.last_fetched_count, connector.fetched_total) == ("c6", 1, 6)
    assert InboundEvent.objects.count() == 6


def test_a_run_that_fails_after_page_one_resumes_at_the_saved_cursor_fetching_nothing_twice(feed, connector):
    feed.events = [review_event(n) for n in range(1, 6)]
    feed.script.extend([None, Reply(500, b"upstream database is down")])

    first = connector_pull(connector.pk)

    assert first.pages == 1 and first.fetched == 2 and first.caught_up is False
    assert first.error == f"{feed.host} failed with HTTP 500 (25 bytes)."
    connector = reloaded(connector)
    assert (connector.cursor, connector.fetched_total, connector.consecutive_failures) == ("c2", 2, 1)
    assert sorted(InboundEvent.objects.values_list("event_id", flat=True)) == ["e-1", "e-2"]

    make_due(connector)
    second = connector_pull(connector.pk)

    assert second == PullResult(connector_id=connector.pk, pages=2, fetched=3, created=3, caught_up=True)
    assert feed.cursors == [None, "c2", "c2", "c4"]
    assert sorted(InboundEvent.objects.values_list("event_id", flat=True)) == [f"e-{n}" for n in range(1, 6)]
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {"created"}
    assert Ticket.objects.count() == 5
    connector = reloaded(connector)
    assert (connector.cursor, connector.fetched_total, connector.consecutive_failures) == ("c5", 5, 0)


def test_an_invalid_event_on_page_two_keeps_page_one_and_rejects_page_two_whole(feed, connector):
    feed.events = [review_event(1), review_event(2), review_event(3), review_event(4, rating={"stars": 6})]

    result = connector_pull(connector.pk)

    assert result.pages == 1 and result.fetched == 2
    assert result.error == (
        "Page after cursor 'c2' rejected: 1 of 2 events invalid, so nothing from it was stored and the cursor "
        "was kept. event 1 (review r-4): rating.stars: Must be between 1 and 5."
    )
    assert reloaded(connector).cursor == "c2"
    assert sorted(InboundEvent.objects.values_list("event_id", flat=True)) == ["e-1", "e-2"]

    feed.events[3] = review_event(4)  # the feed fixed its data
    make_due(connector)
    connector_pull(connector.pk)

    assert feed.cursors == [None, "c2", "c2"]
    assert sorted(InboundEvent.objects.values_list("event_id", flat=True)) == ["e-1", "e-2", "e-3", "e-4"]


def test_a_re_served_page_gives_duplicates_and_no_second_ticket(feed, connector):
    feed.events = [review_event(n) for n in range(1, 6)]
    connector_pull(connector.pk)
    feed.script.append(Reply(200, envelope(feed.events[:2], "c5", False)))
    make_due(connector)

    result = connector_pull(connector.pk)

    assert result == PullResult(connector_id=connector.pk, pages=1, fetched=2, duplicates=2, caught_up=True)
    assert InboundEvent.objects.count() == 5 and Review.objects.count() == 5 and Ticket.objects.count() == 5
    assert reloaded(connector).fetched_total == 7


def test_a_page_cap_ends_the_run_early_and_leaves_the_connector_due_at_once(feed, connector, monkeypatch):
    monkeypatch.setattr(pull_services, "MAX_PAGES_PER_RUN", 2)
    feed.events = [review_event(n) for n in range(1, 6)]

    result = connector_pull(connector.pk)

    assert result == PullResult(connector_id=connector.pk, pages=2, fetched=4, created=4, caught_up=False)
    connector = reloaded(connector)
    assert connector.cursor == "c4"
    assert connector.next_run_at == connector.last_success_at


# Failing feeds ----------------------------------------------------------------------------------


def test_a_feed_answering_500_records_the_error_and_backs_off_longer_each_time(feed, connector):
    feed.events = [review_event(1)]
    waits = []
    for _attempt in range(3):
        feed.script.append(Reply(500, b""))
        make_due(connector)
        connector_pull(connector.pk)
        failed = reloaded(connector)
        waits.append(failed.next_run_at - failed.last_error_at)

    assert waits == [timedelta(seconds=60), timedelta(seconds=120), timedelta(seconds=240)]
    failed = assert_failed_without_progress(connector, failures=3)
    assert failed.last_error == f"{feed.host} failed with HTTP 500."
    assert failed.last_success_at is None


def test_a_feed_that_refuses_connections_records_a_readable_error(connector):
    port = closed_port()
    Connector.objects.filter(pk=connector.pk).update(feed_url=f"http://127.0.0.1:{port}/feed")

    result = connector_pull(connector.pk)

    assert result.error.startswith(f"Could not connect to 127.0.0.1:{port}: [Errno 111] Connection refused")
    assert_failed_without_progress(connector)


def test_a_feed_slower_than_the_read_timeout_records_a_timeout(feed, connector):
    feed.events = [review_event(1)]
    feed.script.append(Reply(200, envelope([review_event(1)], "c1", False), delay=1.5))

    result = connector_pull(connector.pk)

    assert result.error == f"{feed.host} did not answer within 0.5 s."
    assert_failed_without_progress(connector)


def test_a_bad_token_is_reported_as_refused_credentials(feed, connector):
    feed.events = [review_event(1)]
    Connector.objects.filter(pk=connector.pk).update(token="not-the-token")

    result = connector_pull(connector.pk)

    assert feed.requests[0].authorization == "Bearer not-the-token"
    assert result.error == f"{feed.host} refused the credentials (HTTP 401); check the access token."
    failed = assert_failed_without_progress(connector)
    assert "not-the-token" not in failed.last_error


def test_a_429_waits_for_retry_after_when_it_is_longer_than_the_back_off(feed, connector):
    feed.script.append(Reply(429, b"slow down", {"Retry-After": "300"}))

    result = connector_pull(connector.pk)

    assert result.error == f"{feed.host} is rate limiting (HTTP 429); it asks to wait 300 s."
    failed = assert_failed_without_progress(connector)
    assert failed.next_run_at - failed.last_error_at == timedelta(seconds=300)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "The feed's answer must be a JSON object with events, next_cursor and has_more, not a JSON array."),
        (
            b'{"events": {}, "next_cursor": "c1", "has_more": false}',
            "The feed's answer is not the expected envelope: events must be an array, not object.",
        ),
        (
            b'{"events": [], "next_cursor": 5}',
            "The feed's answer is not the expected envelope: next_cursor must be a string, not number; "
            "has_more is missing.",
        ),
        (
            b'{"events": [], "next_cursor": "", "has_more": "no"}',
            "The feed's answer is not the expected envelope: next_cursor must be a non-empty string; "
            "has_more must be true or false, not string.",
        ),
        (
            envelope([event(), event(), event()], "c3", False),
            "The feed sent 3 events when at most 2 were asked for.",
        ),
    ],
)
def test_a_wrong_envelope_is_a_visible_error_and_stores_nothing(feed, connector, body, message):
    feed.script.append(Reply(200, body))

    result = connector_pull(connector.pk)

    assert result.error == message
    assert assert_failed_without_progress(connector).last_error == message


def test_a_feed_that_does_not_advance_its_cursor_is_stopped_instead_of_looped(feed, connector):
    feed.events = [review_event(n) for n in range(1, 6)]
    feed.script.extend([None, Reply(200, envelope(feed.events[2:4], "c2", True))])

    result = connector_pull(connector.pk)

    assert result.error == "The feed says has_more but returned the cursor it was given; it is not advancing."
    assert (result.pages, reloaded(connector).cursor, InboundEvent.objects.count()) == (1, "c2", 2)


def test_a_non_json_answer_is_a_visible_error(feed, connector):
    feed.script.append(Reply(200, b"<html>Service Unavailable</html>"))

    result = connector_pull(connector.pk)

    assert result.error.startswith("The feed's answer is not JSON (")
    assert result.error.endswith("it is 32 bytes long.")
    assert "Service Unavailable" not in result.error  # a typed URL must not read a page back
    assert_failed_without_progress(connector)


def test_one_invalid_event_rejects_the_whole_page_naming_its_index_and_field(feed, connector):
    feed.events = [review_event(1), review_event(2, rating={"stars": 6}, occurred_at="2026-03-02T10:15:00")]

    result = connector_pull(connector.pk)

    assert result.error == (
        "Page at the start of the feed rejected: 1 of 2 events invalid, so nothing from it was stored and the "
        "cursor was kept. event 1 (review r-2): occurred_at: Must carry a UTC offset (naive times are ambiguous). "
        "rating.stars: Must be between 1 and 5."
    )
    assert_failed_without_progress(connector)


def test_an_event_of_another_shop_or_platform_rejects_the_page(feed, connector):
    feed.events = [review_event(1, shop="tb-other"), review_event(2, platform="jd")]

    result = connector_pull(connector.pk)

    assert result.error == (
        "Page at the start of the feed rejected: 2 of 2 events invalid, so nothing from it was stored and the "
        "cursor was kept. event 0 (review r-1): shop: Must be tb-a, this connector's shop. | "
        "event 1 (review r-2): platform: Must be taobao, the shop's platform."
    )
    assert_failed_without_progress(connector)


def test_a_success_after_failures_resets_the_failure_count_and_keeps_the_last_error_for_reference(feed, connector):
    feed.events = [review_event(1)]
    feed.script.append(Reply(503, b""))
    connector_pull(connector.pk)
    make_due(connector)

    connector_pull(connector.pk)

    connector = reloaded(connector)
    assert connector.consecutive_failures == 0
    assert connector.last_error == f"{feed.host} failed with HTTP 503."
    assert connector.last_success_at > connector.last_error_at
    assert connector.next_run_at == connector.last_success_at + timedelta(seconds=60)


@pytest.mark.parametrize(
    ("failures", "retry_after", "seconds"),
    [(1, None, 60), (2, None, 120), (3, None, 240), (7, None, 3600), (40, None, 3600), (1, 300, 300), (3, 5, 240)],
)
def test_back_off_doubles_from_the_poll_interval_up_to_an_hour_and_respects_retry_after(failures, retry_after, seconds):
    assert backoff_seconds(60, failures, retry_after) == seconds


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    assert retry_after_seconds("120") == 120
    assert 118 <= retry_after_seconds(format_datetime(timezone.now() + timedelta(seconds=120), usegmt=True)) <= 120
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(str(10**9)) == 24 * 3600


def test_an_unexpected_crash_is_recorded_and_backed_off_before_it_propagates(feed, connector, monkeypatch):
    feed.events = [review_event(1)]

    def crash(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(pull_services, "review_events_ingest", crash)

    with pytest.raises(RuntimeError):
        connector_pull(connector.pk)

    failed = assert_failed_without_progress(connector)
    assert failed.last_error == "Internal error (RuntimeError); see the worker log."
    assert failed.next_run_at - failed.last_error_at == timedelta(seconds=60)


# Leases -----------------------------------------------------------------------------------------


def test_a_connector_leased_by_another_worker_is_not_pulled(feed, connector):
    feed.events = [review_event(1)]
    Connector.objects.filter(pk=connector.pk).update(lease_until=timezone.now() + timedelta(minutes=5))

    assert connector_pull(connector.pk) is None
    assert feed.requests == []


def test_an_expired_lease_left_by_a_crashed_worker_does_not_block_the_next_run(feed, connector):
    feed.events = [review_event(1)]
    Connector.objects.filter(pk=connector.pk).update(lease_until=timezone.now() - timedelta(seconds=1))

    assert connector_pull(connector.pk).created == 1


def test_disabled_or_not_yet_due_connectors_are_not_pulled(feed, connector):
    Connector.objects.filter(pk=connector.pk).update(is_enabled=False)
    assert connector_pull(connector.pk) is None
    Connector.objects.filter(pk=connector.pk).update(is_enabled=True, next_run_at=timezone.now() + timedelta(1))
    assert connector_pull(connector.pk) is None
    assert feed.requests == []


def test_a_run_whose_lease_was_taken_over_stops_without_storing_its_page(feed, connector, monkeypatch):
    feed.events = [review_event(n) for n in range(1, 6)]
    taken_over_until = timezone.now() + timedelta(minutes=30)
    real_fetch = JsonFeedConnector.fetch_page

    def fetch_then_lose_the_lease(self, cursor, *, limit):
        page = real_fetch(self, cursor, limit=limit)
        if cursor == "c2":  # another worker claims the connector while page two is in flight
            Connector.objects.filter(pk=connector.pk).update(lease_until=taken_over_until)
        return page

    monkeypatch.setattr(JsonFeedConnector, "fetch_page", fetch_then_lose_the_lease)

    result = connector_pull(connector.pk)

    assert result.error == "Another worker took over this connector."
    connector = reloaded(connector)
    assert (connector.cursor, connector.lease_until, connector.last_error) == ("c2", taken_over_until, "")
    assert sorted(InboundEvent.objects.values_list("event_id", flat=True)) == ["e-1", "e-2"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_pulling_the_same_connector_at_once_run_it_once(feed, connector):
    feed.events = [review_event(n) for n in range(1, 6)]
    feed.script.append(Reply(200, envelope(feed.events[:2], "c2", True), delay=0.3))  # keep the first run busy
    start = threading.Barrier(2)
    results = []

    def worker():
        try:
            start.wait()
            results.append(connector_pull(connector.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert sorted(results, key=lambda r: r is not None) == [
        None,
        PullResult(connector_id=connector.pk, pages=3, fetched=5, created=5, caught_up=True),
    ]
    assert feed.cursors == [None, "c2", "c4"]
    assert InboundEvent.objects.count() == 5 and Ticket.objects.count() == 5


# Test connection and the registry ---------------------------------------------------------------


def test_testing_the_connection_reports_what_the_feed_answered_and_changes_nothing(feed, connector):
    feed.events = [review_event(n) for n in range(1, 4)]

    check = connector_test(connector.pk)

    assert check.ok is True
    assert check.message == "Connected: the source answered with 1 event after the current cursor, more waiting."
    assert feed.requests[0].limit == "1"
    assert reloaded(connector).cursor == "" and reloaded(connector).last_run_at is None
    assert InboundEvent.objects.count() == 0


def test_testing_the_connection_with_a_bad_token_reports_the_refusal(feed, connector):
    Connector.objects.filter(pk=connector.pk).update(token="wrong")

    check = connector_test(connector.pk)

    assert (check.ok, check.message) == (
        False,
        f"{feed.host} refused the credentials (HTTP 401); check the access token.",
    )


def test_every_connector_kind_has_an_implementation(connector):
    assert registered_kinds() == sorted(value for value, _label in Connector._meta.get_field("kind").choices)
    assert isinstance(connector_for(connector), JsonFeedConnector)

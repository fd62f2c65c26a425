"""The push API's speed work (issue 2): the per-process key cache and its revocation, throttled
last_used_at writes, the PostgreSQL statements per request (independent of batch size), the
COPY and upsert paths, and reconnecting when a persistent connection was dropped."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.models import Buyer
from reviewdesk.db import COPY_MIN_ROWS
from reviews import authentication
from reviews.authentication import key_cache
from reviews.models import ApiKey, InboundEvent, Review, Shop
from reviews.services import review_events_ingest
from reviews.validation import validate_event
from tickets.models import Ticket, TicketEvent

from .conftest import event
from .factories import make_api_key

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the raw-SQL fast path is PostgreSQL's; elsewhere the ORM path runs"
)


def positive(n, **overrides):
    fields = {
        "event_id": f"e-{n}",
        "review_id": f"r-{n}",
        "buyer": {"id": f"buyer-{n}", "nick": "tony", "phone": "13812345678", "region": "浙江 杭州"},
        "rating": {"tier": "positive", "stars": 5, "dsr": {"description": 5, "service": 5, "logistics": 5}},
    }
    fields.update(overrides)
    return event(**fields)


def batch(count, start=0, negative_every=0):
    events = []
    for n in range(start, start + count):
        if negative_every and n % negative_every == 0:
            events.append(event(event_id=f"e-{n}", review_id=f"r-{n}", buyer={"id": f"buyer-{n}"}))
        else:
            events.append(positive(n))
    return {"events": events}


@pytest.fixture(autouse=True)
def _empty_key_cache():
    key_cache.clear()
    yield
    key_cache.clear()


# The key cache --------------------------------------------------------------------------------


def test_a_cached_key_authenticates_without_queries(push):
    assert push(positive(1)).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert push(positive(2)).status_code == 200
    assert not [q for q in queries.captured_queries if "reviews_apikey" in q["sql"] or "reviews_shop" in q["sql"]]


def test_revoking_a_key_takes_effect_at_once_in_this_process(push, shop_a, key_a):
    assert push(positive(1)).status_code == 200
    ApiKey.objects.get(key_hash=ApiKey.hash(key_a)).revoke()
    response = push(positive(2))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_revocation_made_elsewhere_is_honoured_within_the_ttl(push, key_a, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(authentication.time, "monotonic", lambda: clock[0])
    assert push(positive(1)).status_code == 200
    # Another process revokes the key: no signal reaches this one.
    ApiKey.objects.filter(key_hash=ApiKey.hash(key_a)).update(revoked_at=timezone.now())
    clock[0] += authentication.KEY_CACHE_SECONDS - 0.5
    assert push(positive(2)).status_code == 200  # still within the TTL
    clock[0] += 1.0
    assert push(positive(3)).status_code == 401


def test_removing_a_shop_from_a_key_or_deactivating_it_takes_effect_at_once(push, shop_a, shop_b, key_a):
    api_key = ApiKey.objects.get(key_hash=ApiKey.hash(key_a))
    assert push(positive(1)).status_code == 200
    api_key.shops.remove(shop_a)
    assert push(positive(2)).json()["results"][0]["error"]["code"] == "shop_not_allowed"
    api_key.shops.add(shop_a)
    assert push(positive(3)).status_code == 200
    shop_a.is_active = False
    shop_a.save()
    assert push(positive(4)).json()["results"][0]["error"]["code"] == "shop_not_allowed"


def test_a_shop_rule_change_applies_to_the_next_push(push, shop_a):
    assert push(positive(1)).json()["results"][0]["ticket_id"] is None
    shop_a.ticket_tiers = ["positive", "neutral", "negative"]
    shop_a.save()
    assert push(positive(2)).json()["results"][0]["ticket_id"] is not None


def test_an_unknown_key_is_never_cached(push, api):
    for _ in range(2):
        response = api.post("/api/v1/review-events/", positive(1), format="json", HTTP_AUTHORIZATION="Bearer rdk_nope")
        assert response.status_code == 401
    assert key_cache._entries == {}


# last_used_at -------------------------------------------------------------------------------


def test_last_used_is_written_at_most_once_a_minute(push, key_a):
    with CaptureQueriesContext(connection) as first:
        push(positive(1))
    with CaptureQueriesContext(connection) as later:
        push(positive(2))
        push(positive(3))
    touches = [q for q in first.captured_queries if q["sql"].startswith('UPDATE "reviews_apikey"')]
    assert len(touches) == 1
    assert not [q for q in later.captured_queries if "reviews_apikey" in q["sql"]]
    assert ApiKey.objects.get(key_hash=ApiKey.hash(key_a)).last_used_at is not None


def test_the_last_used_write_is_conditional_so_processes_do_not_repeat_it(shop_a):
    api_key, _raw = make_api_key(shop_a)
    recent = timezone.now() - timedelta(seconds=10)
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=recent)
    stale_copy = ApiKey.objects.get(pk=api_key.pk)
    stale_copy.last_used_at = None  # what a process that loaded the key earlier still believes
    assert authentication._touch(ApiKey, stale_copy)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == recent  # another process wrote it < 1 min ago
    long_ago = timezone.now() - timedelta(minutes=5)
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=long_ago)
    stale_copy.last_used_at = long_ago
    assert authentication._touch(ApiKey, stale_copy)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at > long_ago
    assert not authentication._touch(ApiKey, stale_copy)  # just written: skipped in memory


# Statements per request -----------------------------------------------------------------------


def _statements(push, body):
    with CaptureQueriesContext(connection) as queries:
        response = push(body)
    assert response.status_code == 200, response.content
    return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]


def _warm(push):
    push(positive(999_999))  # loads the key and writes last_used_at: not part of what is pinned


@postgresql_only
def test_a_single_new_positive_event_takes_three_statements(push):
    _warm(push)
    statements = _statements(push, positive(1))
    assert len(statements) == 3, statements
    buyers, review, log = statements
    assert buyers.startswith('INSERT INTO "contacts_buyer"') and "ON CONFLICT" in buyers
    assert review.startswith('INSERT INTO "reviews_review"')
    assert review.endswith('ON CONFLICT (shop_id, review_id) DO NOTHING RETURNING "id"')
    assert log.startswith('INSERT INTO "reviews_inboundevent"')


@postgresql_only
def test_a_single_negative_event_adds_only_its_ticket_and_timeline_row(push):
    _warm(push)
    statements = _statements(push, event())
    tables = [s.split('"')[1] for s in statements if s.startswith("INSERT")]
    reads = [s.split(" FROM ")[1].split(" ")[0] for s in statements if s.startswith("SELECT")]
    assert tables == [
        "contacts_buyer",
        "reviews_review",
        "tickets_ticket",
        "tickets_ticketevent",
        "reviews_inboundevent",
    ]
    # Only the SLA planner's read of the shop's policies besides.
    assert all(table.startswith('"tickets_') for table in reads), reads
    assert len(statements) <= 7, statements


@postgresql_only
def test_a_review_that_exists_takes_the_locking_way_with_the_same_outcome(push):
    first = push(event()).json()["results"][0]
    _warm(push)
    # A second review.created for the same review (a new event id, a newer time): an update.
    statements = _statements(push, event(event_id="e-2", occurred_at="2026-03-02T11:15:00+08:00", content="改了"))
    inserts = [s.split('"')[1] for s in statements if s.startswith("INSERT")]
    # The optimistic attempt (buyer, review) is rolled back; the locking way then runs.
    assert inserts[:2] == ["contacts_buyer", "reviews_review"]
    assert any(s.startswith('SELECT "id" FROM "reviews_review"') and s.endswith("FOR UPDATE") for s in statements)
    assert Review.objects.get(review_id="r-1").content == "改了"
    assert Ticket.objects.count() == 1
    logged = InboundEvent.objects.get(event_id="e-2")
    assert logged.status == "updated" and logged.ticket_id == first["ticket_id"]


@postgresql_only
def test_an_event_id_reused_for_another_review_is_a_duplicate(push):
    first = push(event()).json()["results"][0]
    again = push(event(review_id="r-other")).json()["results"][0]
    assert again["status"] == "duplicate" and again["ticket_id"] == first["ticket_id"]
    assert not Review.objects.filter(review_id="r-other").exists()
    assert InboundEvent.objects.count() == 1


@postgresql_only
def test_a_stale_created_event_for_an_existing_review_is_ignored(push):
    push(event(occurred_at="2026-03-02T11:15:00+08:00"))
    late = push(event(event_id="e-0", occurred_at="2026-03-01T11:15:00+08:00", content="old")).json()
    assert late["results"][0]["status"] == "ignored"
    assert Review.objects.get().content != "old"


@postgresql_only
@pytest.mark.parametrize("size", [50, 500])
def test_a_batch_takes_the_same_statements_whatever_its_size(push, size):
    _warm(push)
    small = _statements(push, batch(20, start=0, negative_every=10))
    large = _statements(push, batch(size, start=1000, negative_every=10))

    def shape(statements):
        return [s.split(" (")[0].split(" --")[0][:40] for s in statements]

    assert shape(large) == shape(small)
    assert any(s.startswith('COPY "reviews_inboundevent"') for s in large)
    assert any(s.startswith('COPY "reviews_review"') for s in large)
    assert len(large) <= 12, large


@postgresql_only
def test_a_replayed_batch_is_three_reads_and_no_write(push):
    body = batch(40, negative_every=4)
    first = push(body).json()
    statements = _statements(push, body)
    assert len(statements) == 3, statements
    lock, rows, keys = statements
    assert lock.startswith('SELECT "id" FROM "reviews_review"') and lock.endswith("FOR UPDATE")
    assert rows.startswith('SELECT "id", "shop_id"') and '"id" = ANY(' in rows
    assert "reviews_inboundevent" in keys
    again = push(body).json()
    assert [r["status"] for r in again["results"]] == ["duplicate"] * 40
    assert [r["ticket_id"] for r in again["results"]] == [r["ticket_id"] for r in first["results"]]


# What the fast path writes ----------------------------------------------------------------------


def test_a_large_batch_stores_every_field_like_a_single_event(push, shop_a):
    body = batch(COPY_MIN_ROWS * 3, negative_every=5)
    tricky = body["events"][7]
    tricky["content"] = 'tab\there, newline\nand backslash \\ "quoted" 中文\r\nend'
    tricky["item"]["title"] = "back\\slash\ttab"
    response = push(body)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created"] * len(body["events"])
    review = Review.objects.get(review_id="r-7")
    assert review.content == tricky["content"]
    assert review.item_title == "back\\slash\ttab"
    assert review.buyer.phone == "13812345678" and review.buyer.nick == "tony"
    logged = InboundEvent.objects.get(shop=shop_a, event_id="e-7")
    assert logged.payload["content"] == tricky["content"]
    assert logged.payload["buyer"]["phone"] != "13812345678"  # masked in the audit copy
    assert logged.review_id == review.pk and logged.status == "created"
    assert logged.api_key is not None and logged.source == "push"
    assert Ticket.objects.count() == len([r for r in results if r["ticket_id"]]) == len(body["events"][::5])
    for r in results:
        assert InboundEvent.objects.get(shop=shop_a, event_id=r["event_id"]).ticket_id == r["ticket_id"]
    assert TicketEvent.objects.filter(kind="opened").count() == Ticket.objects.count()


def test_buyer_upsert_keeps_stored_values_the_event_leaves_out_and_widens_seen_times(push):
    push(positive(1, occurred_at="2026-03-02T10:00:00+08:00"))
    push(
        positive(
            2,
            occurred_at="2026-03-01T10:00:00+08:00",
            buyer={"id": "buyer-1", "nick": "newnick"},
        )
    )
    buyer = Buyer.objects.get(open_id="buyer-1")
    assert buyer.nick == "newnick"
    assert buyer.phone == "13812345678" and buyer.region == "浙江 杭州"
    assert buyer.first_seen_at.isoformat() == "2026-03-01T02:00:00+00:00"
    assert buyer.last_seen_at.isoformat() == "2026-03-02T02:00:00+00:00"
    assert set(Review.objects.values_list("buyer_id", flat=True)) == {buyer.pk}


def test_a_returning_buyer_in_a_large_batch_is_one_buyer(push):
    events = batch(COPY_MIN_ROWS + 4)["events"]
    for n, e in enumerate(events):
        e["buyer"] = {"id": f"buyer-{n % 3}", "nick": f"nick-{n}"}
    assert push({"events": events}).status_code == 200
    assert Buyer.objects.count() == 3
    assert Review.objects.filter(buyer__open_id="buyer-0").count() == len(events[0::3])


@postgresql_only
def test_the_copy_path_reports_a_duplicate_key_as_an_integrity_error(shop_a):
    """A key stored between the look-up and the write makes COPY fail like an INSERT would, so
    review_events_ingest retries the batch (and then reports duplicates)."""
    from django.db import IntegrityError, transaction

    from reviewdesk.db import copy_rows

    columns = ("shop_id", "idempotency_key", "event_id", "event_type", "platform_review_id", "occurred_at")
    columns += ("payload", "status", "source", "received_at", "ingest_batch")
    now = timezone.now()
    rows = [
        (shop_a.pk, f"id:k{n}", f"k{n}", "review.created", "r", now, "{}", "created", "push", now, "0" * 32)
        for n in range(COPY_MIN_ROWS)
    ]
    copy_rows(InboundEvent, columns, rows)
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_rows(InboundEvent, columns, rows)


def test_ingest_works_without_the_push_view(shop_a):
    """The pull connectors and the import call the same service (with their own sources)."""
    items = [
        (0, validate_event(positive(1)), shop_a),
        (1, validate_event(event(event_id="x", review_id="r-x")), shop_a),
    ]
    results = review_events_ingest(items, source="import", actor_label="import")
    assert [r.status for r in results] == ["created", "created"]
    assert InboundEvent.objects.filter(source="import").count() == 2
    assert Shop.objects.count() == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_dropped_is_replaced_and_the_push_lands(push):
    assert push(positive(1)).status_code == 200
    connection.ensure_connection()
    connection.connection.close()  # as if PostgreSQL restarted: Django still holds the old one
    response = push(positive(2))
    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["status"] == "created"
    assert Review.objects.filter(review_id="r-2").exists()

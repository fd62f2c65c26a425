"""POST /api/v1/review-events/ against API.md § Push review events: the body, the limits, the
error shape, authentication, validation order and idempotency."""

import functools
from decimal import Decimal

import orjson
import pytest

from contacts.models import Buyer
from reviews.models import InboundEvent, PersonalToken, Review
from tickets.models import Ticket, TicketEvent

from .conftest import event
from .factories import ShopFactory, UserFactory, make_api_key

pytestmark = pytest.mark.django_db

URL = "/api/v1/review-events/"
MAX_BODY = 5 * 1024 * 1024
DROP = object()


def counts():
    return {
        "reviews": Review.objects.count(),
        "inbound_events": InboundEvent.objects.count(),
        "tickets": Ticket.objects.count(),
        "buyers": Buyer.objects.count(),
        "timeline": TicketEvent.objects.count(),
    }


def with_field(path, value, **overrides):
    """`event(**overrides)` with the field at `path` (`buyer.nick`) set to `value`, or removed (DROP)."""
    data = event(**overrides)
    *parents, last = path.split(".")
    target = data
    for name in parents:
        target = target[name]
    if value is DROP:
        target.pop(last, None)
    else:
        target[last] = value
    return data


def post_raw(api, body, *, content_type="application/json", key):
    return api.generic("POST", URL, data=body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {key}")


def assert_error(response, status, code, fields=None):
    """A 4xx in API.md's error shape, and nothing else in the body."""
    assert response.status_code == status
    body = response.json()
    assert list(body) == ["error"]
    assert sorted(body["error"]) == ["code", "fields", "message"]
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert sorted(body["error"]["fields"]) == sorted(fields or [])


def assert_all_rejected(response, *, code, fields, event_id="e-1", review_id="r-1"):
    """A one-event request whose event was rejected: 400, the envelope, no_event_accepted."""
    assert response.status_code == 400
    body = response.json()
    assert sorted(body) == ["accepted", "error", "rejected", "results"]
    assert body["accepted"] == 0 and body["rejected"] == 1
    assert body["error"]["code"] == "no_event_accepted"
    [result] = body["results"]
    assert sorted(result) == ["error", "event_id", "index", "review_id", "status"]
    assert (result["index"], result["status"]) == (0, "rejected")
    assert (result["event_id"], result["review_id"]) == (event_id, review_id)
    assert result["error"]["code"] == code
    assert isinstance(result["error"]["message"], str) and result["error"]["message"]
    assert sorted(result["error"]["fields"]) == sorted(fields)
    assert all(
        isinstance(p, list) and p and all(isinstance(s, str) for s in p) for p in result["error"]["fields"].values()
    )


@pytest.fixture
def before(push):
    """One review already stored, with its ticket and buyer; returns the row counts after it."""
    seeded = push(event(event_id="seed", review_id="r-seed", buyer={"id": "seed-buyer"}))
    assert seeded.status_code == 200
    return counts()


# Bad events: each is rejected with invalid_event under API.md's field path, and changes nothing -----------

LONG_ID = "x" * 129
BAD_EVENTS = [
    # missing required fields
    ("type", DROP, {}, "type"),
    ("occurred_at", DROP, {}, "occurred_at"),
    ("platform", DROP, {}, "platform"),
    ("shop", DROP, {}, "shop"),
    ("review_id", DROP, {}, "review_id"),
    ("order_id", DROP, {}, "order_id"),
    ("buyer", DROP, {}, "buyer"),
    ("buyer.id", DROP, {}, "buyer.id"),
    ("rating", DROP, {}, "rating"),
    ("rating", DROP, {"type": "review.revised"}, "rating"),
    ("rating", {"dsr": {"description": 2, "service": 3, "logistics": 1}}, {}, "rating"),
    ("followup", DROP, {"type": "review.followup"}, "followup"),
    ("reply", DROP, {"type": "review.replied"}, "reply"),
    ("reply", {}, {"type": "review.replied"}, "reply.content"),
    ("shop", "", {}, "shop"),
    ("review_id", "   ", {}, "review_id"),
    # wrong types
    ("review_id", 12345, {}, "review_id"),
    ("event_id", 98765, {}, "event_id"),
    ("order_id", 3901234567890, {}, "order_id"),
    ("sub_order_id", 1, {}, "sub_order_id"),
    ("shop", 7, {}, "shop"),
    ("buyer.id", 42, {}, "buyer.id"),
    ("item.id", 6523, {}, "item.id"),
    ("buyer", "buyer-open-1", {}, "buyer"),
    ("item", ["6523"], {}, "item"),
    ("rating", [1], {}, "rating"),
    ("rating.stars", "5", {}, "rating.stars"),
    ("rating.stars", True, {}, "rating.stars"),
    ("rating.stars", 4.5, {}, "rating.stars"),
    ("rating.dsr", 3, {}, "rating.dsr"),
    ("rating.dsr.service", "3", {}, "rating.dsr.service"),
    ("image_count", "2", {}, "image_count"),
    ("image_count", False, {}, "image_count"),
    ("content", 123, {}, "content"),
    ("occurred_at", 1772417700, {}, "occurred_at"),
    ("followup", {"content": "还是不行", "negative": "yes"}, {"type": "review.followup"}, "followup.negative"),
    ("followup", "还是不行", {"type": "review.followup"}, "followup"),
    # bad enums
    ("type", "review.updated", {}, "type"),
    ("type", "REVIEW.CREATED", {}, "type"),
    ("platform", "amazon", {}, "platform"),
    ("rating.tier", "bad", {}, "rating.tier"),
    ("rating.tier", "Negative", {}, "rating.tier"),
    # text over its limit (code points, multi-byte characters count once)
    ("content", "差" * 2001, {}, "content"),
    ("content", "😡" * 2001, {}, "content"),
    ("followup", {"content": "差" * 2001}, {"type": "review.followup"}, "followup.content"),
    ("reply", {"content": "解" * 2001}, {"type": "review.replied"}, "reply.content"),
    ("buyer.nick", "昵" * 65, {}, "buyer.nick"),
    ("buyer.phone", "1" * 33, {}, "buyer.phone"),
    ("buyer.region", "区" * 65, {}, "buyer.region"),
    ("item.title", "羽" * 256, {}, "item.title"),
    ("event_id", LONG_ID, {}, "event_id"),
    ("review_id", LONG_ID, {}, "review_id"),
    ("order_id", LONG_ID, {}, "order_id"),
    ("sub_order_id", LONG_ID, {}, "sub_order_id"),
    ("buyer.id", LONG_ID, {}, "buyer.id"),
    ("item.id", LONG_ID, {}, "item.id"),
    ("item.sku", LONG_ID, {}, "item.sku"),
    # price
    ("item.price", "abc", {}, "item.price"),
    ("item.price", "59,90", {}, "item.price"),
    ("item.price", "-0.01", {}, "item.price"),
    ("item.price", "1.999", {}, "item.price"),
    ("item.price", "100000000", {}, "item.price"),
    ("item.price", "100000000.00", {}, "item.price"),
    ("item.price", "1e9", {}, "item.price"),
    ("item.price", "NaN", {}, "item.price"),
    ("item.price", "Infinity", {}, "item.price"),
    ("item.price", True, {}, "item.price"),
    ("item.price", {"amount": "1.00"}, {}, "item.price"),
    # numbers out of range
    ("rating.stars", 0, {}, "rating.stars"),
    ("rating.stars", 6, {}, "rating.stars"),
    ("rating.dsr.description", 0, {}, "rating.dsr.description"),
    ("rating.dsr.logistics", 6, {}, "rating.dsr.logistics"),
    ("image_count", 101, {}, "image_count"),
    ("image_count", -1, {}, "image_count"),
    ("followup", {"content": "图", "image_count": 101}, {"type": "review.followup"}, "followup.image_count"),
    # times
    ("occurred_at", "2026-03-02T10:15:00", {}, "occurred_at"),
    ("occurred_at", "2026-03-02", {}, "occurred_at"),
    ("occurred_at", "yesterday", {}, "occurred_at"),
    ("occurred_at", "2026-02-30T10:15:00+08:00", {}, "occurred_at"),
    ("occurred_at", "9999-12-31T23:59:59Z", {}, "occurred_at"),
    ("occurred_at", "0001-01-01T00:00:00+01:00", {}, "occurred_at"),
    ("occurred_at", "1970-01-01T00:00:00Z", {}, "occurred_at"),
    # NUL characters
    ("content", "快递\x00太慢", {}, "content"),
    ("review_id", "r-\x001", {}, "review_id"),
    ("buyer.nick", "to\x00ny", {}, "buyer.nick"),
    ("item.title", "\x00", {}, "item.title"),
    ("reply", {"content": "已\x00处理"}, {"type": "review.replied"}, "reply.content"),
]


@pytest.mark.parametrize(
    ("path", "value", "overrides", "field"),
    BAD_EVENTS,
    ids=[
        f"{path}={'missing' if value is DROP else repr(value)[:30]}/{overrides.get('type', 'review.created')}"
        for path, value, overrides, _f in BAD_EVENTS
    ],
)
def test_a_bad_event_is_rejected_under_its_field_path_and_changes_nothing(push, before, path, value, overrides, field):
    data = with_field(path, value, **overrides)
    response = push(data)

    def echoed(name):  # a rejected result repeats the ids it was given when they are usable strings
        value = data.get(name)
        return value if isinstance(value, str) and len(value) <= 128 else None

    assert_all_rejected(
        response, code="invalid_event", fields=[field], event_id=echoed("event_id"), review_id=echoed("review_id")
    )
    assert counts() == before


def test_every_problem_of_one_event_is_reported_at_once(push, before):
    data = event(type="review.wrong", platform="amazon", rating={"stars": 9}, buyer={"nick": "x" * 65})
    del data["occurred_at"]
    response = push(data)
    assert_all_rejected(
        response,
        code="invalid_event",
        fields=["type", "occurred_at", "platform", "buyer.id", "buyer.nick", "rating.stars"],
    )
    assert counts() == before


def test_a_rejected_revision_of_a_stored_review_leaves_the_review_and_its_ticket_alone(push, before):
    response = push(event(event_id="bad-rev", type="review.revised", review_id="r-seed", rating={"stars": 0}))
    assert_all_rejected(response, code="invalid_event", fields=["rating.stars"], event_id="bad-rev", review_id="r-seed")
    review = Review.objects.get(review_id="r-seed")
    assert (review.tier, review.stars) == ("negative", 1)
    assert Ticket.objects.get(review=review).status == "new"
    assert counts() == before


def test_an_event_that_is_not_an_object_is_rejected_as_the_whole_event(push, before):
    response = push({"events": [1, "review", None, ["x"]]})
    assert response.status_code == 400
    body = response.json()
    assert (body["accepted"], body["rejected"], body["error"]["code"]) == (0, 4, "no_event_accepted")
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3]
    for result in body["results"]:
        assert result["status"] == "rejected" and result["event_id"] is None and result["review_id"] is None
        assert result["error"]["code"] == "invalid_event"
        assert list(result["error"]["fields"]) == [""]
    assert counts() == before


# Values at their limits are accepted ----------------------------------------------------------------------


def test_content_of_exactly_2000_chinese_characters_is_accepted_and_stored_whole(push):
    response = push(event(content="差" * 2000))
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "created"
    assert Review.objects.get().content == "差" * 2000


def test_content_of_2000_four_byte_characters_is_accepted(push):
    response = push(event(content="😡" * 2000))
    assert response.status_code == 200
    assert Review.objects.get().content == "😡" * 2000


def test_every_field_at_its_limit_is_accepted(push):
    data = event(
        event_id="e" * 128,
        review_id="r" * 128,
        order_id="o" * 128,
        sub_order_id="s" * 128,
        buyer={"id": "b" * 128, "nick": "昵" * 64, "phone": "1" * 32, "region": "区" * 64},
        item={"id": "i" * 128, "sku": "k" * 128, "title": "羽" * 255, "price": "99999999.99"},
        rating={"stars": 5, "dsr": {"description": 1, "service": 5, "logistics": 1}},
        image_count=100,
    )
    response = push(data)
    assert response.status_code == 200
    assert response.json()["results"][0] == {
        "index": 0,
        "event_id": "e" * 128,
        "review_id": "r" * 128,
        "status": "created",
        "ticket_id": None,
    }
    review = Review.objects.select_related("buyer").get()
    assert (review.order_id, review.sub_order_id) == ("o" * 128, "s" * 128)
    assert (review.item_id, review.item_sku, review.item_title) == ("i" * 128, "k" * 128, "羽" * 255)
    assert review.item_price == Decimal("99999999.99")
    assert (review.stars, review.image_count) == (5, 100)
    assert (review.buyer.open_id, review.buyer.nick, review.buyer.phone, review.buyer.region) == (
        "b" * 128,
        "昵" * 64,
        "1" * 32,
        "区" * 64,
    )


@pytest.mark.parametrize(("price", "stored"), [("0", "0.00"), ("0.00", "0.00"), ("59.9", "59.90"), (59.9, "59.90")])
def test_a_price_with_at_most_two_decimals_is_accepted(push, price, stored):
    response = push(event(item={"id": "6523", "price": price}))
    assert response.status_code == 200
    assert Review.objects.get().item_price == Decimal(stored)


@pytest.mark.parametrize("stars", [1, 5])
def test_stars_1_and_5_are_accepted(push, stars):
    assert push(event(rating={"stars": stars})).status_code == 200
    assert Review.objects.get().stars == stars


def test_an_occurred_at_in_utc_with_z_is_accepted(push):
    assert push(event(occurred_at="2026-03-02T02:15:00Z")).status_code == 200
    assert Review.objects.get().rated_at.isoformat() == "2026-03-02T02:15:00+00:00"


@pytest.mark.parametrize(
    ("occurred_at", "instant"),
    [
        ("2026-03-02T10:15:00+18:00", "2026-03-01T16:15:00+00:00"),
        ("2026-03-02T10:15:00-23:59", "2026-03-03T10:14:00+00:00"),
        ("2026-03-02T10:15:00.123456+08:00", "2026-03-02T02:15:00.123456+00:00"),
    ],
)
def test_an_occurred_at_with_any_offset_python_reads_is_stored_as_its_instant(push, occurred_at, instant):
    response = push(event(occurred_at=occurred_at))
    assert response.status_code == 200
    assert Review.objects.get().rated_at.isoformat() == instant
    assert InboundEvent.objects.get().occurred_at.isoformat() == instant


def test_unknown_fields_are_ignored_and_not_stored(push):
    data = event(
        shop_name="甲店",
        extra={"nested": True, "nul": "\x00"},
        buyer={"id": "buyer-open-1", "vip_level": 7, "\x00": "x"},
        rating={"stars": 1, "tags": ["质量差"], "dsr": {"description": 2, "service": 3, "logistics": 1, "price": 9}},
    )
    response = push(data)
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "created"
    payload = InboundEvent.objects.get().payload
    assert "shop_name" not in payload and "extra" not in payload
    assert payload["buyer"] == {"id": "buyer-open-1"}
    assert payload["rating"] == {"stars": 1, "dsr": {"description": 2, "service": 3, "logistics": 1}}


def test_the_event_log_keeps_the_buyer_phone_masked(push):
    push(event())
    assert InboundEvent.objects.get().payload["buyer"]["phone"] == "138****5678"


# The body -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "invalid_json"),
        (b"   \n", "invalid_json"),
        (b"{", "invalid_json"),
        (b'{"type": "review.created",}', "invalid_json"),
        (b"NaN", "invalid_json"),
        (b'{"content": "\xff\xfe"}', "invalid_json"),
        ('{"content": "快递太慢"}'.encode("gbk"), "invalid_json"),
        (b'{"review_id": "\\ud800"}', "invalid_json"),
        (b"[" * 100_000, "invalid_json"),
        (b"[]", "invalid_body"),
        (b"null", "invalid_body"),
        (b'"review.created"', "invalid_body"),
        (b"42", "invalid_body"),
        (b'{"events": null}', "invalid_body"),
        (b'{"events": {}}', "invalid_body"),
        (b'{"events": "e-1"}', "invalid_body"),
        (b'{"events": []}', "empty_batch"),
    ],
    ids=[
        "empty",
        "whitespace",
        "truncated",
        "trailing-comma",
        "nan",
        "not-utf8",
        "gbk",
        "lone-surrogate",
        "too-deep",
        "array",
        "null",
        "string",
        "number",
        "events-null",
        "events-object",
        "events-string",
        "events-empty",
    ],
)
def test_a_bad_body_gets_400_with_its_code_and_changes_nothing(api, key_a, before, body, code):
    response = post_raw(api, body, key=key_a)
    expected_fields = ["events"] if code == "invalid_body" and body.startswith(b'{"events"') else []
    assert_error(response, 400, code, expected_fields)
    assert counts() == before


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data"]
)
def test_a_body_that_is_not_json_gets_415(api, key_a, before, content_type):
    response = post_raw(api, orjson.dumps(event()), content_type=content_type, key=key_a)
    assert_error(response, 415, "unsupported_media_type")
    assert counts() == before


def test_json_with_a_charset_parameter_is_accepted(api, key_a):
    response = post_raw(api, orjson.dumps(event()), content_type="application/json; charset=utf-8", key=key_a)
    assert response.status_code == 200
    assert Review.objects.count() == 1


def test_a_single_event_gets_the_same_envelope_as_a_batch(push):
    single = push(event()).json()
    ticket = Ticket.objects.get()
    assert single == {
        "accepted": 1,
        "rejected": 0,
        "results": [{"index": 0, "event_id": "e-1", "review_id": "r-1", "status": "created", "ticket_id": ticket.pk}],
    }
    batch = push({"events": [event(event_id="e-2", review_id="r-2")]}).json()
    assert sorted(batch) == ["accepted", "rejected", "results"]
    assert batch["results"][0]["status"] == "created"


def test_a_batch_of_501_events_gets_413_and_stores_none_of_them(push, before):
    events = [event(event_id=f"e-{i}", review_id=f"r-{i}") for i in range(501)]
    response = push({"events": events})
    assert_error(response, 413, "batch_too_large")
    assert counts() == before


def test_a_batch_of_exactly_500_events_is_accepted_in_request_order(push):
    events = [event(event_id=f"e-{i}", review_id=f"r-{i}", buyer={"id": f"b-{i % 50}"}) for i in range(500)]
    response = push({"events": events})
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (500, 0)
    assert [(r["index"], r["event_id"], r["review_id"], r["status"]) for r in body["results"]] == [
        (i, f"e-{i}", f"r-{i}", "created") for i in range(500)
    ]
    tickets = dict(Ticket.objects.values_list("review__review_id", "id"))
    assert [r["ticket_id"] for r in body["results"]] == [tickets[f"r-{i}"] for i in range(500)]
    assert (Review.objects.count(), Ticket.objects.count(), InboundEvent.objects.count(), Buyer.objects.count()) == (
        500,
        500,
        500,
        50,
    )


@functools.cache
def body_of_size(size):
    """A valid one-event body of exactly `size` bytes: real bytes, in an unknown (ignored) field."""
    skeleton = orjson.dumps(event(padding=""))
    body = orjson.dumps(event(padding="x" * (size - len(skeleton))))
    assert len(body) == size
    return body


def test_a_body_of_exactly_5_mib_is_accepted(api, key_a):
    response = post_raw(api, body_of_size(MAX_BODY), key=key_a)
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "created"
    assert Review.objects.count() == 1


def test_a_body_one_byte_over_5_mib_gets_413_and_changes_nothing(api, key_a, before):
    response = post_raw(api, body_of_size(MAX_BODY + 1), key=key_a)
    assert_error(response, 413, "body_too_large")
    assert counts() == before


def test_a_big_batch_over_5_mib_gets_413(api, key_a, before):
    events = [event(event_id=f"e-{i}", review_id=f"r-{i}", content="差" * 2000, note="填" * 2000) for i in range(450)]
    body = orjson.dumps({"events": events})
    assert len(body) > MAX_BODY
    assert_error(post_raw(api, body, key=key_a), 413, "body_too_large")
    assert counts() == before


def test_get_on_the_push_endpoint_is_405_in_the_error_shape(api, key_a):
    response = api.get(URL, HTTP_AUTHORIZATION=f"Bearer {key_a}")
    assert_error(response, 405, "method_not_allowed")


# Results per event ----------------------------------------------------------------------------------------


def test_a_mixed_batch_lands_the_good_events_and_reports_each_in_request_order(push, shop_b):
    response = push(
        {
            "events": [
                event(event_id="e-1", review_id="r-1"),
                event(event_id="e-2", review_id="r-2", rating={"stars": 0}),
                event(event_id="e-1", review_id="r-1", content="replayed"),
                event(event_id="e-4", review_id="r-4", shop="tb-unknown"),
                event(event_id="e-5", review_id="r-5", rating={"tier": "positive"}),
                event(event_id="e-6", review_id="r-6", shop="jd-b", platform="jd"),
            ]
        }
    )
    assert response.status_code == 200
    body = response.json()
    ticket = Ticket.objects.get()
    assert (body["accepted"], body["rejected"]) == (3, 3)
    assert "error" not in body
    results = body["results"]
    assert results[0] == {
        "index": 0,
        "event_id": "e-1",
        "review_id": "r-1",
        "status": "created",
        "ticket_id": ticket.pk,
    }
    assert results[2] == {
        "index": 2,
        "event_id": "e-1",
        "review_id": "r-1",
        "status": "duplicate",
        "ticket_id": ticket.pk,
    }
    assert results[4] == {"index": 4, "event_id": "e-5", "review_id": "r-5", "status": "created", "ticket_id": None}
    assert [(r["index"], r["status"], r.get("error", {}).get("code")) for r in results] == [
        (0, "created", None),
        (1, "rejected", "invalid_event"),
        (2, "duplicate", None),
        (3, "rejected", "shop_not_allowed"),
        (4, "created", None),
        (5, "rejected", "shop_not_allowed"),
    ]
    assert results[1]["error"]["fields"] == {"rating.stars": ["Must be between 1 and 5."]}
    assert sorted(Review.objects.values_list("review_id", flat=True)) == ["r-1", "r-5"]
    assert InboundEvent.objects.count() == 2


def test_when_every_event_is_rejected_the_400_keeps_the_results(push, before):
    response = push({"events": [event(event_id="x-1", rating={"stars": 6}), event(event_id="x-2", shop="tb-nope")]})
    assert response.status_code == 400
    body = response.json()
    assert sorted(body) == ["accepted", "error", "rejected", "results"]
    assert (body["accepted"], body["rejected"]) == (0, 2)
    assert body["error"]["code"] == "no_event_accepted" and body["error"]["fields"] == {}
    assert [(r["index"], r["event_id"], r["status"], r["error"]["code"]) for r in body["results"]] == [
        (0, "x-1", "rejected", "invalid_event"),
        (1, "x-2", "rejected", "shop_not_allowed"),
    ]
    assert counts() == before


# Shops, platforms and the validation order ----------------------------------------------------------------


def test_an_unknown_shop_is_shop_not_allowed(push, before):
    response = push(event(shop="tb-does-not-exist"))
    assert_all_rejected(response, code="shop_not_allowed", fields=["shop"])
    assert counts() == before


def test_a_shop_of_another_key_is_shop_not_allowed(push, shop_b, before):
    response = push(event(shop="jd-b", platform="jd"))
    assert_all_rejected(response, code="shop_not_allowed", fields=["shop"])
    assert counts() == before


def test_an_unknown_shop_and_another_keys_shop_look_the_same_so_keys_cannot_probe(push, shop_b):
    unknown = push(event(shop="jd-zz", platform="jd")).json()["results"][0]["error"]
    foreign = push(event(shop="jd-b", platform="jd")).json()["results"][0]["error"]
    assert unknown == foreign


def test_an_inactive_shop_is_shop_not_allowed(push, shop_a, before):
    shop_a.is_active = False
    shop_a.save()
    assert_all_rejected(push(event()), code="shop_not_allowed", fields=["shop"])
    assert counts() == before


def test_a_platform_that_is_not_the_shops_is_platform_mismatch(push, before):
    response = push(event(platform="jd"))
    assert_all_rejected(response, code="platform_mismatch", fields=["platform"])
    assert response.json()["results"][0]["error"]["fields"] == {"platform": ["Must be taobao."]}
    assert counts() == before


def test_a_field_problem_is_reported_before_shop_not_allowed(push, before):
    response = push(event(shop="tb-unknown", rating={"stars": 0}))
    assert_all_rejected(response, code="invalid_event", fields=["rating.stars"])


def test_shop_not_allowed_is_reported_before_platform_mismatch(push, shop_b, before):
    # jd-b is on jd; the event says taobao, and key A may not push for jd-b anyway.
    response = push(event(shop="jd-b", platform="taobao"))
    assert_all_rejected(response, code="shop_not_allowed", fields=["shop"])
    response = push(event(shop="tb-unknown", platform="pdd"))
    assert_all_rejected(response, code="shop_not_allowed", fields=["shop"])


def test_a_key_for_two_shops_pushes_for_both_and_still_gets_platform_mismatch(push, shop_a, shop_b):
    both = make_api_key(shop_a, shop_b, name="both")[1]
    response = push(
        {
            "events": [
                event(event_id="a", shop="tb-a", platform="taobao"),
                event(event_id="b", shop="jd-b", platform="jd"),
                event(event_id="c", shop="jd-b", platform="taobao"),
            ]
        },
        key=both,
    )
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["created", "created", "rejected"]
    assert response.json()["results"][2]["error"]["code"] == "platform_mismatch"
    assert sorted(Review.objects.values_list("shop__external_id", "review_id")) == [("jd-b", "r-1"), ("tb-a", "r-1")]


# Authentication -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer rdk_not-a-real-key",
        "Bearer two words",
        "Bearer kéy",
        "Basic dXNlcjpwYXNz",
        "Token rdk_not-a-real-key",
    ],
)
def test_missing_or_bad_credentials_get_401(api, before, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = api.post(URL, event(), format="json", **extra)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"
    assert counts() == before


def test_a_revoked_key_gets_401(api, shop_a, before):
    api_key, raw = make_api_key(shop_a, name="old sync")
    api_key.revoke()
    response = api.post(URL, event(), format="json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert_error(response, 401, "not_authenticated")
    assert counts() == before


def test_a_personal_token_may_not_push_events(api, agent, before):
    token = PersonalToken(user=agent, name="script")
    raw = token.set_new_key()
    token.save()
    response = api.post(URL, event(), format="json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert_error(response, 403, "permission_denied")
    assert counts() == before


@pytest.mark.parametrize("who", ["agent", "supervisor", "superuser"])
def test_a_person_logged_in_with_a_session_may_not_push_events(api, agent, supervisor, before, who):
    user = {"agent": agent, "supervisor": supervisor}.get(who) or UserFactory(is_superuser=True, is_staff=True)
    api.force_login(user)
    response = api.post(URL, event(), format="json")
    assert_error(response, 403, "permission_denied")
    assert counts() == before


def test_a_key_keeps_working_for_its_other_shop_when_one_is_deactivated(api, shop_a):
    other = ShopFactory(external_id="tb-c", platform="taobao")
    raw = make_api_key(shop_a, other)[1]
    shop_a.is_active = False
    shop_a.save()
    response = api.post(
        URL,
        {"events": [event(event_id="1"), event(event_id="2", shop="tb-c")]},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert [r["status"] for r in response.json()["results"]] == ["rejected", "created"]


# Idempotency ----------------------------------------------------------------------------------------------


def test_the_same_event_twice_is_a_duplicate_with_the_original_ticket_even_with_another_payload(push):
    first = push(event()).json()["results"][0]
    second = push(event(rating={"tier": "positive", "stars": 5}, content="好评", order_id="other")).json()
    ticket = Ticket.objects.get()
    assert first == {"index": 0, "event_id": "e-1", "review_id": "r-1", "status": "created", "ticket_id": ticket.pk}
    assert second == {
        "accepted": 1,
        "rejected": 0,
        "results": [{"index": 0, "event_id": "e-1", "review_id": "r-1", "status": "duplicate", "ticket_id": ticket.pk}],
    }
    review = Review.objects.get()
    assert (review.tier, review.stars, review.content, review.order_id) == (
        "negative",
        1,
        "快递太慢了，衣服有线头",
        "3901234567890",
    )
    assert ticket.status == "new"
    assert (Review.objects.count(), Ticket.objects.count(), InboundEvent.objects.count()) == (1, 1, 1)


def test_a_duplicate_repeats_the_ticket_of_its_original_result_not_the_current_one(push):
    created = push(event()).json()["results"][0]
    push(event(event_id="e-2", type="review.revised", occurred_at="2026-03-03T10:00:00+08:00", rating={"stars": 5}))
    push(event(event_id="e-3", type="review.revised", occurred_at="2026-03-04T10:00:00+08:00", rating={"stars": 1}))
    assert Ticket.objects.count() == 2
    again = push(event()).json()["results"][0]
    assert again["status"] == "duplicate"
    assert again["ticket_id"] == created["ticket_id"]


def test_a_duplicate_of_an_event_without_a_ticket_has_a_null_ticket_id(push):
    push(event(rating={"tier": "positive"}))
    again = push(event(rating={"tier": "positive"})).json()["results"][0]
    assert (again["status"], again["ticket_id"]) == ("duplicate", None)


def test_without_event_id_the_key_is_derived_and_a_replay_is_a_duplicate(push):
    data = event()
    del data["event_id"]
    first = push(data).json()["results"][0]
    second = push(data).json()["results"][0]
    assert first["event_id"] is None and first["status"] == "created"
    assert (second["status"], second["ticket_id"]) == ("duplicate", first["ticket_id"])
    assert InboundEvent.objects.count() == 1
    assert InboundEvent.objects.get().event_id == ""


def test_the_derived_key_compares_occurred_at_as_an_instant(push):
    data = event(occurred_at="2026-03-02T10:15:00+08:00")
    del data["event_id"]
    push(data)
    for same_instant in ("2026-03-02T02:15:00Z", "2026-03-02T02:15:00+00:00", "2026-03-02T03:15:00.000+01:00"):
        data["occurred_at"] = same_instant
        assert push(data).json()["results"][0]["status"] == "duplicate"
    assert InboundEvent.objects.count() == 1


@pytest.mark.parametrize(
    "change",
    [{"occurred_at": "2026-03-02T10:15:01+08:00"}, {"type": "review.revised"}, {"review_id": "r-2"}],
    ids=["another-instant", "another-type", "another-review"],
)
def test_the_derived_key_differs_when_instant_type_or_review_differs(push, change):
    data = event()
    del data["event_id"]
    push(data)
    data.update(change)
    assert push(data).json()["results"][0]["status"] != "duplicate"
    assert InboundEvent.objects.count() == 2


def test_an_event_id_is_unique_per_shop_not_across_shops(push, key_b, shop_b):
    assert push(event()).json()["results"][0]["status"] == "created"
    other = push(event(shop="jd-b", platform="jd"), key=key_b).json()["results"][0]
    assert other["status"] == "created"
    assert Review.objects.count() == 2 and InboundEvent.objects.count() == 2


def test_duplicates_inside_one_batch_are_reported_as_duplicates_of_the_first(push):
    derived = event(event_id=None, review_id="r-2")
    derived_utc = event(event_id=None, review_id="r-2", occurred_at="2026-03-02T02:15:00Z")
    response = push({"events": [event(), event(content="again"), derived, derived_utc, event()]})
    assert response.status_code == 200
    body = response.json()
    tickets = dict(Ticket.objects.values_list("review__review_id", "id"))
    assert body["accepted"] == 5
    assert [(r["status"], r["ticket_id"]) for r in body["results"]] == [
        ("created", tickets["r-1"]),
        ("duplicate", tickets["r-1"]),
        ("created", tickets["r-2"]),
        ("duplicate", tickets["r-2"]),
        ("duplicate", tickets["r-1"]),
    ]
    assert Review.objects.get(review_id="r-1").content == "快递太慢了，衣服有线头"
    assert (Review.objects.count(), Ticket.objects.count(), InboundEvent.objects.count()) == (2, 2, 2)


def test_a_rejected_event_claims_no_idempotency_key(push):
    bad = push(event(rating={"stars": 0}))
    assert bad.status_code == 400
    good = push(event())
    assert good.json()["results"][0]["status"] == "created"

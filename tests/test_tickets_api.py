"""GET /api/v1/tickets/ and /api/v1/tickets/{id}/ against API.md § Tickets: who sees what, every
filter, cursor pagination, the shape, masked personal data, and a fixed number of queries."""

import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from contacts.models import Buyer
from reviews.models import PersonalToken, Review
from tickets.choices import CLOSED_STATUSES
from tickets.models import ContactAttempt, Remedy, Ticket, TicketEvent

from .conftest import event
from .factories import UserFactory, make_api_key

pytestmark = pytest.mark.django_db

URL = "/api/v1/tickets/"
CST = timezone(timedelta(hours=8))
_seq = itertools.count(1)


def when(text):
    """`03-02 10:15` -> 2026-03-02 10:15 China time."""
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=CST)


def make_ticket(shop, *, created_at, order_id=None, nick="", phone="", content="", tier="negative", **fields):
    """A ticket with its review and buyer, written directly: the filters need exact values."""
    n = next(_seq)
    buyer = Buyer.objects.create(platform=shop.platform, open_id=f"open-{n}", nick=nick, phone=phone)
    review = Review.objects.create(
        shop=shop,
        platform=shop.platform,
        review_id=f"r-{n}",
        state="active",
        order_id=order_id or f"O-{n}",
        buyer=buyer,
        tier=tier,
        stars=1,
        content=content,
    )
    status = fields.pop("status", "new")
    return Ticket.objects.create(
        review=review,
        shop=shop,
        platform=shop.platform,
        tier=tier,
        status=status,
        created_at=created_at,
        closed_at=created_at + timedelta(hours=1) if status in CLOSED_STATUSES else None,
        **fields,
    )


def make_many(shop, count):
    """`count` bare tickets in one go, oldest first."""
    reviews = Review.objects.bulk_create(
        [
            Review(shop=shop, platform=shop.platform, review_id=f"bulk-{next(_seq)}", state="active", tier="negative")
            for _ in range(count)
        ]
    )
    return Ticket.objects.bulk_create(
        [Ticket(review=r, shop=shop, platform=shop.platform, tier="negative") for r in reviews]
    )


def bearer(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def assert_error(response, status, code, fields=()):
    assert response.status_code == status
    body = response.json()
    assert list(body) == ["error"]
    assert sorted(body["error"]) == ["code", "fields", "message"]
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert sorted(body["error"]["fields"]) == sorted(fields)


@pytest.fixture
def key_ab(shop_a, shop_b):
    return make_api_key(shop_a, shop_b, name="both shops")[1]


@pytest.fixture
def desk(shop_a, shop_b, agent, agent_b, supervisor):
    """Five tickets across both shops with every filtered attribute varied; newest id last."""
    return {
        "a_new": make_ticket(
            shop_a, created_at=when("03-01 12:00"), order_id="A-1001", nick="Tony", content="快递太慢了"
        ),
        "a_assigned": make_ticket(
            shop_a,
            created_at=when("03-02 00:30"),  # 2026-03-01T16:30Z: the 2nd in China, the 1st in UTC
            order_id="A-1002",
            nick="小红",
            content="颜色和图片不一样",
            tier="neutral",
            status="assigned",
            assignee=agent,
            cause="not_as_described",
            sla_state="warning",
        ),
        "a_resolved": make_ticket(
            shop_a,
            created_at=when("03-02 10:15"),
            order_id="A-1003",
            nick="阿强",
            content="质量太差，开线了",
            status="resolved",
            assignee=agent,
            cause="poor_quality",
            outcome="revised_positive",
            outcome_verified=True,
        ),
        "a_closed": make_ticket(
            shop_a,
            created_at=when("03-03 09:00"),
            order_id="X-2001",
            nick="路人甲",
            content="不想要了",
            status="closed_unresolved",
            assignee=supervisor,
            outcome="buyer_refused",
            sla_state="breached",
        ),
        "b_new": make_ticket(
            shop_b,
            created_at=when("03-02 12:00"),
            order_id="JD-1",
            nick="tonya",
            content="物流慢",
            assignee=agent_b,
        ),
    }


def names(desk, response):
    by_id = {ticket.pk: name for name, ticket in desk.items()}
    return [by_id[i] for i in ids(response)]


def newest_first(desk, *wanted):
    return sorted(wanted, key=lambda name: -desk[name].pk)


# Who sees what --------------------------------------------------------------------------------------------


def test_a_key_sees_only_its_shops_tickets(api, key_a, key_b, desk):
    assert names(desk, api.get(URL, **bearer(key_a))) == newest_first(
        desk, "a_new", "a_assigned", "a_resolved", "a_closed"
    )
    assert names(desk, api.get(URL, **bearer(key_b))) == ["b_new"]


def test_a_key_gets_404_for_another_shops_ticket_as_for_a_missing_one(api, key_a, desk):
    foreign = api.get(f"{URL}{desk['b_new'].pk}/", **bearer(key_a))
    missing = api.get(f"{URL}999999/", **bearer(key_a))
    assert_error(foreign, 404, "not_found")
    assert_error(missing, 404, "not_found")
    assert foreign.json() == missing.json()


def test_a_key_reads_its_own_ticket(api, key_a, desk):
    response = api.get(f"{URL}{desk['a_new'].pk}/", **bearer(key_a))
    assert response.status_code == 200
    assert response.json()["id"] == desk["a_new"].pk


def test_an_outsider_sees_an_empty_list_and_no_ticket(api, outsider, desk):
    api.force_login(outsider)
    response = api.get(URL)
    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": []}
    assert_error(api.get(f"{URL}{desk['a_new'].pk}/"), 404, "not_found")


def test_an_agent_logged_in_sees_the_tickets_of_their_shops(api, agent, agent_b, desk):
    api.force_login(agent)
    assert names(desk, api.get(URL)) == newest_first(desk, "a_new", "a_assigned", "a_resolved", "a_closed")
    assert_error(api.get(f"{URL}{desk['b_new'].pk}/"), 404, "not_found")
    api.force_login(agent_b)
    assert names(desk, api.get(URL)) == ["b_new"]
    assert api.get(f"{URL}{desk['b_new'].pk}/").status_code == 200


def test_a_supervisor_sees_only_the_shops_they_supervise(api, supervisor, desk):
    api.force_login(supervisor)
    assert names(desk, api.get(URL)) == newest_first(desk, "a_new", "a_assigned", "a_resolved", "a_closed")


def test_a_personal_token_acts_as_its_person(api, agent, desk):
    token = PersonalToken(user=agent, name="script")
    raw = token.set_new_key()
    token.save()
    assert names(desk, api.get(URL, **bearer(raw))) == newest_first(
        desk, "a_new", "a_assigned", "a_resolved", "a_closed"
    )


@pytest.mark.parametrize("header", [None, "Bearer rdk_nope", "Bearer"])
def test_without_valid_credentials_the_ticket_list_and_detail_are_401(api, desk, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    assert_error(api.get(URL, **extra), 401, "not_authenticated")
    assert_error(api.get(f"{URL}{desk['a_new'].pk}/", **extra), 401, "not_authenticated")


def test_a_revoked_key_reads_nothing(api, shop_a, desk):
    api_key, raw = make_api_key(shop_a)
    api_key.revoke()
    assert_error(api.get(URL, **bearer(raw)), 401, "not_authenticated")


def test_the_ticket_list_is_read_only(api, key_a, desk):
    assert_error(api.post(URL, {}, format="json", **bearer(key_a)), 405, "method_not_allowed")
    assert_error(api.delete(f"{URL}{desk['a_new'].pk}/", **bearer(key_a)), 405, "method_not_allowed")
    assert Ticket.objects.count() == 5


# Filters --------------------------------------------------------------------------------------------------

FILTER_CASES = [
    ({"status": "new"}, ["a_new", "b_new"]),
    ({"status": ["new", "assigned"]}, ["a_new", "a_assigned", "b_new"]),
    ({"status": "resolved"}, ["a_resolved"]),
    ({"status": "reopened"}, []),
    ({"assignee": "none"}, ["a_new"]),
    ({"shop": "tb-a"}, ["a_new", "a_assigned", "a_resolved", "a_closed"]),
    ({"shop": "jd-b"}, ["b_new"]),
    ({"shop": "tb-nope"}, []),
    ({"platform": "jd"}, ["b_new"]),
    ({"platform": "taobao"}, ["a_new", "a_assigned", "a_resolved", "a_closed"]),
    ({"platform": "tmall"}, []),
    ({"tier": "neutral"}, ["a_assigned"]),
    ({"tier": "negative"}, ["a_new", "a_resolved", "a_closed", "b_new"]),
    ({"cause": "poor_quality"}, ["a_resolved"]),
    ({"cause": "not_as_described"}, ["a_assigned"]),
    ({"sla": "ok"}, ["a_new", "a_resolved", "b_new"]),
    ({"sla": "warning"}, ["a_assigned"]),
    ({"sla": "breached"}, ["a_closed"]),
    ({"outcome": "buyer_refused"}, ["a_closed"]),
    ({"outcome": "revised_positive"}, ["a_resolved"]),
    ({"verified": "true"}, ["a_resolved"]),
    ({"verified": "false"}, ["a_new", "a_assigned", "a_closed", "b_new"]),
    # dates are whole days in China time
    ({"created_after": "2026-03-02"}, ["a_assigned", "a_resolved", "a_closed", "b_new"]),
    ({"created_before": "2026-03-01"}, ["a_new"]),
    ({"created_before": "2026-03-02"}, ["a_new", "a_assigned", "a_resolved", "b_new"]),
    ({"created_after": "2026-03-02", "created_before": "2026-03-02"}, ["a_assigned", "a_resolved", "b_new"]),
    ({"created_after": "2026-03-04"}, []),
    # date-times are instants, both bounds inclusive
    ({"created_after": "2026-03-02T10:15:00+08:00"}, ["a_resolved", "a_closed", "b_new"]),
    ({"created_after": "2026-03-02T02:15:00Z"}, ["a_resolved", "a_closed", "b_new"]),
    ({"created_after": "2026-03-02T10:15:01+08:00"}, ["a_closed", "b_new"]),
    ({"created_before": "2026-03-02T10:15:00+08:00"}, ["a_new", "a_assigned", "a_resolved"]),
    ({"created_before": "2026-03-01T16:30:00Z"}, ["a_new", "a_assigned"]),
    ({"created_before": "2026-03-02T00:29:59+08:00"}, ["a_new"]),
    ({"created_after": "2026-03-02T10:15:00"}, ["a_resolved", "a_closed", "b_new"]),  # naive: China time
    # q: case-insensitive substring of order id, buyer nick or review text
    ({"q": "1002"}, ["a_assigned"]),
    ({"q": "x-20"}, ["a_closed"]),
    ({"q": "TONY"}, ["a_new", "b_new"]),
    ({"q": "小红"}, ["a_assigned"]),
    ({"q": "开线"}, ["a_resolved"]),
    ({"q": "  物流  "}, ["b_new"]),
    ({"q": "没有这个"}, []),
    # together: all must hold
    ({"shop": "tb-a", "status": "new"}, ["a_new"]),
    ({"tier": "negative", "verified": "false", "platform": "taobao"}, ["a_new", "a_closed"]),
    ({"q": "tony", "shop": "jd-b"}, ["b_new"]),
]


@pytest.mark.parametrize(("params", "expected"), FILTER_CASES, ids=[str(p) for p, _e in FILTER_CASES])
def test_each_filter_narrows_the_list(api, key_ab, desk, params, expected):
    assert names(desk, api.get(URL, params, **bearer(key_ab))) == newest_first(desk, *expected)


def test_assignee_filters_by_user_id(api, key_ab, desk, agent, agent_b):
    assert names(desk, api.get(URL, {"assignee": agent.pk}, **bearer(key_ab))) == newest_first(
        desk, "a_assigned", "a_resolved"
    )
    assert names(desk, api.get(URL, {"assignee": agent_b.pk}, **bearer(key_ab))) == ["b_new"]
    assert names(desk, api.get(URL, {"assignee": 999999}, **bearer(key_ab))) == []


def test_assignee_me_is_the_logged_in_person(api, desk, agent, supervisor):
    api.force_login(agent)
    assert names(desk, api.get(URL, {"assignee": "me"})) == newest_first(desk, "a_assigned", "a_resolved")
    api.force_login(supervisor)
    assert names(desk, api.get(URL, {"assignee": "me"})) == ["a_closed"]


def test_assignee_me_for_an_integration_key_is_nobody(api, key_ab, desk):
    assert names(desk, api.get(URL, {"assignee": "me"}, **bearer(key_ab))) == []


def test_the_shop_filter_never_reaches_a_shop_the_caller_cannot_see(api, key_a, desk):
    assert names(desk, api.get(URL, {"shop": "jd-b"}, **bearer(key_a))) == []


BAD_FILTERS = [
    ({"status": "open"}, "status"),
    ({"status": ["new", "bogus"]}, "status"),
    ({"assignee": "someone"}, "assignee"),
    ({"assignee": "-1"}, "assignee"),
    ({"assignee": "1.5"}, "assignee"),
    ({"assignee": "²"}, "assignee"),
    ({"platform": "amazon"}, "platform"),
    ({"tier": "bad"}, "tier"),
    ({"sla": "late"}, "sla"),
    ({"outcome": "refunded"}, "outcome"),
    ({"verified": "yes"}, "verified"),
    ({"verified": "1"}, "verified"),
    ({"created_after": "yesterday"}, "created_after"),
    ({"created_after": "2026-02-30"}, "created_after"),
    ({"created_before": "2026-13-01T00:00:00Z"}, "created_before"),
    ({"created_before": "03/02/2026"}, "created_before"),
    ({"created_after": "0001-01-01T00:00:00+01:00"}, "created_after"),
    ({"q": "x" * 201}, "q"),
    ({"q": "a\x00b"}, "q"),
    ({"page_size": "0"}, "page_size"),
    ({"page_size": "-5"}, "page_size"),
    ({"page_size": "ten"}, "page_size"),
    ({"cursor": "not-a-cursor"}, "cursor"),
]


@pytest.mark.parametrize(("params", "field"), BAD_FILTERS, ids=[str(p)[:40] for p, _f in BAD_FILTERS])
def test_a_bad_filter_value_is_400_invalid_filter_naming_the_field(api, key_ab, desk, params, field):
    assert_error(api.get(URL, params, **bearer(key_ab)), 400, "invalid_filter", [field])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"created_after": "2026-03-02T10:15:00+18:00"}, ["a_assigned", "a_resolved", "a_closed", "b_new"]),
        ({"created_before": "2026-03-01T20:15:00-12:00"}, ["a_new", "a_assigned", "a_resolved", "b_new"]),
        ({"created_before": "9999-12-31"}, ["a_new", "a_assigned", "a_resolved", "a_closed", "b_new"]),
        ({"created_after": "0001-01-01"}, ["a_new", "a_assigned", "a_resolved", "a_closed", "b_new"]),
        ({"assignee": "99999999999999999999"}, []),
    ],
)
def test_extreme_but_valid_filter_values_never_cause_a_5xx(api, key_ab, desk, params, expected):
    assert names(desk, api.get(URL, params, **bearer(key_ab))) == newest_first(desk, *expected)


# Pagination -----------------------------------------------------------------------------------------------


def test_pages_are_newest_first_with_next_and_previous_links(api, key_a, shop_a):
    tickets = make_many(shop_a, 5)
    newest = [t.pk for t in reversed(tickets)]
    first = api.get(URL, {"page_size": 2}, **bearer(key_a))
    body = first.json()
    assert ids(first) == newest[:2]
    assert body["previous"] is None and body["next"] is not None
    second = api.get(body["next"], **bearer(key_a))
    assert ids(second) == newest[2:4]
    third = api.get(second.json()["next"], **bearer(key_a))
    assert ids(third) == newest[4:]
    assert third.json()["next"] is None
    back = api.get(second.json()["previous"], **bearer(key_a))
    assert ids(back) == newest[:2]
    assert sorted(third.json()) == ["next", "previous", "results"]


def test_the_next_link_keeps_the_filters(api, key_ab, shop_a, shop_b):
    make_many(shop_a, 3)
    b_tickets = make_many(shop_b, 3)
    make_many(shop_a, 3)
    first = api.get(URL, {"shop": "jd-b", "page_size": 2}, **bearer(key_ab))
    second = api.get(first.json()["next"], **bearer(key_ab))
    assert ids(first) + ids(second) == [t.pk for t in reversed(b_tickets)]
    assert second.json()["next"] is None


def test_a_ticket_opened_while_paging_does_not_shift_the_next_page(api, key_a, shop_a):
    tickets = make_many(shop_a, 4)
    first = api.get(URL, {"page_size": 2}, **bearer(key_a))
    make_many(shop_a, 1)
    assert ids(api.get(first.json()["next"], **bearer(key_a))) == [tickets[1].pk, tickets[0].pk]


def test_the_default_page_is_50_tickets(api, key_a, shop_a):
    tickets = make_many(shop_a, 51)
    first = api.get(URL, **bearer(key_a))
    assert ids(first) == [t.pk for t in reversed(tickets)][:50]
    assert ids(api.get(first.json()["next"], **bearer(key_a))) == [tickets[0].pk]


def test_page_size_is_clamped_to_200(api, key_a, shop_a):
    make_many(shop_a, 201)
    response = api.get(URL, {"page_size": 1000}, **bearer(key_a))
    assert len(ids(response)) == 200
    assert response.json()["next"] is not None
    assert len(ids(api.get(URL, {"page_size": 200}, **bearer(key_a)))) == 200
    assert len(ids(api.get(URL, {"page_size": 7}, **bearer(key_a)))) == 7


# Shape and personal data ----------------------------------------------------------------------------------


def iso(value):
    return serializers.DateTimeField().to_representation(value) if value is not None else None


def pushed_ticket(push, **overrides):
    data = event(buyer={"id": "buyer-open-1", "nick": "王小明Tony", "phone": "13955556666", "region": "浙江 杭州"})
    data.update(overrides)
    assert push(data).status_code == 200
    return Ticket.objects.get(review__review_id=data["review_id"])


def expected_row(ticket):
    return {
        "id": ticket.pk,
        "status": "new",
        "tier": "negative",
        "shop": "tb-a",
        "platform": "taobao",
        "assignee": None,
        "review": {
            "review_id": "r-1",
            "order_id": "3901234567890",
            "tier": "negative",
            "stars": 1,
            "dsr": {"description": 2, "service": 3, "logistics": 1},
            "content": "快递太慢了，衣服有线头",
            "image_count": 2,
            "followup": None,
            "reply": None,
        },
        "buyer": {"id": "buyer-open-1", "nick": "王***y", "phone": "139****6666"},
        "sla": {
            "state": ticket.sla_state,
            "first_contact_due_at": iso(ticket.first_contact_due_at),
            "resolution_due_at": iso(ticket.resolution_due_at),
            "first_contact_at": None,
            "first_reached_at": None,
        },
        "cause": None,
        "outcome": None,
        "verified": False,
        "created_at": iso(ticket.created_at),
        "closed_at": None,
    }


def test_a_list_row_has_exactly_the_contract_fields_with_the_current_review(api, key_a, push):
    ticket = pushed_ticket(push)
    assert api.get(URL, **bearer(key_a)).json()["results"] == [expected_row(ticket)]


def test_the_detail_adds_contact_attempts_remedies_and_timeline(api, key_a, push, agent):
    ticket = pushed_ticket(push)
    attempt = ContactAttempt.objects.create(
        ticket=ticket, agent=agent, channel="im", result="message_sent", note="已留言"
    )
    remedy = Remedy.objects.create(ticket=ticket, kind="partial_refund", amount=Decimal("10.00"), status="offered")
    ticket.refresh_from_db()
    body = api.get(f"{URL}{ticket.pk}/", **bearer(key_a)).json()
    assert {k: v for k, v in body.items() if k not in ("contact_attempts", "remedies", "timeline")} == expected_row(
        ticket
    )
    assert body["contact_attempts"] == [
        {
            "id": attempt.pk,
            "channel": "im",
            "result": "message_sent",
            "note": "已留言",
            "agent": {"id": agent.pk, "name": "agent_a"},
            "created_at": iso(attempt.created_at),
        }
    ]
    assert body["remedies"] == [
        {
            "id": remedy.pk,
            "kind": "partial_refund",
            "amount": "10.00",
            "status": "offered",
            "note": "",
            "created_at": iso(remedy.created_at),
        }
    ]
    opened = TicketEvent.objects.get(ticket=ticket, kind="opened")
    assert body["timeline"][0] == {
        "id": opened.pk,
        "kind": "opened",
        "actor": "API key: shop A sync",
        "from_status": "",
        "to_status": "new",
        "message": opened.message,
        "data": {"event": "review.created", "tier": "negative", "stars": 1},
        "created_at": iso(opened.created_at),
    }
    assert [e["id"] for e in body["timeline"]] == list(ticket.timeline.values_list("id", flat=True))


def test_the_review_in_a_ticket_is_its_current_state_with_followup_and_reply(api, key_a, push):
    ticket = pushed_ticket(push)
    base = {"platform": "taobao", "shop": "tb-a", "review_id": "r-1"}
    push(
        {
            **base,
            "event_id": "f",
            "type": "review.followup",
            "occurred_at": "2026-03-04T09:00:00+08:00",
            "followup": {"content": "用了几天又坏了", "image_count": 1, "negative": True},
        }
    )
    push(
        {
            **base,
            "event_id": "p",
            "type": "review.replied",
            "occurred_at": "2026-03-04T10:00:00+08:00",
            "reply": {"content": "亲，已补发"},
        }
    )
    push(
        {
            **base,
            "event_id": "v",
            "type": "review.revised",
            "occurred_at": "2026-03-05T10:00:00+08:00",
            "rating": {"stars": 3},
        }
    )
    review = api.get(f"{URL}{ticket.pk}/", **bearer(key_a)).json()["review"]
    assert (review["tier"], review["stars"]) == ("neutral", 3)
    assert review["followup"] == {
        "content": "用了几天又坏了",
        "image_count": 1,
        "negative": True,
        "occurred_at": "2026-03-04T09:00:00+08:00",
    }
    assert review["reply"] == {"content": "亲，已补发", "occurred_at": "2026-03-04T10:00:00+08:00"}


@pytest.mark.parametrize("who", ["key", "agent", "supervisor"])
def test_the_buyers_nick_and_phone_never_appear_unmasked(api, key_a, push, agent, supervisor, who):
    ticket = pushed_ticket(push)
    if who == "key":
        headers = bearer(key_a)
    else:
        api.force_login(agent if who == "agent" else supervisor)
        headers = {}
    for path in (URL, f"{URL}{ticket.pk}/", f"{URL}?q=王小明"):
        response = api.get(path, **headers)
        assert response.status_code == 200
        text = response.content.decode()
        assert "王小明" not in text and "Tony" not in text
        assert "13955556666" not in text and "5555" not in text
        assert "王***y" in text and "139****6666" in text


def test_a_ticket_without_a_buyer_has_a_null_buyer(api, key_a, shop_a):
    [ticket] = make_many(shop_a, 1)
    assert api.get(URL, **bearer(key_a)).json()["results"][0]["buyer"] is None
    assert api.get(f"{URL}{ticket.pk}/", **bearer(key_a)).json()["buyer"] is None


# A fixed number of queries --------------------------------------------------------------------------------


def busy_tickets(shop, count, *, agent, rows_each=3):
    """Tickets with everything a row or a detail shows: assignee, buyer, timeline, attempts, remedies."""
    tickets = []
    for i in range(count):
        ticket = make_ticket(
            shop,
            created_at=when("03-02 10:00"),
            nick=f"买家{i}",
            phone="13800000000",
            assignee=agent,
            status="assigned",
        )
        TicketEvent.objects.bulk_create(
            [TicketEvent(ticket=ticket, kind="note", actor=agent, message=f"备注{j}") for j in range(rows_each)]
        )
        ContactAttempt.objects.bulk_create(
            [ContactAttempt(ticket=ticket, agent=agent, channel="phone", result="busy") for _ in range(rows_each)]
        )
        Remedy.objects.bulk_create(
            [
                Remedy(ticket=ticket, kind="coupon", amount=Decimal("5.00"), status="offered", offered_by=agent)
                for _ in range(rows_each)
            ]
        )
        tickets.append(ticket)
    return tickets


def count_queries(api, path, **headers):
    api.get(path, **headers)  # warm: a key's last-used time is written at most once a minute
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(path, **headers)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_the_list_runs_the_same_queries_for_3_and_30_tickets(api, key_a, shop_a, agent):
    busy_tickets(shop_a, 3, agent=agent)
    few, response = count_queries(api, URL, **bearer(key_a))
    assert len(response.json()["results"]) == 3
    busy_tickets(shop_a, 27, agent=agent)
    many, response = count_queries(api, URL, **bearer(key_a))
    assert len(response.json()["results"]) == 30
    # The key and its shops come from the per-process key cache (reviews.authentication).
    assert few == many == 1


def test_the_list_for_a_logged_in_agent_runs_the_same_queries_for_3_and_30_tickets(api, shop_a, agent):
    api.force_login(agent)
    busy_tickets(shop_a, 3, agent=agent)
    few, _r = count_queries(api, URL)
    busy_tickets(shop_a, 27, agent=agent)
    many, response = count_queries(api, URL)
    assert len(response.json()["results"]) == 30
    assert few == many


def test_the_detail_runs_the_same_queries_for_3_and_30_timeline_rows(api, key_a, shop_a, agent):
    [small] = busy_tickets(shop_a, 1, agent=agent, rows_each=3)
    [large] = busy_tickets(shop_a, 1, agent=agent, rows_each=30)
    few, response = count_queries(api, f"{URL}{small.pk}/", **bearer(key_a))
    assert len(response.json()["timeline"]) == 3
    many, response = count_queries(api, f"{URL}{large.pk}/", **bearer(key_a))
    body = response.json()
    assert (len(body["timeline"]), len(body["contact_attempts"]), len(body["remedies"])) == (30, 30, 30)
    assert few == many == 5  # the key and its shops come from the key cache


def test_filters_add_no_queries_per_row(api, key_a, shop_a, agent):
    busy_tickets(shop_a, 3, agent=agent)
    params = "?status=assigned&assignee=none&q=买家&created_after=2026-03-01&verified=false&sla=ok"
    few, _r = count_queries(api, URL + params, **bearer(key_a))
    busy_tickets(shop_a, 27, agent=agent)
    many, _r = count_queries(api, URL + params.replace("assignee=none", f"assignee={agent.pk}"), **bearer(key_a))
    assert few == many


def test_a_superuser_sees_every_shop(api, desk):
    api.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert len(ids(api.get(URL))) == 5

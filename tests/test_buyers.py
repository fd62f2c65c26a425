"""Buyers across shops (issue 5): counters kept by buyer_stats_refresh, the buyer API and page
scoped to the caller's shops, notes, list marks and the evidence pack."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from contacts.models import BuyerNote, BuyerStats
from contacts.services import buyer_note_add, buyer_stats_refresh
from contacts.testing import days_ago, make_attempt, make_buyer, make_review, make_ticket
from tickets.choices import Role, TicketStatus
from tickets.models import Remedy, TicketEvent

from .factories import make_agent

pytestmark = pytest.mark.django_db


def api_as(user):
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


def page_as(user):
    client = Client()
    client.force_login(user)
    return client


def url(buyer, action=""):
    return f"/api/v1/buyers/{buyer.pk}/" + (f"{action}/" if action else "")


def assert_error(response, status, code, fields=()):
    assert response.status_code == status, response.content
    body = response.json()
    assert list(body) == ["error"] and sorted(body["error"]) == ["code", "fields", "message"]
    assert body["error"]["code"] == code and body["error"]["message"]
    assert sorted(body["error"]["fields"]) == sorted(fields)


@pytest.fixture
def history(shop_a, shop_b, agent):
    """A buyer with reviews and tickets in shop A and shop B, contacts and a remedy in shop A."""
    buyer = make_buyer()
    a1 = make_ticket(buyer, shop_a, review=make_review(buyer, shop_a, content="A店差评"), assignee=agent)
    make_ticket(
        buyer,
        shop_a,
        review=make_review(buyer, shop_a, tier="neutral", rated_at=days_ago(60)),
        status=TicketStatus.RESOLVED,
        outcome="revised_positive",
    )
    make_review(buyer, shop_a, tier="positive", rated_at=days_ago(90))
    make_ticket(
        buyer,
        shop_b,
        review=make_review(buyer, shop_b, content="B店差评"),
        status=TicketStatus.CLOSED_UNRESOLVED,
        outcome="buyer_refused",
    )
    make_attempt(a1, at=days_ago(0, 2), channel="im", result="message_sent", agent=agent)
    make_attempt(a1, at=days_ago(0, 1), result="reached", agent=agent)
    Remedy.objects.create(ticket=a1, kind="coupon", amount=Decimal("10.00"), status="offered", offered_by=agent)
    TicketEvent.objects.create(ticket=a1, kind="note", actor=agent, message="买家说快递员态度差")
    buyer_note_add(buyer.pk, agent, tags=["impatient", "phone_only"], text="下午才接电话")
    buyer_stats_refresh([buyer.pk])
    return {"buyer": buyer, "ticket": a1}


# Counters ---------------------------------------------------------------------------------------------


def test_the_counters_count_reviews_by_tier_shops_tickets_and_outcomes_across_all_shops(history):
    stats = BuyerStats.objects.get(buyer=history["buyer"])
    assert (
        stats.reviews_total,
        stats.reviews_positive,
        stats.reviews_neutral,
        stats.reviews_negative,
        stats.shops_reviewed,
    ) == (4, 1, 1, 2, 2)
    assert (stats.tickets_total, stats.tickets_open, stats.tickets_resolved) == (3, 1, 1)
    assert stats.outcomes == {"revised_positive": 1, "buyer_refused": 1}
    assert stats.last_review_at is not None


def test_a_refresh_recomputes_from_scratch_and_a_buyer_without_reviews_gets_zeros(history, shop_a):
    buyer = history["buyer"]
    make_review(buyer, shop_a, tier="negative")
    empty = make_buyer()
    result = buyer_stats_refresh([buyer.pk, empty.pk, buyer.pk])
    assert result[buyer.pk].reviews_negative == 3
    assert BuyerStats.objects.get(buyer=buyer).reviews_total == 5
    assert BuyerStats.objects.get(buyer=empty).reviews_total == 0
    assert buyer_stats_refresh([]) == {}


def test_the_refresh_runs_three_queries_for_2_or_40_buyers(shop_a, shop_b):
    def batch(n):
        buyers = [make_buyer() for _ in range(n)]
        for i, buyer in enumerate(buyers):
            make_ticket(buyer, shop_a if i % 2 else shop_b, outcome="revised_positive" if i % 3 else "")
            make_review(buyer, shop_a, tier="positive")
        return [b.pk for b in buyers]

    counts = []
    for ids in (batch(2), batch(40)):
        with CaptureQueriesContext(connection) as ctx:
            buyer_stats_refresh(ids)
        counts.append(len(ctx.captured_queries))
    assert counts == [3, 3]
    assert BuyerStats.objects.count() == 42


# The buyer API ---------------------------------------------------------------------------------------


def test_the_buyer_api_shows_the_profile_with_history_in_the_callers_shops_only(history, agent):
    buyer = history["buyer"]
    body = api_as(agent).get(url(buyer)).json()

    assert list(body) == [
        "id",
        "platform",
        "open_id",
        "nick",
        "phone",
        "region",
        "time_zone",
        "first_seen_at",
        "last_seen_at",
        "counters",
        "risk",
        "list_mark",
        "best_contact_time",
        "reviews",
        "tickets",
        "notes",
        "contact_attempts",
        "remedies",
    ]
    assert (body["id"], body["open_id"], body["nick"], body["phone"]) == (
        buyer.pk,
        buyer.open_id,
        "t***y",
        "138****5678",
    )
    # Counters and risk are about the person, across every shop.
    assert body["counters"]["reviews_total"] == 4 and body["counters"]["shops_reviewed"] == 2
    assert body["risk"] == {"score": 0, "level": "low", "reasons": [], "assessed_at": None}
    assert body["list_mark"] == {"mark": "none", "reason": "", "by": None, "at": None}
    assert set(body["best_contact_time"]) == {"label", "reason"}
    # History only from shop A, the agent's shop.
    assert {r["shop"] for r in body["reviews"]} == {"tb-a"} and len(body["reviews"]) == 3
    assert "B店差评" not in str(body)
    assert {t["shop"] for t in body["tickets"]} == {"tb-a"} and len(body["tickets"]) == 2
    assert [(a["channel"], a["result"]) for a in body["contact_attempts"]] == [
        ("phone", "reached"),
        ("im", "message_sent"),
    ]
    assert [(r["kind"], r["amount"], r["ticket"]) for r in body["remedies"]] == [
        ("coupon", "10.00", history["ticket"].pk)
    ]
    assert body["notes"][0]["tags"] == [
        {"code": "impatient", "label": "Impatient"},
        {"code": "phone_only", "label": "Answers the phone only"},
    ]
    assert body["notes"][0]["text"] == "下午才接电话"


def test_a_buyer_who_never_reviewed_the_callers_shops_is_404(history, agent_b, outsider, shop_b):
    only_a = make_buyer()
    make_review(only_a, history["ticket"].shop)
    assert_error(api_as(agent_b).get(url(only_a)), 404, "not_found")
    assert_error(api_as(outsider).get(url(history["buyer"])), 404, "not_found")
    assert api_as(agent_b).get(url(history["buyer"])).status_code == 200
    assert_error(api_as(agent_b).get("/api/v1/buyers/999999/"), 404, "not_found")


def test_an_integration_key_reads_its_shops_buyers_but_may_not_write(api, history, key_a, key_b):
    buyer = history["buyer"]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key_a}"}
    body = api.get(url(buyer), **headers).json()
    assert {r["shop"] for r in body["reviews"]} == {"tb-a"}
    for action, payload in [
        ("reveal", {"field": "phone", "reason": "x"}),
        ("notes", {"tags": ["impatient"]}),
        ("list-mark", {"mark": "blacklist", "reason": "x"}),
    ]:
        assert_error(api.post(url(buyer, action), payload, format="json", **headers), 403, "permission_denied")
    assert BuyerNote.objects.count() == 1


def test_unauthenticated_callers_get_401(api, history):
    assert_error(api.get(url(history["buyer"])), 401, "not_authenticated")


def test_the_buyer_api_runs_the_same_queries_for_a_short_and_a_long_history(shop_a, agent):
    def buyer_with(rows):
        buyer = make_buyer()
        for _ in range(rows):
            ticket = make_ticket(buyer, shop_a, assignee=agent)
            make_attempt(ticket, at=days_ago(3), result="reached", agent=agent)
            Remedy.objects.create(ticket=ticket, kind="gift", amount=Decimal("5.00"), status="offered")
            BuyerNote.objects.create(buyer=buyer, author=agent, tags=["picky"], text="x")
        buyer_stats_refresh([buyer.pk])
        return buyer

    client = api_as(agent)
    counts = []
    for buyer in (buyer_with(1), buyer_with(15)):
        client.get(url(buyer))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url(buyer)).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_people_add_notes_with_tags_from_the_list(history, agent):
    buyer = history["buyer"]
    response = api_as(agent).post(url(buyer, "notes"), {"tags": ["im_only"], "text": "只回旺旺"}, format="json")
    assert response.status_code == 201
    assert response.json()["tags"] == [{"code": "im_only", "label": "Answers IM (Wangwang) only"}]
    assert response.json()["author"] == {"id": agent.pk, "name": "agent_a"}

    assert_error(
        api_as(agent).post(url(buyer, "notes"), {"tags": ["rude"]}, format="json"), 400, "invalid_body", ["tags.0"]
    )
    assert_error(api_as(agent).post(url(buyer, "notes"), {"text": "  "}, format="json"), 400, "invalid_body", ["text"])
    assert BuyerNote.objects.count() == 2


def test_supervisors_set_list_marks_over_the_api_and_agents_get_403(history, agent, supervisor):
    buyer = history["buyer"]
    assert_error(
        api_as(agent).post(url(buyer, "list-mark"), {"mark": "blacklist", "reason": "勒索"}, format="json"),
        403,
        "permission_denied",
    )
    response = api_as(supervisor).post(url(buyer, "list-mark"), {"mark": "blacklist", "reason": "勒索"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["list_mark"]["mark"] == "blacklist" and body["list_mark"]["by"]["id"] == supervisor.pk
    assert (body["risk"]["level"], body["risk"]["score"]) == ("high", 100)
    assert body["risk"]["reasons"][0] == "Blacklisted by a supervisor: 勒索"


def test_the_schema_documents_the_buyer_endpoints(api):
    paths = api.get("/api/schema/?format=json").json()["paths"]
    for path in ("/api/v1/buyers/{id}/", "/api/v1/buyers/{id}/reveal/", "/api/v1/buyers/{id}/notes/"):
        assert path in paths


# The buyer page and the evidence pack -------------------------------------------------------------------


def test_the_buyer_page_shows_the_card_history_notes_and_forms(history, agent):
    buyer = history["buyer"]
    response = page_as(agent).get(f"/buyers/{buyer.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    for testid in ("buyer-card", "reveal-form", "note-form", "buyer-notes", "best-time", "evidence-link"):
        assert f'data-testid="{testid}"' in html
    assert "A店差评" in html and "B店差评" not in html
    assert 'data-testid="list-mark-form"' not in html  # agents do not list buyers
    assert "下午才接电话" in html


def test_a_supervisor_sees_the_list_mark_form_and_blacklists_from_the_page(history, supervisor):
    buyer = history["buyer"]
    client = page_as(supervisor)
    assert 'data-testid="list-mark-form"' in client.get(f"/buyers/{buyer.pk}/").content.decode()
    response = client.post(f"/buyers/{buyer.pk}/list-mark/", {"mark": "blacklist", "reason": "多次勒索"})
    assert response.status_code == 302
    buyer.refresh_from_db()
    assert (buyer.list_mark, buyer.risk_level) == ("blacklist", "high")
    html = client.get(f"/buyers/{buyer.pk}/").content.decode()
    assert 'data-testid="high-risk-warning"' in html


def test_an_agent_posting_a_list_mark_gets_403_and_nothing_changes(history, agent):
    buyer = history["buyer"]
    response = page_as(agent).post(f"/buyers/{buyer.pk}/list-mark/", {"mark": "blacklist", "reason": "x"})
    assert response.status_code == 403
    buyer.refresh_from_db()
    assert buyer.list_mark == "none"


def test_the_note_form_adds_a_note(history, agent):
    buyer = history["buyer"]
    response = page_as(agent).post(f"/buyers/{buyer.pk}/notes/", {"tags": ["extortion"], "text": "要求返现"})
    assert response.status_code == 302
    assert BuyerNote.objects.filter(buyer=buyer, tags=["extortion"]).exists()
    buyer.refresh_from_db()  # the note was a risk signal, so the buyer was re-assessed at once
    assert "abuse_notes" in [r["code"] for r in buyer.risk_reasons]
    assert page_as(agent).post(f"/buyers/{buyer.pk}/notes/", {"text": ""}).status_code == 400


def test_the_buyer_page_is_404_outside_the_callers_shops_and_needs_a_login(history, outsider):
    buyer = history["buyer"]
    assert page_as(outsider).get(f"/buyers/{buyer.pk}/").status_code == 404
    assert Client().get(f"/buyers/{buyer.pk}/").status_code == 302


def test_the_evidence_pack_has_the_review_contact_log_timeline_and_notes_and_prints(history, agent):
    buyer, ticket = history["buyer"], history["ticket"]
    response = page_as(agent).get(f"/buyers/{buyer.pk}/evidence/?ticket={ticket.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "@media print" in html
    assert "A店差评" in html  # the review
    assert "Reached" in html and "Message sent" in html  # the contact log
    assert "买家说快递员态度差" in html  # the timeline
    assert "下午才接电话" in html and "Impatient" in html  # the notes
    assert buyer.open_id in html


def test_the_evidence_pack_is_404_for_a_ticket_of_another_buyer_or_shop(history, agent, shop_a, shop_b):
    buyer = history["buyer"]
    client = page_as(agent)
    other_ticket = make_ticket(make_buyer(), shop_a)
    shop_b_ticket = buyer.reviews.get(shop=shop_b).tickets.get()
    for query in (f"?ticket={other_ticket.pk}", f"?ticket={shop_b_ticket.pk}", "?ticket=x", ""):
        assert client.get(f"/buyers/{buyer.pk}/evidence/{query}").status_code == 404, query


def test_supervisors_of_another_shop_only_see_their_part(history, shop_b):
    supervisor_b = make_agent(shop_b, role=Role.SUPERVISOR, username="supervisor_b")
    body = api_as(supervisor_b).get(url(history["buyer"])).json()
    assert [r["shop"] for r in body["reviews"]] == ["jd-b"]
    assert body["contact_attempts"] == [] and body["remedies"] == []


def test_odd_ids_are_404_not_errors(history, agent):
    buyer = history["buyer"]
    for path in ("/api/v1/buyers/abc/", "/api/v1/buyers/99999999999999999999999/"):
        assert api_as(agent).get(path).status_code == 404, path
    client = page_as(agent)
    assert client.get("/buyers/99999999999999999999999/").status_code == 404
    assert client.get(f"/buyers/{buyer.pk}/evidence/?ticket=99999999999999999999999").status_code == 404

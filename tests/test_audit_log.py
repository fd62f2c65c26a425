"""The supervisor's audit log (issue 7): ticket changes, personal-data reveals and API key use of
the shops they supervise, in one read-only, filterable, paginated list."""

import datetime as dt

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.buyer_services import buyer_reveal
from contacts.models import PersonalDataReveal
from reviews.models import ApiKey, InboundEvent
from tickets.choices import Role
from tickets.models import ContactAttempt, Remedy, Ticket, TicketEvent

from .conftest import event
from .factories import ShopFactory, make_agent, make_api_key

URL = "/audit/"


def page_as(user):
    client = Client()
    client.force_login(user)
    return client


def entries(response):
    """(source, kind, actor, ticket id or None) of each row on the page."""
    return [(e["source"], e["kind"], e["actor"], e["ticket_ref"]) for e in response.context["page"].object_list]


def push_negatives(push, n, *, start=1, key=None, shop="tb-a", platform="taobao"):
    body = {
        "events": [
            event(
                event_id=f"{shop}-e-{i}",
                review_id=f"{shop}-r-{i}",
                shop=shop,
                platform=platform,
                buyer={"id": f"{shop}-buyer-{i}", "nick": "tony", "phone": "13812345678"},
            )
            for i in range(start, start + n)
        ]
    }
    response = push(body, key=key)
    assert response.status_code == 200, response.content
    return [r["ticket_id"] for r in response.json()["results"]]


@pytest.fixture
def supervisor_b(shop_b):
    return make_agent(shop_b, role=Role.SUPERVISOR, username="supervisor_b")


@pytest.fixture
def activity(push, key_b, supervisor, supervisor_b):
    """Shop A: two tickets from a push, a reveal by its supervisor. Shop B: one ticket and a
    reveal by its own supervisor."""
    a_ids = push_negatives(push, 2)
    b_ids = push_negatives(push, 1, key=key_b, shop="jd-b", platform="jd")
    a_buyer = Ticket.objects.get(pk=a_ids[0]).review.buyer_id
    b_buyer = Ticket.objects.get(pk=b_ids[0]).review.buyer_id
    buyer_reveal(a_buyer, supervisor, field="phone", reason="call about the broken zip")
    buyer_reveal(b_buyer, supervisor_b, field="nick", reason="shop B business")
    return {"a": a_ids, "b": b_ids}


def test_agents_and_outsiders_get_403_and_anonymous_visitors_the_login_page(agent, outsider):
    assert page_as(agent).get(URL).status_code == 403
    assert page_as(outsider).get(URL).status_code == 403
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_supervisor_sees_ticket_changes_reveals_and_key_use_of_their_shops_only(supervisor, activity):
    response = page_as(supervisor).get(URL)
    assert response.status_code == 200
    rows = entries(response)
    sources = {row[0] for row in rows}
    assert sources == {"ticket", "reveal", "api_key"}
    ticket_rows = [row for row in rows if row[0] == "ticket"]
    assert {row[3] for row in ticket_rows} == set(activity["a"])
    assert not {row[3] for row in rows} & set(activity["b"])
    reveals = [e for e in response.context["page"].object_list if e["source"] == "reveal"]
    assert len(reveals) == 1
    assert reveals[0]["actor"] == "supervisor_a"
    assert reveals[0]["detail"] == "call about the broken zip"
    key_use = [e for e in response.context["page"].object_list if e["source"] == "api_key"]
    assert [(e["actor"], e["n"], e["shop_name"]) for e in key_use] == [("shop A sync", 2, "甲店")]
    assert "shop B business" not in response.text
    assert "call about the broken zip" in response.text
    # Newest first.
    times = [e["at"] for e in response.context["page"].object_list]
    assert times == sorted(times, reverse=True)


def test_the_other_supervisor_sees_only_shop_b(supervisor_b, activity):
    rows = entries(page_as(supervisor_b).get(URL))
    assert {row[3] for row in rows if row[3]} == set(activity["b"])
    assert {row[0] for row in rows} == {"ticket", "reveal", "api_key"}


def test_filters_by_kind_actor_shop_and_ticket(supervisor, activity):
    client = page_as(supervisor)
    rows = entries(client.get(URL, {"kind": "personal_data_reveal"}))
    assert [row[0] for row in rows] == ["reveal"]
    rows = entries(client.get(URL, {"kind": "api_key_use"}))
    assert [row[0] for row in rows] == ["api_key"]
    rows = entries(client.get(URL, {"kind": "opened"}))
    assert sorted(row[3] for row in rows) == sorted(activity["a"])
    assert {row[1] for row in rows} == {"opened"}
    rows = entries(client.get(URL, {"ticket": activity["a"][0]}))
    assert rows and {row[3] for row in rows} == {activity["a"][0]}
    rows = entries(client.get(URL, {"actor": "supervisor_a"}))
    assert [row[0] for row in rows] == ["reveal"]
    rows = entries(client.get(URL, {"actor": "shop A sync"}))
    assert "api_key" in {row[0] for row in rows}
    assert all("shop A sync" in row[2] for row in rows)
    # A shop the supervisor does not supervise is not a valid choice.
    response = client.get(URL, {"shop": activity_shop_b_id(activity)})
    assert response.status_code == 200
    assert response.context["page"] is None
    assert "shop" in response.context["form"].errors


def activity_shop_b_id(activity):
    return Ticket.objects.get(pk=activity["b"][0]).shop_id


def test_the_date_range_defaults_to_30_days_and_can_reach_further_back(supervisor, activity):
    old = TicketEvent.objects.filter(ticket_id=activity["a"][0]).first()
    old.created_at = timezone.now() - dt.timedelta(days=40)
    old.save(update_fields=["created_at"])
    client = page_as(supervisor)
    assert old.pk not in refs(client.get(URL))
    since = (timezone.localdate() - dt.timedelta(days=45)).isoformat()
    until = (timezone.localdate() - dt.timedelta(days=35)).isoformat()
    response = client.get(URL, {"date_from": since, "date_to": until})
    assert refs(response) == [old.pk]
    response = client.get(URL, {"date_from": until, "date_to": since})
    assert response.context["page"] is None
    assert "The end date is before the start date." in response.text


def refs(response):
    return [e["ref"] for e in response.context["page"].object_list if e["source"] == "ticket"]


def test_remedies_approvals_and_outcome_claims_appear_with_their_actor(supervisor, agent, activity):
    from tickets.actions import outcome_claim, remedy_record

    ticket_id = activity["a"][0]
    Ticket.objects.filter(pk=ticket_id).update(assignee=agent, status="in_progress")
    remedy_record(ticket_id, agent, kind="coupon", amount="5.00", status="offered", note="")
    outcome_claim(ticket_id, agent, outcome="buyer_refused", note="")
    rows = entries(page_as(supervisor).get(URL, {"ticket": ticket_id}))
    kinds = {(row[1], row[2]) for row in rows}
    assert ("remedy", "agent_a") in {(k, a) for k, a in kinds if k == "remedy"}
    assert any(kind == "closed" and actor == "agent_a" for kind, actor in kinds)


def test_the_number_of_queries_does_not_depend_on_the_number_of_rows(push, supervisor):
    client = page_as(supervisor)
    push_negatives(push, 1)
    client.get(URL)  # warm the session and content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    push_negatives(push, 12, start=100)
    for ticket in Ticket.objects.all():
        buyer_reveal(ticket.review.buyer_id, supervisor, field="nick", reason="checking")
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL)
    assert response.context["page"].paginator.count > 25
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_the_list_is_paginated(push, supervisor, monkeypatch):
    from tickets import audit_views

    monkeypatch.setattr(audit_views, "PAGE_SIZE", 10)
    push_negatives(push, 15)
    client = page_as(supervisor)
    first = client.get(URL)
    assert first.context["page"].paginator.num_pages >= 2
    assert len(first.context["page"].object_list) == 10
    second = client.get(URL, {"page": 2})
    assert not {e["ref"] for e in first.context["page"].object_list if e["source"] == "ticket"} & {
        e["ref"] for e in second.context["page"].object_list if e["source"] == "ticket"
    }


def test_the_page_is_read_only(supervisor, activity):
    client = page_as(supervisor)
    before = (TicketEvent.objects.count(), PersonalDataReveal.objects.count(), InboundEvent.objects.count())
    assert client.post(URL, {"kind": "opened"}).status_code == 405
    assert client.delete(URL).status_code == 405
    after = (TicketEvent.objects.count(), PersonalDataReveal.objects.count(), InboundEvent.objects.count())
    assert before == after
    assert '<form method="post"' not in client.get(URL).text.split('data-testid="audit-filters"')[1]


@pytest.mark.parametrize("model", [TicketEvent, PersonalDataReveal, InboundEvent, ContactAttempt])
def test_the_admin_shows_audit_records_read_only_even_to_a_superuser(model, rf, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    request = rf.get("/admin/")
    request.user = superuser
    model_admin = admin.site._registry[model]
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_tickets_and_remedies_cannot_be_deleted_in_the_admin(rf, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    request = rf.get("/admin/")
    request.user = superuser
    assert not admin.site._registry[Ticket].has_delete_permission(request)
    assert not admin.site._registry[Remedy].has_delete_permission(request)
    # API keys stay manageable: a supervisor revokes them there.
    assert admin.site._registry[ApiKey].has_change_permission(request)


def test_a_buyer_who_also_reviews_another_desks_shop_does_not_bring_its_reveals(push, supervisor):
    """Buyers are shared across shops by open id; a supervisor of another shop revealing the same
    buyer is not this desk's business, and their reason stays theirs."""
    shop_c = ShopFactory(external_id="tb-c", platform="taobao", name="丙店")
    supervisor_c = make_agent(shop_c, role=Role.SUPERVISOR, username="supervisor_c")
    key_c = make_api_key(shop_c, name="shop C")[1]
    (ticket_a,) = push_negatives(push, 1)
    shared = {"id": "tb-a-buyer-1", "nick": "tony"}
    assert push(event(event_id="c-1", review_id="c-r-1", shop="tb-c", buyer=shared), key=key_c).status_code == 200
    buyer_id = Ticket.objects.get(pk=ticket_a).review.buyer_id
    buyer_reveal(buyer_id, supervisor_c, field="nick", reason="SHOP-C-INTERNAL")
    buyer_reveal(buyer_id, supervisor, field="phone", reason="call about the broken zip")

    ours = page_as(supervisor).get(URL + "?kind=personal_data_reveal").content.decode()
    theirs = page_as(supervisor_c).get(URL + "?kind=personal_data_reveal").content.decode()

    assert "call about the broken zip" in ours and "SHOP-C-INTERNAL" not in ours
    assert "SHOP-C-INTERNAL" in theirs and "call about the broken zip" not in theirs

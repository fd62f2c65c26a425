"""Remedies and their approval (issue 4): an agent's remedy over their cap waits for a supervisor
of the shop; approval gives it the status the agent recorded, rejection needs a reason. A remedy
note that ties the remedy to a review is saved but flagged."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from tickets.actions import remedy_cap_of, remedy_decide, remedy_record, remedy_set_status
from tickets.choices import Role
from tickets.models import AgentProfile, Notification, Remedy, Ticket, TicketEvent
from tickets.permissions import can_approve_remedy
from tickets.services import TicketActionRefused

from .factories import make_agent
from .test_ticket_actions_api import as_key, as_person, assert_error
from .ticket_fixtures import *  # noqa: F403 — fixtures

pytestmark = pytest.mark.django_db


def snapshot(ticket):
    return {
        "ticket": Ticket.objects.filter(pk=ticket.pk).values().get(),
        "timeline": list(TicketEvent.objects.filter(ticket=ticket).values_list("id", flat=True)),
        "remedies": list(Remedy.objects.filter(ticket=ticket).order_by("id").values()),
        "notifications": list(Notification.objects.values_list("id", flat=True)),
    }


def last_row(ticket):
    return TicketEvent.objects.filter(ticket=ticket).order_by("id").last()


def refused(code, call, *args, **kwargs):
    with pytest.raises(TicketActionRefused) as info:
        call(*args, **kwargs)
    assert info.value.code == code
    return info.value


def decision_url(remedy):
    return f"/api/v1/remedies/{remedy.pk}/decision/"


@pytest.fixture
def pending(ticket, agent, supervisor):
    """An 80.00 partial refund by the agent (cap 50.00), waiting for approval."""
    return remedy_record(ticket.pk, agent, kind="partial_refund", amount="80.00", status="accepted", note="袖口开线")


# Recording -------------------------------------------------------------------------------------


def test_a_remedy_within_the_cap_is_recorded_as_the_agent_says_without_approval(ticket, agent, supervisor):
    remedy = remedy_record(ticket.pk, agent, kind="coupon", amount=Decimal("50.00"), status="offered", note="")

    remedy.refresh_from_db()
    assert (remedy.status, remedy.requested_status, remedy.amount, remedy.offered_by_id) == (
        "offered",
        "offered",
        Decimal("50.00"),
        agent.pk,
    )
    row = last_row(ticket)
    assert (row.kind, row.actor_id, row.message) == ("remedy", agent.pk, "Coupon 50.00: Offered.")
    assert row.data == {
        "remedy": remedy.pk,
        "kind": "coupon",
        "amount": "50.00",
        "status": "offered",
        "requested_status": "offered",
        "note": "",
    }
    assert Notification.objects.count() == 0


def test_a_remedy_over_the_cap_waits_and_the_shops_supervisors_are_asked(ticket, agent, supervisor, supervisor_b):
    remedy = remedy_record(ticket.pk, agent, kind="partial_refund", amount="50.01", status="accepted")

    remedy.refresh_from_db()
    assert (remedy.status, remedy.requested_status) == ("pending_approval", "accepted")
    row = last_row(ticket)
    assert row.message == "Partial refund 50.01 waits for a supervisor's approval (over the cap of 50.00)."
    assert (row.data["status"], row.data["cap"]) == ("pending_approval", "50.00")
    assert list(Notification.objects.values_list("recipient_id", "kind", "ticket_id")) == [
        (supervisor.pk, "remedy_approval", ticket.pk)
    ]


def test_the_cap_is_per_agent_and_supervisors_and_superusers_have_none(ticket, agent, supervisor):
    AgentProfile.objects.filter(user=agent).update(remedy_cap=Decimal("200.00"))
    root = get_user_model().objects.create_superuser("root", password="pw-123456")

    assert remedy_cap_of(agent) == Decimal("200.00")
    assert remedy_cap_of(supervisor) is None
    assert remedy_cap_of(root) is None
    assert remedy_record(ticket.pk, agent, kind="gift", amount="150", status="offered").status == "offered"
    assert remedy_record(ticket.pk, supervisor, kind="full_refund", amount="999", status="offered").status == "offered"
    assert remedy_record(ticket.pk, root, kind="full_refund", amount="999", status="offered").status == "offered"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"amount": "-1"}, "invalid_amount"),
        ({"amount": "10.001"}, "invalid_amount"),
        ({"amount": "abc"}, "invalid_amount"),
        ({"amount": "NaN"}, "invalid_amount"),
        ({"amount": "100000000"}, "invalid_amount"),
        ({"kind": "bribe"}, "invalid_kind"),
        ({"status": "pending_approval"}, "invalid_status"),
        ({"status": "rejected"}, "invalid_status"),
    ],
)
def test_a_bad_remedy_is_refused_and_changes_nothing(ticket, agent, supervisor, changes, code):
    before = snapshot(ticket)

    refused(code, remedy_record, ticket.pk, agent, **{"kind": "coupon", "amount": "5", "status": "offered", **changes})

    assert snapshot(ticket) == before


def test_a_remedy_on_a_closed_ticket_is_refused(closed_ticket, agent):
    before = snapshot(closed_ticket)

    refused("ticket_closed", remedy_record, closed_ticket.pk, agent, kind="coupon", amount="5", status="offered")

    assert snapshot(closed_ticket) == before


def test_a_remedy_note_tying_it_to_the_review_is_saved_but_flagged(ticket, agent):
    remedy = remedy_record(
        ticket.pk, agent, kind="coupon", amount="10", status="offered", note="改好评后给您发10元优惠券"
    )

    assert remedy.compliance_reasons
    assert Remedy.objects.get().note == "改好评后给您发10元优惠券"
    assert Remedy.objects.get().compliance_reasons == remedy.compliance_reasons
    assert last_row(ticket).data["compliance"] == remedy.compliance_reasons


def test_a_plain_remedy_note_is_not_flagged(ticket, agent):
    remedy = remedy_record(
        ticket.pk, agent, kind="coupon", amount="10", status="offered", note="给您发一张10元优惠券作为补偿"
    )

    assert remedy.compliance_reasons == []
    assert "compliance" not in last_row(ticket).data


# Deciding --------------------------------------------------------------------------------------


def test_approving_gives_the_requested_status_records_the_decision_and_notifies_the_agent(
    pending, ticket, agent, supervisor
):
    remedy = remedy_decide(pending.pk, supervisor, approve=True)

    remedy.refresh_from_db()
    assert (remedy.status, remedy.decided_by_id, remedy.decision_reason) == ("accepted", supervisor.pk, "")
    assert remedy.decided_at is not None
    row = last_row(ticket)
    assert (row.kind, row.actor_id, row.message) == (
        "remedy",
        supervisor.pk,
        "Partial refund 80.00 approved by supervisor_a.",
    )
    assert row.data == {"remedy": remedy.pk, "decision": "approved", "status": "accepted", "reason": ""}
    assert list(Notification.objects.filter(recipient=agent).values_list("kind", "ticket_id")) == [
        ("remedy_decided", ticket.pk)
    ]


def test_rejecting_needs_a_reason_and_then_rejects(pending, ticket, agent, supervisor):
    before = snapshot(ticket)
    refused("reason_required", remedy_decide, pending.pk, supervisor, approve=False, reason="  ")
    assert snapshot(ticket) == before

    remedy = remedy_decide(pending.pk, supervisor, approve=False, reason="金额过高，先补发")

    remedy.refresh_from_db()
    assert (remedy.status, remedy.decision_reason) == ("rejected", "金额过高，先补发")
    assert last_row(ticket).data["decision"] == "rejected"


def test_only_a_pending_remedy_can_be_decided(pending, ticket, supervisor):
    remedy_decide(pending.pk, supervisor, approve=True)
    before = snapshot(ticket)

    refused("not_pending", remedy_decide, pending.pk, supervisor, approve=False, reason="改主意")

    assert snapshot(ticket) == before


def test_who_may_approve_is_a_supervisor_of_the_remedys_shop(pending, agent, supervisor, supervisor_b, shop_a, shop_b):
    both = make_agent(shop_a, shop_b, role=Role.SUPERVISOR, username="supervisor_ab")

    assert [can_approve_remedy(u, pending) for u in (agent, supervisor, supervisor_b, both)] == [
        False,
        True,
        False,
        True,
    ]


def test_the_buyers_answer_moves_an_offered_remedy_to_accepted_or_declined(ticket, agent):
    remedy = remedy_record(ticket.pk, agent, kind="reissue", amount="0", status="offered")

    remedy_set_status(remedy.pk, agent, status="declined")

    remedy.refresh_from_db()
    assert remedy.status == "declined"
    assert last_row(ticket).data == {"remedy": remedy.pk, "from": "offered", "status": "declined"}
    before = snapshot(ticket)
    refused("not_offered", remedy_set_status, remedy.pk, agent, status="accepted")
    assert snapshot(ticket) == before


def test_a_pending_remedy_has_no_buyers_answer_until_approved(pending, ticket, agent, supervisor):
    before = snapshot(ticket)
    refused("not_offered", remedy_set_status, pending.pk, agent, status="accepted")
    refused("invalid_status", remedy_set_status, pending.pk, agent, status="offered")
    assert snapshot(ticket) == before

    Remedy.objects.filter(pk=pending.pk).update(requested_status="offered")
    remedy_decide(pending.pk, supervisor, approve=True)
    assert remedy_set_status(pending.pk, agent, status="accepted").status == "accepted"


# Over the API ----------------------------------------------------------------------------------


def test_an_agent_records_a_remedy_over_the_api_and_over_the_cap_it_waits(ticket, agent, supervisor):
    response = as_person(agent).post(
        f"/api/v1/tickets/{ticket.pk}/remedies/",
        {"kind": "partial_refund", "amount": "80.00", "status": "offered", "note": "改好评就给您退款"},
        format="json",
    )

    assert response.status_code == 201, response.content
    remedy = Remedy.objects.get()
    body = response.json()
    assert body == {
        "id": remedy.pk,
        "ticket": ticket.pk,
        "kind": "partial_refund",
        "amount": "80.00",
        "status": "pending_approval",
        "requested_status": "offered",
        "note": "改好评就给您退款",
        "compliance": remedy.compliance_reasons,
        "offered_by": {"id": agent.pk, "name": "agent_a"},
        "decided_by": None,
        "decided_at": None,
        "decision_reason": "",
        "created_at": body["created_at"],
    }
    assert body["compliance"]


def test_a_supervisor_approves_over_the_api(pending, supervisor):
    response = as_person(supervisor).post(decision_url(pending), {"approve": True}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["decided_by"]["id"]) == ("accepted", supervisor.pk)
    assert body["decided_at"] is not None


def test_rejecting_over_the_api_without_a_reason_is_an_invalid_body(pending, supervisor, ticket):
    before = snapshot(ticket)

    response = as_person(supervisor).post(decision_url(pending), {"approve": False}, format="json")

    assert_error(response, 400, "invalid_body", fields=["reason"])
    assert snapshot(ticket) == before


def test_deciding_a_decided_remedy_over_the_api_is_a_409(pending, supervisor, ticket):
    remedy_decide(pending.pk, supervisor, approve=False, reason="不批")
    before = snapshot(ticket)

    response = as_person(supervisor).post(decision_url(pending), {"approve": True}, format="json")

    assert_error(response, 409, "not_pending")
    assert snapshot(ticket) == before


def test_an_agent_may_not_approve_their_own_or_anyones_remedy(pending, agent, colleague, ticket):
    before = snapshot(ticket)

    for person in (agent, colleague):
        assert_error(
            as_person(person).post(decision_url(pending), {"approve": True}, format="json"), 403, "permission_denied"
        )

    assert snapshot(ticket) == before


@pytest.mark.parametrize("caller", ["supervisor_b", "outsider", "agent_b"])
def test_someone_who_may_not_see_the_shop_gets_404_for_a_decision(pending, ticket, caller, request):
    person = request.getfixturevalue(caller)
    before = snapshot(ticket)

    response = as_person(person).post(decision_url(pending), {"approve": True}, format="json")

    assert_error(response, 404, "not_found")
    assert snapshot(ticket) == before


def test_an_integration_key_may_not_decide(pending, key_a, ticket):
    before = snapshot(ticket)

    assert_error(as_key(key_a).post(decision_url(pending), {"approve": True}, format="json"), 403, "permission_denied")

    assert snapshot(ticket) == before


def test_an_unknown_remedy_is_404(supervisor):
    assert_error(
        as_person(supervisor).post("/api/v1/remedies/999999/decision/", {"approve": True}, format="json"),
        404,
        "not_found",
    )


# In the admin ----------------------------------------------------------------------------------


def test_the_admin_approve_action_goes_through_the_service(pending, client):
    root = get_user_model().objects.create_superuser("root", password="pw-123456")
    client.force_login(root)

    response = client.post(
        "/admin/tickets/remedy/", {"action": "approve", "_selected_action": [pending.pk]}, follow=True
    )

    assert response.status_code == 200
    pending.refresh_from_db()
    assert (pending.status, pending.decided_by_id) == ("accepted", root.pk)
    assert TicketEvent.objects.filter(ticket=pending.ticket, data__decision="approved").count() == 1


def test_the_admin_refuses_a_call_script_that_ties_a_reward_to_a_review(client):
    from tickets.models import CallScript

    root = get_user_model().objects.create_superuser("root", password="pw-123456")
    client.force_login(root)
    before = CallScript.objects.count()

    response = client.post(
        "/admin/tickets/callscript/add/",
        {"name": "回访", "platform": "", "cause": "", "body": "好评返现10元", "active": "on"},
    )

    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors["body"]
    assert CallScript.objects.count() == before


# High-risk buyers (issue 5) --------------------------------------------------------------------


def test_an_agent_cannot_record_a_remedy_for_a_high_risk_buyer_and_nothing_changes(ticket, agent):
    from contacts.models import Buyer, RiskLevel

    Buyer.objects.update(risk_level=RiskLevel.HIGH)
    before = snapshot(ticket)

    refused("high_risk_buyer", remedy_record, ticket.pk, agent, kind="coupon", amount="5.00", status="offered")
    response = as_person(agent).post(
        f"/api/v1/tickets/{ticket.pk}/remedies/",
        {"kind": "coupon", "amount": "5.00", "status": "offered", "override_reason": "我觉得可以"},
        format="json",
    )

    assert_error(response, 409, "high_risk_buyer")
    assert snapshot(ticket) == before


def test_a_supervisor_grants_a_remedy_to_a_high_risk_buyer_only_with_a_reason_shown_on_the_timeline(ticket, supervisor):
    from contacts.models import Buyer, RiskLevel

    Buyer.objects.update(risk_level=RiskLevel.HIGH)
    refused("high_risk_buyer", remedy_record, ticket.pk, supervisor, kind="reissue", amount="0.00", status="offered")

    remedy = remedy_record(
        ticket.pk,
        supervisor,
        kind="reissue",
        amount="0.00",
        status="offered",
        override_reason="商品确有破损，照片已核实",
    )

    assert remedy.status == "offered"
    override = last_row(ticket).data["risk_override"]
    assert override["reason"] == "商品确有破损，照片已核实"
    assert override["message"]

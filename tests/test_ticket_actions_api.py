"""People's ticket actions over the API (API.md § Tickets, issue 3): contact attempts, manual
assignment by a supervisor, taking from the pool, and duty. Integration keys get 403, a ticket of
a shop the caller may not see is 404, and a refusal changes nothing."""

import datetime as dt
from unittest.mock import ANY, patch
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from contacts.models import Buyer, RiskLevel
from tickets.assignment import assign_ticket
from tickets.choices import Role, TicketStatus
from tickets.models import AgentProfile, ContactAttempt, Ticket, TicketEvent
from tickets.tasks import assign_ticket_task, assign_waiting_tickets_task

from .conftest import event
from .factories import make_agent

pytestmark = pytest.mark.django_db

DUTY_URL = "/api/v1/agents/me/duty/"


@pytest.fixture
def china_daytime(time_machine):
    """Phone calls are refused at night in the buyer's time zone (contact etiquette): run on a
    weekday morning in China, whatever the hour the suite runs at."""
    time_machine.move_to(dt.datetime(2026, 3, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True)


def as_person(user):
    """A client logged in as `user`, loaded afresh as a real request would (no cached profile)."""
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


def as_key(raw_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def url(ticket, action):
    return f"/api/v1/tickets/{ticket.pk}/{action}/"


def assert_error(response, status, code, fields=()):
    """A 4xx in API.md's error shape."""
    assert response.status_code == status, response.content
    body = response.json()
    assert list(body) == ["error"]
    assert sorted(body["error"]) == ["code", "fields", "message"]
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert sorted(body["error"]["fields"]) == sorted(fields)


def snapshot(ticket):
    """Everything a refused action must leave as it was."""
    return {
        "ticket": Ticket.objects.filter(pk=ticket.pk).values().get(),
        "timeline": TicketEvent.objects.filter(ticket=ticket).count(),
        "attempts": ContactAttempt.objects.filter(ticket=ticket).count(),
        "agents": list(AgentProfile.objects.order_by("id").values()),
    }


def last_row(ticket):
    return TicketEvent.objects.filter(ticket=ticket).last()


def deleted(review_id="r-1"):
    return {
        "event_id": f"e-deleted-{review_id}",
        "type": "review.deleted",
        "occurred_at": "2026-03-03T09:00:00+08:00",
        "platform": "taobao",
        "shop": "tb-a",
        "review_id": review_id,
    }


@pytest.fixture
def pool_ticket(push):
    """A new ticket of shop A that nobody holds."""
    assert push(event()).status_code == 200
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.assignee_id) == (TicketStatus.NEW, None)
    return ticket


@pytest.fixture
def ticket(pool_ticket, agent):
    """A ticket of shop A assigned to `agent` by the rules."""
    AgentProfile.objects.filter(user=agent).update(on_duty=True)
    assign_ticket(pool_ticket.pk)
    pool_ticket.refresh_from_db()
    assert (pool_ticket.status, pool_ticket.assignee_id) == (TicketStatus.ASSIGNED, agent.pk)
    return pool_ticket


@pytest.fixture
def colleague(shop_a):
    """A second agent of shop A."""
    return make_agent(shop_a, username="colleague_a")


@pytest.fixture
def supervisor_b(shop_b):
    return make_agent(shop_b, role=Role.SUPERVISOR, username="supervisor_b")


@pytest.fixture
def closed_ticket(ticket, push):
    assert push(deleted()).status_code == 200
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id) == (TicketStatus.RESOLVED, ticket.assignee_id)
    return ticket


@pytest.fixture
def publish():
    """The broker edge, patched: what would have been queued, without queuing it."""
    with (
        patch.object(assign_ticket_task, "apply_async") as assign,
        patch.object(assign_waiting_tickets_task, "apply_async") as pool,
    ):
        yield {"assign": assign, "pool": pool}


def flag_buyer():
    Buyer.objects.update(risk_level=RiskLevel.HIGH)


# Contact attempts ------------------------------------------------------------------------------


def test_the_assignee_logs_a_contact_attempt_which_stops_the_first_contact_clock(china_daytime, ticket, agent):
    timeline_before = TicketEvent.objects.filter(ticket=ticket).count()
    started = timezone.now()

    response = as_person(agent).post(
        url(ticket, "contact-attempts"), {"channel": "phone", "result": "no_answer", "note": "关机"}, format="json"
    )

    assert response.status_code == 201
    attempt = ContactAttempt.objects.get()
    body = response.json()
    assert body == {
        "id": attempt.pk,
        "channel": "phone",
        "result": "no_answer",
        "note": "关机",
        "agent": {"id": agent.pk, "name": "agent_a"},
        "created_at": body["created_at"],
    }
    assert dt.datetime.fromisoformat(body["created_at"]) == attempt.created_at
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_PROGRESS
    assert started <= ticket.first_contact_at <= attempt.created_at <= timezone.now()
    assert ticket.first_reached_at is None
    new_rows = list(
        TicketEvent.objects.filter(ticket=ticket)
        .order_by("id")[timeline_before:]
        .values_list("kind", "from_status", "to_status", "actor_id")
    )
    assert new_rows == [
        ("status_changed", "assigned", "in_progress", agent.pk),
        ("contact_attempt", "", "", agent.pk),
    ]


def test_a_later_attempt_that_reaches_the_buyer_sets_first_reached_but_keeps_first_contact(
    china_daytime, ticket, agent
):
    client = as_person(agent)
    client.post(url(ticket, "contact-attempts"), {"channel": "im", "result": "message_sent"}, format="json")
    first_contact_at = Ticket.objects.get().first_contact_at

    response = client.post(url(ticket, "contact-attempts"), {"channel": "phone", "result": "reached"}, format="json")

    assert response.status_code == 201
    ticket.refresh_from_db()
    assert ticket.first_contact_at == first_contact_at
    assert first_contact_at < ticket.first_reached_at <= ContactAttempt.objects.get(pk=response.json()["id"]).created_at
    assert ticket.status == TicketStatus.IN_PROGRESS


def test_first_contact_is_stored_as_the_exact_time_of_the_first_attempt(ticket, agent):
    response = as_person(agent).post(
        url(ticket, "contact-attempts"), {"channel": "im", "result": "reached"}, format="json"
    )

    attempt = ContactAttempt.objects.get(pk=response.json()["id"])
    ticket.refresh_from_db()
    assert (ticket.first_contact_at, ticket.first_reached_at) == (attempt.created_at, attempt.created_at)


def test_a_supervisor_of_the_shop_may_log_a_contact_attempt(ticket, supervisor):
    response = as_person(supervisor).post(
        url(ticket, "contact-attempts"), {"channel": "sms", "result": "message_sent"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["agent"] == {"id": supervisor.pk, "name": "supervisor_a"}
    assert Ticket.objects.get().first_contact_at is not None


def test_another_agent_of_the_shop_may_not_log_a_contact_attempt(ticket, colleague):
    before = snapshot(ticket)

    response = as_person(colleague).post(
        url(ticket, "contact-attempts"), {"channel": "im", "result": "reached"}, format="json"
    )

    assert_error(response, 403, "permission_denied")
    assert snapshot(ticket) == before


@pytest.mark.parametrize("caller", ["agent_b", "outsider"])
def test_a_person_who_may_not_see_the_shop_gets_404_for_a_contact_attempt(ticket, caller, request):
    person = request.getfixturevalue(caller)
    before = snapshot(ticket)

    response = as_person(person).post(
        url(ticket, "contact-attempts"), {"channel": "im", "result": "reached"}, format="json"
    )

    assert_error(response, 404, "not_found")
    assert snapshot(ticket) == before


def test_an_integration_key_may_not_log_a_contact_attempt(ticket, key_a):
    before = snapshot(ticket)

    response = as_key(key_a).post(
        url(ticket, "contact-attempts"), {"channel": "im", "result": "reached"}, format="json"
    )

    assert_error(response, 403, "permission_denied")
    assert snapshot(ticket) == before


def test_an_anonymous_caller_gets_401_for_a_contact_attempt(ticket):
    before = snapshot(ticket)

    response = APIClient().post(url(ticket, "contact-attempts"), {"channel": "im", "result": "reached"}, format="json")

    assert_error(response, 401, "not_authenticated")
    assert snapshot(ticket) == before


def test_a_contact_attempt_with_an_unknown_channel_is_an_invalid_body_naming_the_channel(ticket, agent):
    before = snapshot(ticket)

    response = as_person(agent).post(
        url(ticket, "contact-attempts"), {"channel": "fax", "result": "reached"}, format="json"
    )

    assert_error(response, 400, "invalid_body", fields=["channel"])
    assert snapshot(ticket) == before


def test_a_contact_attempt_on_a_closed_ticket_is_refused_with_ticket_closed(closed_ticket, agent):
    before = snapshot(closed_ticket)

    response = as_person(agent).post(
        url(closed_ticket, "contact-attempts"), {"channel": "im", "result": "reached"}, format="json"
    )

    assert_error(response, 409, "ticket_closed")
    assert snapshot(closed_ticket) == before


# Manual assignment -----------------------------------------------------------------------------


def test_a_supervisor_assigns_a_pool_ticket_to_an_agent_of_the_shop(pool_ticket, supervisor, colleague):
    response = as_person(supervisor).post(url(pool_ticket, "assign"), {"agent": colleague.pk}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"]) == (pool_ticket.pk, "assigned")
    assert body["assignee"] == {"id": colleague.pk, "name": "colleague_a"}
    pool_ticket.refresh_from_db()
    assert (pool_ticket.status, pool_ticket.assignee_id) == (TicketStatus.ASSIGNED, colleague.pk)
    row = last_row(pool_ticket)
    assert (row.kind, row.actor_id, row.from_status, row.to_status) == ("assigned", supervisor.pk, "new", "assigned")
    assert row.message == "Assigned to colleague_a: assigned by a supervisor."
    assert row.data == {
        "rule": "manual",
        "chosen": colleague.pk,
        "needs_senior": False,
        "candidates": [
            {"agent": colleague.pk, "name": "colleague_a", "load": 0, "capacity": 30, "last_assigned_at": None}
        ],
    }


def test_a_supervisor_moves_a_ticket_from_one_agent_to_another_and_the_timeline_shows_why(
    ticket, supervisor, colleague
):
    client = as_person(supervisor)

    response = client.post(url(ticket, "assign"), {"agent": colleague.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["assignee"]["id"] == colleague.pk
    timeline = client.get(f"/api/v1/tickets/{ticket.pk}/").json()["timeline"]
    assigned = [
        (row["actor"], row["data"]["rule"], row["data"]["chosen"]) for row in timeline if row["kind"] == "assigned"
    ]
    assert assigned == [("assignment", "fewest_open", ticket.assignee_id), ("supervisor_a", "manual", colleague.pk)]


def test_an_agent_may_not_assign_a_ticket(pool_ticket, agent, colleague):
    before = snapshot(pool_ticket)

    response = as_person(agent).post(url(pool_ticket, "assign"), {"agent": colleague.pk}, format="json")

    assert_error(response, 403, "permission_denied")
    assert snapshot(pool_ticket) == before


def test_an_integration_key_may_not_assign_a_ticket(pool_ticket, key_a, agent):
    before = snapshot(pool_ticket)

    response = as_key(key_a).post(url(pool_ticket, "assign"), {"agent": agent.pk}, format="json")

    assert_error(response, 403, "permission_denied")
    assert snapshot(pool_ticket) == before


def test_a_supervisor_of_another_shop_gets_404_when_assigning(pool_ticket, supervisor_b, agent):
    before = snapshot(pool_ticket)

    response = as_person(supervisor_b).post(url(pool_ticket, "assign"), {"agent": agent.pk}, format="json")

    assert_error(response, 404, "not_found")
    assert snapshot(pool_ticket) == before


@pytest.mark.parametrize("target", ["agent_b", "outsider", "supervisor_b"])
def test_assigning_to_someone_who_does_not_work_the_shop_is_refused_with_not_allowed_for_shop(
    pool_ticket, supervisor, target, request
):
    person = request.getfixturevalue(target)
    before = snapshot(pool_ticket)

    response = as_person(supervisor).post(url(pool_ticket, "assign"), {"agent": person.pk}, format="json")

    assert_error(response, 409, "not_allowed_for_shop")
    assert snapshot(pool_ticket) == before


def test_assigning_to_an_agent_at_capacity_is_refused_with_over_capacity(ticket, supervisor, colleague):
    AgentProfile.objects.filter(user=colleague).update(capacity=0)
    before = snapshot(ticket)

    response = as_person(supervisor).post(url(ticket, "assign"), {"agent": colleague.pk}, format="json")

    assert_error(response, 409, "over_capacity")
    assert snapshot(ticket) == before


def test_a_supervisor_may_force_an_assignment_over_capacity(ticket, supervisor, colleague):
    AgentProfile.objects.filter(user=colleague).update(capacity=0)

    response = as_person(supervisor).post(url(ticket, "assign"), {"agent": colleague.pk, "force": True}, format="json")

    assert response.status_code == 200
    assert response.json()["assignee"]["id"] == colleague.pk
    assert Ticket.objects.filter(assignee=colleague).count() == 1


def test_assigning_a_flagged_buyer_to_an_agent_who_is_not_senior_is_refused_with_senior_required(
    pool_ticket, supervisor, colleague
):
    flag_buyer()
    before = snapshot(pool_ticket)

    response = as_person(supervisor).post(url(pool_ticket, "assign"), {"agent": colleague.pk}, format="json")

    assert_error(response, 409, "senior_required")
    assert snapshot(pool_ticket) == before


def test_assigning_a_closed_ticket_is_refused_with_ticket_closed(closed_ticket, supervisor, colleague):
    before = snapshot(closed_ticket)

    response = as_person(supervisor).post(url(closed_ticket, "assign"), {"agent": colleague.pk}, format="json")

    assert_error(response, 409, "ticket_closed")
    assert snapshot(closed_ticket) == before


def test_an_assignment_without_an_agent_is_an_invalid_body_naming_the_agent(pool_ticket, supervisor):
    before = snapshot(pool_ticket)

    response = as_person(supervisor).post(url(pool_ticket, "assign"), {"force": True}, format="json")

    assert_error(response, 400, "invalid_body", fields=["agent"])
    assert snapshot(pool_ticket) == before


# Taking from the pool --------------------------------------------------------------------------


def test_an_agent_takes_a_ticket_from_the_pool(pool_ticket, agent):
    response = as_person(agent).post(url(pool_ticket, "take"))

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["assignee"]) == (
        pool_ticket.pk,
        "assigned",
        {"id": agent.pk, "name": "agent_a"},
    )
    pool_ticket.refresh_from_db()
    assert (pool_ticket.status, pool_ticket.assignee_id) == (TicketStatus.ASSIGNED, agent.pk)
    row = last_row(pool_ticket)
    assert (row.kind, row.actor_id, row.data["rule"], row.data["chosen"]) == ("assigned", agent.pk, "taken", agent.pk)
    assert row.message == "Assigned to agent_a: taken from the pool."
    assert AgentProfile.objects.get(user=agent).last_assigned_at is not None


def test_taking_a_ticket_someone_holds_is_refused_with_already_assigned(ticket, colleague):
    before = snapshot(ticket)

    response = as_person(colleague).post(url(ticket, "take"))

    assert_error(response, 409, "already_assigned")
    assert snapshot(ticket) == before


def test_taking_a_ticket_at_capacity_is_refused_with_over_capacity(pool_ticket, agent):
    AgentProfile.objects.filter(user=agent).update(capacity=0)
    before = snapshot(pool_ticket)

    response = as_person(agent).post(url(pool_ticket, "take"))

    assert_error(response, 409, "over_capacity")
    assert snapshot(pool_ticket) == before


def test_taking_a_flagged_buyers_ticket_without_the_senior_skill_is_refused_with_senior_required(pool_ticket, agent):
    flag_buyer()
    before = snapshot(pool_ticket)

    response = as_person(agent).post(url(pool_ticket, "take"))

    assert_error(response, 409, "senior_required")
    assert snapshot(pool_ticket) == before


def test_a_senior_agent_takes_a_flagged_buyers_ticket(pool_ticket, agent):
    flag_buyer()
    AgentProfile.objects.filter(user=agent).update(skills=["senior"])

    response = as_person(agent).post(url(pool_ticket, "take"))

    assert response.status_code == 200
    assert last_row(pool_ticket).data["needs_senior"] is True


def test_taking_a_closed_ticket_is_refused_with_ticket_closed(pool_ticket, push, agent):
    push(deleted())
    closed = Ticket.objects.get()
    assert (closed.status, closed.assignee_id) == (TicketStatus.RESOLVED, None)
    before = snapshot(closed)

    response = as_person(agent).post(url(closed, "take"))

    assert_error(response, 409, "ticket_closed")
    assert snapshot(closed) == before


def test_an_integration_key_may_not_take_a_ticket(pool_ticket, key_a):
    before = snapshot(pool_ticket)

    response = as_key(key_a).post(url(pool_ticket, "take"))

    assert_error(response, 403, "permission_denied")
    assert snapshot(pool_ticket) == before


@pytest.mark.parametrize("caller", ["agent_b", "outsider"])
def test_a_person_who_may_not_see_the_shop_gets_404_when_taking(pool_ticket, caller, request):
    person = request.getfixturevalue(caller)
    before = snapshot(pool_ticket)

    response = as_person(person).post(url(pool_ticket, "take"))

    assert_error(response, 404, "not_found")
    assert snapshot(pool_ticket) == before


# Duty ------------------------------------------------------------------------------------------


def test_an_agent_reads_their_duty(ticket, agent):
    AgentProfile.objects.filter(user=agent).update(on_duty=False, capacity=25)

    response = as_person(agent).get(DUTY_URL)

    assert response.status_code == 200
    assert response.json() == {"on_duty": False, "capacity": 25, "open_tickets": 1, "returned_ticket_ids": []}


def test_going_on_duty_over_the_api_queues_a_pool_assignment_after_commit(
    pool_ticket, agent, shop_a, publish, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = as_person(agent).post(DUTY_URL, {"on_duty": True}, format="json")

    assert response.status_code == 200
    assert response.json() == {"on_duty": True, "capacity": 30, "open_tickets": 0, "returned_ticket_ids": []}
    assert AgentProfile.objects.get(user=agent).on_duty is True
    assert len(callbacks) == 1
    publish["pool"].assert_called_once_with(args=(), kwargs={"shop_ids": [shop_a.pk]}, retry=True, retry_policy=ANY)
    assert publish["assign"].call_count == 0

    assert assign_waiting_tickets_task(shop_ids=[shop_a.pk]) == 1
    assert Ticket.objects.get().assignee_id == agent.pk


def test_going_off_duty_over_the_api_can_return_uncontacted_tickets(
    ticket, agent, publish, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_person(agent).post(DUTY_URL, {"on_duty": False, "return_tickets": True}, format="json")

    assert response.status_code == 200
    assert response.json() == {"on_duty": False, "capacity": 30, "open_tickets": 0, "returned_ticket_ids": [ticket.pk]}
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id) == (TicketStatus.NEW, None)
    publish["assign"].assert_called_once_with(args=(ticket.pk,), kwargs={}, retry=True, retry_policy=ANY)


def test_going_off_duty_over_the_api_keeps_tickets_unless_asked(ticket, agent, publish):
    response = as_person(agent).post(DUTY_URL, {"on_duty": False}, format="json")

    assert response.status_code == 200
    assert response.json() == {"on_duty": False, "capacity": 30, "open_tickets": 1, "returned_ticket_ids": []}
    assert Ticket.objects.get().assignee_id == agent.pk


def test_a_person_without_an_agent_profile_gets_403_for_duty(outsider):
    client = as_person(outsider)

    assert_error(client.get(DUTY_URL), 403, "permission_denied")
    assert_error(client.post(DUTY_URL, {"on_duty": True}, format="json"), 403, "permission_denied")
    assert AgentProfile.objects.filter(user=outsider).exists() is False


def test_an_integration_key_gets_403_for_duty(key_a, agent):
    before = list(AgentProfile.objects.values())

    assert_error(as_key(key_a).get(DUTY_URL), 403, "permission_denied")
    assert_error(as_key(key_a).post(DUTY_URL, {"on_duty": True}, format="json"), 403, "permission_denied")
    assert list(AgentProfile.objects.values()) == before


def test_an_anonymous_caller_gets_401_for_duty(agent):
    assert_error(APIClient().get(DUTY_URL), 401, "not_authenticated")


def test_a_duty_change_without_on_duty_is_an_invalid_body_and_changes_nothing(agent):
    before = list(AgentProfile.objects.values())

    response = as_person(agent).post(DUTY_URL, {"return_tickets": True}, format="json")

    assert_error(response, 400, "invalid_body", fields=["on_duty"])
    assert list(AgentProfile.objects.values()) == before


# Cause, outcome, remedies, causes (issue 4) ------------------------------------------------------


def revised_positive(review_id="r-1"):
    return {
        "event_id": f"e-revised-{review_id}",
        "type": "review.revised",
        "occurred_at": "2026-03-03T09:00:00+08:00",
        "platform": "taobao",
        "shop": "tb-a",
        "review_id": review_id,
        "rating": {"stars": 5},
    }


def test_the_assignee_sets_the_cause_and_gets_the_ticket(ticket, agent):
    response = as_person(agent).post(url(ticket, "cause"), {"cause": "poor_quality", "note": "线头"}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["id"], response.json()["cause"]) == (ticket.pk, "poor_quality")
    row = last_row(ticket)
    assert (row.kind, row.actor_id, row.data) == (
        "cause_set",
        agent.pk,
        {"from": None, "to": "poor_quality", "note": "线头"},
    )


def test_an_unknown_cause_is_an_invalid_body_naming_the_cause(ticket, agent):
    before = snapshot(ticket)

    response = as_person(agent).post(url(ticket, "cause"), {"cause": "nope"}, format="json")

    assert_error(response, 400, "invalid_body", fields=["cause"])
    assert snapshot(ticket) == before


def test_setting_the_cause_of_a_closed_ticket_is_a_409(closed_ticket, agent):
    before = snapshot(closed_ticket)

    response = as_person(agent).post(url(closed_ticket, "cause"), {"cause": "damaged"}, format="json")

    assert_error(response, 409, "ticket_closed")
    assert snapshot(closed_ticket) == before


@pytest.mark.parametrize("action", ["cause", "outcome", "remedies"])
def test_another_agent_of_the_shop_may_not_act_on_the_ticket(ticket, colleague, action):
    before = snapshot(ticket)
    body = {"cause": "damaged", "outcome": "unreachable", "kind": "coupon", "amount": "5.00", "status": "offered"}

    response = as_person(colleague).post(url(ticket, action), body, format="json")

    assert_error(response, 403, "permission_denied")
    assert snapshot(ticket) == before


@pytest.mark.parametrize("action", ["cause", "outcome", "remedies"])
@pytest.mark.parametrize("caller", ["agent_b", "outsider", "supervisor_b"])
def test_a_person_who_may_not_see_the_shop_gets_404_for_issue_4_actions(ticket, caller, action, request):
    person = request.getfixturevalue(caller)
    before = snapshot(ticket)
    body = {"cause": "damaged", "outcome": "unreachable", "kind": "coupon", "amount": "5.00", "status": "offered"}

    response = as_person(person).post(url(ticket, action), body, format="json")

    assert_error(response, 404, "not_found")
    assert snapshot(ticket) == before


@pytest.mark.parametrize("action", ["cause", "outcome", "remedies"])
def test_an_integration_key_may_not_use_issue_4_actions(ticket, key_a, action):
    before = snapshot(ticket)

    response = as_key(key_a).post(url(ticket, action), {"cause": "damaged"}, format="json")

    assert_error(response, 403, "permission_denied")
    assert snapshot(ticket) == before


def test_claiming_an_outcome_over_the_api_closes_the_ticket_unverified(ticket, agent):
    response = as_person(agent).post(
        url(ticket, "outcome"), {"outcome": "buyer_refused", "note": "不接受"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["outcome"], body["verified"]) == ("closed_unresolved", "buyer_refused", False)
    assert body["closed_at"] is not None


def test_an_unknown_outcome_is_an_invalid_body(ticket, agent):
    before = snapshot(ticket)

    response = as_person(agent).post(url(ticket, "outcome"), {"outcome": "bribed"}, format="json")

    assert_error(response, 400, "invalid_body", fields=["outcome"])
    assert snapshot(ticket) == before


def test_claiming_on_a_closed_ticket_over_the_api_is_a_409(closed_ticket, agent):
    before = snapshot(closed_ticket)

    response = as_person(agent).post(url(closed_ticket, "outcome"), {"outcome": "revised_positive"}, format="json")

    assert_error(response, 409, "ticket_closed")
    assert snapshot(closed_ticket) == before


def test_a_claimed_revision_is_verified_when_the_platform_reports_it(ticket, agent, push):
    client = as_person(agent)
    claimed = client.post(url(ticket, "outcome"), {"outcome": "revised_positive"}, format="json").json()
    assert (claimed["status"], claimed["outcome"], claimed["verified"]) == ("resolved", "revised_positive", False)

    response = push(revised_positive())

    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["ticket_id"] == ticket.pk
    body = client.get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert (body["status"], body["outcome"], body["verified"]) == ("resolved", "revised_positive", True)
    row = last_row(ticket)
    assert (row.kind, row.data) == (
        "outcome_verified",
        {"outcome": "revised_positive", "claimed": "revised_positive", "verified": True},
    )


def test_a_remedy_within_the_cap_is_recorded_over_the_api(ticket, agent):
    response = as_person(agent).post(
        url(ticket, "remedies"), {"kind": "reissue", "amount": "0.00", "status": "accepted"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["amount"], body["status"], body["requested_status"], body["compliance"]) == (
        "reissue",
        "0.00",
        "accepted",
        "accepted",
        [],
    )
    detail = as_person(agent).get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert [r["id"] for r in detail["remedies"]] == [body["id"]]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"kind": "coupon", "amount": "-1.00", "status": "offered"}, ["amount"]),
        ({"kind": "coupon", "amount": "1.001", "status": "offered"}, ["amount"]),
        ({"kind": "coupon", "amount": "5", "status": "pending_approval"}, ["status"]),
        ({"kind": "bribe", "amount": "5", "status": "offered"}, ["kind"]),
        ({}, ["amount", "kind", "status"]),
    ],
)
def test_a_bad_remedy_is_an_invalid_body_naming_the_fields(ticket, agent, body, fields):
    before = snapshot(ticket)

    response = as_person(agent).post(url(ticket, "remedies"), body, format="json")

    assert_error(response, 400, "invalid_body", fields=fields)
    assert snapshot(ticket) == before


def test_a_remedy_on_a_closed_ticket_is_a_409(closed_ticket, agent):
    before = snapshot(closed_ticket)

    response = as_person(agent).post(
        url(closed_ticket, "remedies"), {"kind": "coupon", "amount": "5", "status": "offered"}, format="json"
    )

    assert_error(response, 409, "ticket_closed")
    assert snapshot(closed_ticket) == before


def test_the_causes_are_listed_in_order_with_names(agent):
    response = as_person(agent).get("/api/v1/causes/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    body = response.json()
    assert [c["code"] for c in body][:4] == ["slow_delivery", "lost_parcel", "courier_attitude", "fake_signoff"]
    assert len(body) == 18
    assert body[0] == {
        "code": "slow_delivery",
        "group": "logistics",
        "name": "Slow delivery",
        "name_zh": "物流慢",
        "name_en": "Slow delivery",
    }


def test_the_causes_need_a_login():
    assert_error(APIClient().get("/api/v1/causes/"), 401, "not_authenticated")

"""Actions on the ticket page (issue 4): each plain form posts to a view that validates it, calls
one service and redirects back with a message. Bad input shows form errors, a refusal by the rules
shows its message, a role that may not act gets 403, and a refused action changes nothing."""

# ruff: noqa: F811 - pytest finds the shared fixtures (tests/workspace.py) by the names imported here

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from contacts.models import Buyer, RiskLevel
from reviews.models import Review
from tickets.choices import RemedyStatus, TicketStatus
from tickets.models import AgentProfile, ContactAttempt, FollowUpVisit, Notification, Remedy, Ticket, TicketEvent

from .conftest import event
from .workspace import colleague, login, pool_ticket, snapshot, supervisor_b, ticket  # noqa: F401

pytestmark = pytest.mark.django_db

FLAGGED = "改成好评就给您返现10元"
TOO_LONG = "字" * 2001


def url(ticket, action):
    return f"/tickets/{ticket.pk}/{action}/"


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def assert_back_to_ticket(response, ticket):
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == f"/tickets/{ticket.pk}/"


def assert_refused_on_page(response, form_testid, message):
    """A refusal by the rules: the ticket page again (409), the reason beside the form the agent
    filled in, which keeps what they typed."""
    assert response.status_code == 409
    page = response.content.decode()
    form = page[page.index(f'data-testid="{form_testid}"') :]
    form = form[: form.index("</form>")]
    assert message in form, form
    return form


def assert_form_error(response, form_testid):
    """The ticket page again, the form marked with its errors."""
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-testid="{form_testid}"' in page
    form = page[page.index(f'data-testid="{form_testid}"') :]
    form = form[: form.index("</form>")]
    assert 'class="errorlist' in form, form
    return form


@pytest.fixture
def fresh_ticket(push, agent):
    """A ticket of a review written today (inside the explanation window), held by `agent`."""
    now = timezone.now().isoformat()
    push(event(event_id="e-fresh", review_id="r-fresh", occurred_at=now))
    ticket = Ticket.objects.get(review__review_id="r-fresh")
    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent, status=TicketStatus.ASSIGNED)
    ticket.refresh_from_db()
    return ticket


@pytest.fixture
def pending_remedy(ticket, agent):
    response = login(agent).post(
        url(ticket, "remedies"), {"kind": "partial_refund", "amount": "80.00", "status": "offered"}
    )
    assert_back_to_ticket(response, ticket)
    remedy = Remedy.objects.get()
    assert remedy.status == RemedyStatus.PENDING_APPROVAL
    return remedy


# Contact attempts --------------------------------------------------------------------------------


def test_the_assignee_logs_a_contact_attempt(agent, ticket):
    response = login(agent).post(
        url(ticket, "contact-attempts"), {"channel": "im", "result": "no_answer", "note": "未读"}
    )

    assert_back_to_ticket(response, ticket)
    assert texts(response) == ["Contact attempt logged."]
    attempt = ContactAttempt.objects.get()
    assert (attempt.agent_id, attempt.channel, attempt.result, attempt.note) == (agent.pk, "im", "no_answer", "未读")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_PROGRESS and ticket.first_contact_at == attempt.created_at


def test_a_supervisor_of_the_shop_logs_a_contact_attempt(supervisor, ticket):
    response = login(supervisor).post(url(ticket, "contact-attempts"), {"channel": "im", "result": "message_sent"})

    assert_back_to_ticket(response, ticket)
    assert ContactAttempt.objects.get().agent_id == supervisor.pk


def test_another_agent_of_the_shop_may_not_log_a_contact_attempt(colleague, ticket):
    before = snapshot(ticket)

    response = login(colleague).post(url(ticket, "contact-attempts"), {"channel": "im", "result": "reached"})

    assert response.status_code == 403
    assert 'data-testid="page-403"' in response.content.decode()
    assert snapshot(ticket) == before


@pytest.mark.parametrize("who", ["agent_b", "outsider"])
def test_a_ticket_outside_the_users_shops_is_404_for_actions(who, agent_b, outsider, ticket):
    user = {"agent_b": agent_b, "outsider": outsider}[who]
    before = snapshot(ticket)

    response = login(user).post(url(ticket, "contact-attempts"), {"channel": "im", "result": "reached"})

    assert response.status_code == 404
    assert snapshot(ticket) == before


@pytest.mark.parametrize(
    "data",
    [
        {"channel": "pigeon", "result": "reached"},
        {"channel": "im", "result": ""},
        {"channel": "im", "result": "reached", "note": TOO_LONG},
    ],
)
def test_bad_contact_attempt_input_shows_form_errors_and_changes_nothing(agent, ticket, data):
    before = snapshot(ticket)

    response = login(agent).post(url(ticket, "contact-attempts"), data)

    assert_form_error(response, "contact-form")
    assert snapshot(ticket) == before


def test_a_contact_attempt_on_a_closed_ticket_is_refused_with_its_message(supervisor, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(status=TicketStatus.RESOLVED)
    before = snapshot(ticket)

    response = login(supervisor).post(url(ticket, "contact-attempts"), {"channel": "im", "result": "reached"})

    assert_back_to_ticket(response, ticket)
    assert texts(response) == ["This ticket is closed; reopen it before contacting the buyer."]
    assert snapshot(ticket) == before


def test_a_call_in_the_buyers_quiet_hours_is_refused_unless_the_agent_gives_a_reason(agent, ticket, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 23, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai")))
    before = snapshot(ticket)
    client = login(agent)

    refused = client.post(url(ticket, "contact-attempts"), {"channel": "phone", "result": "no_answer"})
    form = assert_refused_on_page(refused, "contact-form", "Not now:")
    assert '<option value="phone" selected>' in form and '<option value="no_answer" selected>' in form
    assert snapshot(ticket) == before

    allowed = client.post(
        url(ticket, "contact-attempts"),
        {"channel": "phone", "result": "reached", "override_reason": "买家约好今晚回电"},
    )
    assert_back_to_ticket(allowed, ticket)
    assert ContactAttempt.objects.get().channel == "phone"
    assert "买家约好今晚回电" in TicketEvent.objects.filter(ticket=ticket, kind="contact_attempt").get().message


def test_a_get_on_an_action_url_is_not_allowed(agent, ticket):
    assert login(agent).get(url(ticket, "contact-attempts")).status_code == 405


# Take and reassign -------------------------------------------------------------------------------


def test_an_agent_takes_a_pool_ticket(agent, pool_ticket):
    response = login(agent).post(url(pool_ticket, "take"), {"next": "/pool/"})

    assert_back_to_ticket(response, pool_ticket)
    pool_ticket.refresh_from_db()
    assert (pool_ticket.assignee_id, pool_ticket.status) == (agent.pk, TicketStatus.ASSIGNED)


def test_taking_over_capacity_is_refused_with_a_message_on_the_pool(agent, pool_ticket):
    AgentProfile.objects.filter(user=agent).update(capacity=0)
    before = snapshot(pool_ticket)

    response = login(agent).post(url(pool_ticket, "take"), {"next": "/pool/"})

    assert response.status_code == 302 and response["Location"] == "/pool/"
    assert texts(response) == ["agent_a already holds 0 open tickets, their capacity."]
    assert snapshot(pool_ticket) == before
    page = login(agent).get("/pool/")
    assert page.status_code == 200


def test_taking_a_ticket_of_a_flagged_buyer_needs_a_senior_agent(agent, pool_ticket):
    Buyer.objects.update(risk_level=RiskLevel.HIGH)
    before = snapshot(pool_ticket)

    response = login(agent).post(url(pool_ticket, "take"))

    assert texts(response) == ["This buyer is flagged for abuse: a senior agent must handle it."]
    assert snapshot(pool_ticket) == before


def test_taking_an_assigned_ticket_is_refused(colleague, ticket):
    before = snapshot(ticket)

    response = login(colleague).post(url(ticket, "take"))

    assert texts(response) == ["This ticket is already assigned."]
    assert snapshot(ticket) == before


def test_a_supervisor_reassigns_a_ticket(supervisor, colleague, ticket):
    response = login(supervisor).post(url(ticket, "assign"), {"agent": colleague.pk})

    assert_back_to_ticket(response, ticket)
    assert texts(response) == ["Ticket assigned."]
    assert Ticket.objects.get().assignee_id == colleague.pk
    assert Notification.objects.filter(recipient=colleague, kind="assigned").count() == 1


def test_reassigning_over_capacity_needs_the_force_checkbox(supervisor, colleague, ticket):
    AgentProfile.objects.filter(user=colleague).update(capacity=0)
    before = snapshot(ticket)
    client = login(supervisor)

    refused = client.post(url(ticket, "assign"), {"agent": colleague.pk})
    assert texts(refused) == ["colleague_a already holds 0 open tickets, their capacity."]
    assert snapshot(ticket) == before

    forced = client.post(url(ticket, "assign"), {"agent": colleague.pk, "force": "on"})
    assert_back_to_ticket(forced, ticket)
    assert Ticket.objects.get().assignee_id == colleague.pk


def test_an_agent_may_not_reassign(agent, colleague, ticket):
    before = snapshot(ticket)

    response = login(agent).post(url(ticket, "assign"), {"agent": colleague.pk, "force": "on"})

    assert response.status_code == 403
    assert snapshot(ticket) == before


def test_reassigning_to_someone_outside_the_shop_is_a_form_error(supervisor, agent_b, ticket):
    before = snapshot(ticket)

    response = login(supervisor).post(url(ticket, "assign"), {"agent": agent_b.pk})

    assert_form_error(response, "assign-form")
    assert snapshot(ticket) == before


# Cause -------------------------------------------------------------------------------------------


def test_the_assignee_sets_the_cause(agent, ticket):
    response = login(agent).post(url(ticket, "cause"), {"cause": "damaged", "note": "外箱压扁"})

    assert_back_to_ticket(response, ticket)
    assert Ticket.objects.get().cause == "damaged"
    assert TicketEvent.objects.filter(ticket=ticket, kind="cause_set").count() == 1
    assert "Damaged" in login(agent).get(f"/tickets/{ticket.pk}/").content.decode()


def test_an_unknown_cause_is_a_form_error(agent, ticket):
    before = snapshot(ticket)

    response = login(agent).post(url(ticket, "cause"), {"cause": "aliens"})

    assert_form_error(response, "cause-form")
    assert snapshot(ticket) == before


def test_another_agent_may_not_set_the_cause(colleague, ticket):
    before = snapshot(ticket)

    assert login(colleague).post(url(ticket, "cause"), {"cause": "damaged"}).status_code == 403
    assert snapshot(ticket) == before


# Remedies ----------------------------------------------------------------------------------------


def test_a_remedy_within_the_cap_is_recorded(agent, ticket):
    response = login(agent).post(
        url(ticket, "remedies"), {"kind": "coupon", "amount": "10.00", "status": "accepted", "note": "补偿运费"}
    )

    assert_back_to_ticket(response, ticket)
    assert texts(response) == ["Remedy recorded."]
    remedy = Remedy.objects.get()
    assert (remedy.kind, remedy.amount, remedy.status, remedy.offered_by_id) == (
        "coupon",
        Decimal("10.00"),
        "accepted",
        agent.pk,
    )


def test_a_remedy_over_the_cap_waits_for_approval(agent, supervisor, ticket):
    response = login(agent).post(
        url(ticket, "remedies"), {"kind": "partial_refund", "amount": "80", "status": "offered"}
    )

    assert texts(response) == ["The remedy is above your cap: it waits for a supervisor's approval."]
    assert Remedy.objects.get().status == RemedyStatus.PENDING_APPROVAL
    assert Notification.objects.filter(recipient=supervisor, kind="remedy_approval").count() == 1


def test_a_remedy_note_that_ties_it_to_the_review_is_saved_with_a_warning(agent, ticket):
    response = login(agent).post(
        url(ticket, "remedies"), {"kind": "coupon", "amount": "5", "status": "offered", "note": FLAGGED}
    )

    messages = texts(response)
    assert any(m.startswith("Compliance warning:") for m in messages), messages
    assert Remedy.objects.get().compliance_reasons
    page = login(agent).get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'data-testid="remedy-compliance"' in page


@pytest.mark.parametrize(
    ("action", "fields"),
    [("cause", {"cause": "poor_quality"}), ("outcome", {"outcome": "explained"})],
)
def test_a_cause_or_outcome_note_that_ties_a_reward_to_the_review_is_saved_with_a_warning(
    agent, ticket, action, fields
):
    response = login(agent).post(url(ticket, action), {**fields, "note": FLAGGED})

    messages = texts(response)
    assert any(m.startswith("Compliance warning:") for m in messages), messages
    flagged = TicketEvent.objects.filter(ticket=ticket, data__note=FLAGGED).get()
    assert flagged.data["compliance"]


@pytest.mark.parametrize("amount", ["abc", "-1", "1.234", "100000000", ""])
def test_a_bad_amount_is_a_form_error(agent, ticket, amount):
    before = snapshot(ticket)

    response = login(agent).post(url(ticket, "remedies"), {"kind": "coupon", "amount": amount, "status": "offered"})

    assert_form_error(response, "remedy-form")
    assert snapshot(ticket) == before


def test_an_oversized_remedy_note_is_a_form_error(agent, ticket):
    before = snapshot(ticket)

    response = login(agent).post(
        url(ticket, "remedies"), {"kind": "coupon", "amount": "5", "status": "offered", "note": TOO_LONG}
    )

    assert_form_error(response, "remedy-form")
    assert snapshot(ticket) == before


def test_another_agent_may_not_record_a_remedy(colleague, ticket):
    before = snapshot(ticket)

    response = login(colleague).post(url(ticket, "remedies"), {"kind": "coupon", "amount": "5", "status": "offered"})

    assert response.status_code == 403
    assert snapshot(ticket) == before


def test_a_supervisor_approves_a_pending_remedy_from_the_approvals_page(supervisor, agent, ticket, pending_remedy):
    client = login(supervisor)
    page = client.get("/approvals/").content.decode()
    assert f'data-remedy-id="{pending_remedy.pk}"' in page

    response = client.post(f"/remedies/{pending_remedy.pk}/decide/", {"approve": "1", "next": "/approvals/"})

    assert response.status_code == 302 and response["Location"] == "/approvals/"
    pending_remedy.refresh_from_db()
    assert (pending_remedy.status, pending_remedy.decided_by_id) == (RemedyStatus.OFFERED, supervisor.pk)
    assert Notification.objects.filter(recipient=agent, kind="remedy_decided").count() == 1
    assert f'data-remedy-id="{pending_remedy.pk}"' not in client.get("/approvals/").content.decode()


def test_a_supervisor_rejects_a_remedy_with_a_reason(supervisor, ticket, pending_remedy):
    response = login(supervisor).post(f"/remedies/{pending_remedy.pk}/decide/", {"approve": "0", "reason": "太多了"})

    assert_back_to_ticket(response, ticket)
    pending_remedy.refresh_from_db()
    assert (pending_remedy.status, pending_remedy.decision_reason) == (RemedyStatus.REJECTED, "太多了")


def test_rejecting_without_a_reason_is_refused_and_changes_nothing(supervisor, ticket, pending_remedy):
    before = snapshot(ticket)

    response = login(supervisor).post(f"/remedies/{pending_remedy.pk}/decide/", {"approve": "0"})

    assert texts(response) == ["Say why the remedy is rejected."]
    assert snapshot(ticket) == before


def test_an_agent_may_not_approve_a_remedy(agent, ticket, pending_remedy):
    before = snapshot(ticket)

    response = login(agent).post(f"/remedies/{pending_remedy.pk}/decide/", {"approve": "1"})

    assert response.status_code == 403
    assert snapshot(ticket) == before


def test_a_supervisor_of_another_shop_cannot_see_the_remedy(supervisor_b, ticket, pending_remedy):
    before = snapshot(ticket)

    assert login(supervisor_b).post(f"/remedies/{pending_remedy.pk}/decide/", {"approve": "1"}).status_code == 404
    assert snapshot(ticket) == before


def test_the_assignee_records_the_buyers_answer_to_an_offered_remedy(agent, ticket):
    client = login(agent)
    client.post(url(ticket, "remedies"), {"kind": "reissue", "amount": "0", "status": "offered"})
    remedy = Remedy.objects.get()

    response = client.post(f"/remedies/{remedy.pk}/status/", {"status": "accepted"})

    assert_back_to_ticket(response, ticket)
    remedy.refresh_from_db()
    assert remedy.status == RemedyStatus.ACCEPTED


def test_another_agent_may_not_record_the_buyers_answer(agent, colleague, ticket):
    login(agent).post(url(ticket, "remedies"), {"kind": "reissue", "amount": "0", "status": "offered"})
    remedy = Remedy.objects.get()
    before = snapshot(ticket)

    assert login(colleague).post(f"/remedies/{remedy.pk}/status/", {"status": "accepted"}).status_code == 403
    assert snapshot(ticket) == before


# Outcome, explanation, escalation, notes, visits -------------------------------------------------


def test_the_assignee_claims_an_outcome_which_closes_the_ticket(agent, ticket):
    response = login(agent).post(url(ticket, "outcome"), {"outcome": "revised_positive", "note": "买家已改好评"})

    assert_back_to_ticket(response, ticket)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.outcome, ticket.outcome_verified) == ("resolved", "revised_positive", False)


def test_an_unknown_outcome_is_a_form_error(agent, ticket):
    before = snapshot(ticket)

    assert_form_error(login(agent).post(url(ticket, "outcome"), {"outcome": "bribed"}), "outcome-form")
    assert snapshot(ticket) == before


def test_another_agent_may_not_claim_an_outcome(colleague, ticket):
    before = snapshot(ticket)

    assert login(colleague).post(url(ticket, "outcome"), {"outcome": "unreachable"}).status_code == 403
    assert snapshot(ticket) == before


def test_the_assignee_records_a_seller_explanation(agent, fresh_ticket):
    response = login(agent).post(url(fresh_ticket, "explanation"), {"content": "已为您补发，给您添麻烦了。"})

    assert_back_to_ticket(response, fresh_ticket)
    assert Review.objects.get(review_id="r-fresh").reply_content == "已为您补发，给您添麻烦了。"


def test_an_explanation_past_the_platforms_window_is_refused_with_its_message(agent, ticket):
    before = snapshot(ticket)

    response = login(agent).post(url(ticket, "explanation"), {"content": "说明"})

    assert_back_to_ticket(response, ticket)
    assert texts(response) == ["The review is older than 30 days; an explanation is no longer possible."]
    assert snapshot(ticket) == before


def test_the_assignee_escalates_to_the_supervisors(agent, supervisor, ticket):
    response = login(agent).post(url(ticket, "escalate"), {"reason": "买家威胁投诉"})

    assert_back_to_ticket(response, ticket)
    assert Ticket.objects.get().status == TicketStatus.ESCALATED
    assert Notification.objects.filter(recipient=supervisor, kind="escalated").count() == 1


def test_escalating_without_a_reason_is_a_form_error(agent, ticket):
    before = snapshot(ticket)

    assert_form_error(login(agent).post(url(ticket, "escalate"), {"reason": " "}), "escalate-form")
    assert snapshot(ticket) == before


def test_the_assignee_adds_a_note_and_a_flagged_one_shows_a_warning(agent, ticket):
    client = login(agent)
    plain = client.post(url(ticket, "notes"), {"text": "买家下午三点后方便接电话"})
    assert texts(plain) == ["Note added."]

    flagged = client.post(url(ticket, "notes"), {"text": FLAGGED})
    messages = texts(flagged)  # the first request's message was never shown, so it is still queued
    assert messages[-1] == "Note added." and messages[-2].startswith("Compliance warning:")
    assert TicketEvent.objects.filter(ticket=ticket, kind="note").count() == 2


def test_an_oversized_note_is_a_form_error(agent, ticket):
    before = snapshot(ticket)

    form = assert_form_error(login(agent).post(url(ticket, "notes"), {"text": TOO_LONG}), "note-form")
    assert "at most 2000 characters" in form
    assert snapshot(ticket) == before


def test_another_agent_may_not_add_a_note_or_escalate(colleague, ticket):
    before = snapshot(ticket)
    client = login(colleague)

    assert client.post(url(ticket, "notes"), {"text": "hi"}).status_code == 403
    assert client.post(url(ticket, "escalate"), {"reason": "why"}).status_code == 403
    assert snapshot(ticket) == before


def test_the_assignee_schedules_a_follow_up_visit_and_marks_it_done(agent, ticket):
    client = login(agent)
    due_on = timezone.localdate() + dt.timedelta(days=3)

    response = client.post(url(ticket, "visits"), {"due_on": due_on.isoformat(), "note": "确认补发到货"})
    assert_back_to_ticket(response, ticket)
    visit = FollowUpVisit.objects.get()
    assert visit.due_on == due_on

    done = client.post(f"/visits/{visit.pk}/done/")
    assert_back_to_ticket(done, ticket)
    visit.refresh_from_db()
    assert visit.done_at is not None


def test_a_visit_in_the_past_is_refused_and_a_bad_date_is_a_form_error(agent, ticket):
    before = snapshot(ticket)
    client = login(agent)

    past = client.post(url(ticket, "visits"), {"due_on": "2020-01-01"})
    assert texts(past) == ["A follow-up visit cannot be due in the past."]
    assert_form_error(client.post(url(ticket, "visits"), {"due_on": "next week"}), "visit-form")
    assert snapshot(ticket) == before
    assert FollowUpVisit.objects.count() == 0


def test_another_agent_may_not_mark_a_visit_done(agent, colleague, ticket):
    login(agent).post(url(ticket, "visits"), {"due_on": timezone.localdate().isoformat()})
    visit = FollowUpVisit.objects.get()

    assert login(colleague).post(f"/visits/{visit.pk}/done/").status_code == 403
    visit.refresh_from_db()
    assert visit.done_at is None


# Notifications -----------------------------------------------------------------------------------


def test_marking_notifications_read_touches_only_my_own(agent, colleague, ticket):
    mine = Notification.objects.create(recipient=agent, ticket=ticket, kind="sla_warning", message="mine")
    other = Notification.objects.create(recipient=colleague, ticket=ticket, kind="sla_warning", message="theirs")
    client = login(agent)

    client.post("/notifications/read/", {"id": other.pk})
    other.refresh_from_db()
    assert other.read_at is None

    response = client.post("/notifications/read/", {"id": mine.pk})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_mark_all_read(agent, ticket):
    for i in range(3):
        Notification.objects.create(recipient=agent, ticket=ticket, kind="sla_warning", message=str(i))

    login(agent).post("/notifications/read/")

    assert Notification.objects.filter(read_at__isnull=True).count() == 0

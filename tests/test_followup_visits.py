"""Follow-up visits (回访): planned on a ticket, marked done, and reminded once on the day they are
due (China date) by the hourly beat task."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from tickets.actions import followup_visit_done, followup_visit_schedule, followup_visits_remind
from tickets.models import FollowUpVisit, Notification, TicketEvent
from tickets.services import TicketActionRefused
from tickets.tasks import remind_followup_visits_task

from .ticket_fixtures import *  # noqa: F403 — fixtures

pytestmark = pytest.mark.django_db

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def china_today():
    return timezone.now().astimezone(SHANGHAI).date()


def visit(ticket, agent, due_on, **fields):
    return FollowUpVisit.objects.create(ticket=ticket, agent=agent, due_on=due_on, **fields)


def test_planning_a_visit_stores_it_with_a_timeline_row(ticket, agent):
    due = china_today() + dt.timedelta(days=3)

    planned = followup_visit_schedule(ticket.pk, agent, due_on=due, note="确认补发的包裹已收到")

    assert (planned.ticket_id, planned.agent_id, planned.due_on, planned.note) == (
        ticket.pk,
        agent.pk,
        due,
        "确认补发的包裹已收到",
    )
    row = TicketEvent.objects.filter(ticket=ticket).order_by("id").last()
    assert (row.kind, row.actor_id, row.data) == (
        "followup_visit",
        agent.pk,
        {"visit": planned.pk, "due_on": due.isoformat(), "note": "确认补发的包裹已收到"},
    )


def test_a_visit_may_be_due_today_but_not_in_the_past(ticket, agent):
    assert followup_visit_schedule(ticket.pk, agent, due_on=china_today()).due_on == china_today()
    timeline = TicketEvent.objects.count()

    with pytest.raises(TicketActionRefused) as info:
        followup_visit_schedule(ticket.pk, agent, due_on=china_today() - dt.timedelta(days=1))

    assert info.value.code == "date_in_past"
    assert (FollowUpVisit.objects.count(), TicketEvent.objects.count()) == (1, timeline)


def test_a_visit_is_done_once(ticket, agent):
    planned = followup_visit_schedule(ticket.pk, agent, due_on=china_today())

    done = followup_visit_done(planned.pk, agent)

    assert done.done_at is not None
    assert TicketEvent.objects.filter(ticket=ticket, kind="followup_visit").count() == 2
    with pytest.raises(TicketActionRefused) as info:
        followup_visit_done(planned.pk, agent)
    assert info.value.code == "already_done"
    assert FollowUpVisit.objects.get().done_at == done.done_at


def test_visits_due_on_the_china_date_are_reminded_once_each(ticket, agent):
    # 2026-03-02 17:30 UTC is already 2026-03-03 01:30 in Shanghai.
    now = dt.datetime(2026, 3, 2, 17, 30, tzinfo=dt.UTC)
    today = visit(ticket, agent, dt.date(2026, 3, 3), note="回访")
    overdue = visit(ticket, agent, dt.date(2026, 3, 1))
    visit(ticket, agent, dt.date(2026, 3, 4))  # tomorrow
    visit(ticket, agent, dt.date(2026, 3, 3), done_at=now)  # done
    visit(ticket, agent, dt.date(2026, 3, 3), reminded_at=now - dt.timedelta(hours=1))  # reminded

    assert followup_visits_remind(now=now) == 2
    assert followup_visits_remind(now=now + dt.timedelta(hours=1)) == 0

    notes = list(Notification.objects.order_by("id").values_list("recipient_id", "kind", "ticket_id"))
    assert notes == [(agent.pk, "followup_due", ticket.pk)] * 2
    assert set(FollowUpVisit.objects.filter(reminded_at=now).values_list("id", flat=True)) == {today.pk, overdue.pk}


def test_a_visit_without_its_agent_reminds_the_tickets_assignee(ticket, agent):
    visit(ticket, None, china_today())

    assert followup_visits_remind() == 1
    assert Notification.objects.get().recipient_id == agent.pk


def test_the_task_calls_the_service_and_the_beat_runs_it_hourly(ticket, agent):
    visit(ticket, agent, china_today())

    assert remind_followup_visits_task() == 1
    assert remind_followup_visits_task() == 0
    entry = settings.CELERY_BEAT_SCHEDULE["remind-followup-visits"]
    assert entry == {"task": "tickets.tasks.remind_followup_visits_task", "schedule": 3600.0}

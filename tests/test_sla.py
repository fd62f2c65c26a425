"""SLA clocks (tickets/sla.py) with frozen time: due times set when the push API opens a ticket,
the sweep that fires each warning and breach once, what a breach does, and who hears of it
(DESIGN.md § SLA, issue 3 § SLA)."""

import datetime as dt
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tickets import sla
from tickets.assignment import assign_ticket
from tickets.choices import Role, SlaState, TicketStatus, TimelineKind
from tickets.models import BusinessCalendar, CalendarDay, Notification, SlaPolicy, Ticket, TicketEvent
from tickets.services import contact_attempt_log
from tickets.sla import live_state, sla_sweep

from .conftest import event
from .factories import UserFactory, make_agent

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOTHING = {"first_contact_warning": 0, "first_contact_breach": 0, "resolution_warning": 0, "resolution_breach": 0}


def sh(*args):
    return dt.datetime(*args, tzinfo=SHANGHAI)


def minutes(n):
    return dt.timedelta(minutes=n)


def fired(**counts):
    return {**NOTHING, **counts}


def at(when):
    return time_machine.travel(when, tick=False)


def open_ticket(push, when, **overrides):
    """Push a review.created event at `when` (frozen) and return the ticket it opened."""
    with at(when):
        response = push(event(**overrides))
    assert response.status_code == 200, response.content
    return Ticket.objects.get(pk=response.json()["results"][0]["ticket_id"])


def open_tickets(push, when, n, *, prefix):
    """Push `n` review.created events in one batch at `when`; returns their tickets' ids."""
    body = {"events": [event(event_id=f"{prefix}-e{i}", review_id=f"{prefix}-r{i}") for i in range(n)]}
    with at(when):
        response = push(body)
    assert response.status_code == 200, response.content
    return [row["ticket_id"] for row in response.json()["results"]]


def sweep(when):
    with at(when):
        return sla_sweep()


def sla_rows(ticket):
    return list(
        TicketEvent.objects.filter(ticket=ticket, kind=TimelineKind.SLA)
        .order_by("id")
        .values_list("data__clock", "created_at")
    )


def notified(ticket):
    return sorted(
        Notification.objects.filter(ticket=ticket).values_list("recipient__username", "kind", "message", "created_at")
    )


@pytest.fixture
def office(db):
    """Mon–Fri 09:00–21:00 in Shanghai, with 国庆节 closed and two make-up days."""
    calendar = BusinessCalendar.objects.create(
        name="office",
        timezone="Asia/Shanghai",
        weekly_hours={day: [["09:00", "21:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        makeup_day_hours=[["10:00", "18:00"]],
    )
    CalendarDay.objects.bulk_create(
        [CalendarDay(calendar=calendar, date=dt.date(2026, 10, d), kind=CalendarDay.Kind.HOLIDAY) for d in range(1, 8)]
        + [
            CalendarDay(calendar=calendar, date=dt.date(2026, 9, 27), kind=CalendarDay.Kind.WORKDAY),
            CalendarDay(calendar=calendar, date=dt.date(2026, 10, 10), kind=CalendarDay.Kind.WORKDAY),
        ]
    )
    return calendar


@pytest.fixture
def office_policy(shop_a, office):
    """Any tier of shop A: first contact in 30 business minutes, resolution in 600, warn at half."""
    return SlaPolicy.objects.create(
        shop=shop_a,
        tier="",
        calendar=office,
        first_contact_minutes=30,
        resolution_minutes=600,
        warning_ratio=Decimal("0.50"),
        breach_action=SlaPolicy.BreachAction.ESCALATE,
    )


@pytest.fixture
def on_duty_agent(shop_a):
    return make_agent(shop_a, username="agent_on_duty", on_duty=True)


# Due times when a ticket opens ---------------------------------------------------------------


def test_a_pushed_ticket_gets_due_times_in_business_minutes_from_its_shop_policy(push, office_policy):
    ticket = open_ticket(push, sh(2026, 3, 2, 20, 50))
    assert ticket.created_at == sh(2026, 3, 2, 20, 50)
    # 10 minutes on Monday evening, the rest from Tuesday 09:00.
    assert ticket.first_contact_warn_at == sh(2026, 3, 3, 9, 5)
    assert ticket.first_contact_due_at == sh(2026, 3, 3, 9, 20)
    assert ticket.resolution_warn_at == sh(2026, 3, 3, 13, 50)
    assert ticket.resolution_due_at == sh(2026, 3, 3, 18, 50)
    assert ticket.sla_state == SlaState.OK
    assert (ticket.first_contact_warned_at, ticket.first_contact_breached_at) == (None, None)
    assert (ticket.resolution_warned_at, ticket.resolution_breached_at) == (None, None)


def test_a_ticket_opened_before_the_national_day_holiday_is_due_after_it(push, office_policy):
    ticket = open_ticket(push, sh(2026, 9, 30, 20, 50), occurred_at="2026-09-30T20:40:00+08:00")
    assert ticket.first_contact_warn_at == sh(2026, 10, 8, 9, 5)
    assert ticket.first_contact_due_at == sh(2026, 10, 8, 9, 20)


def test_a_ticket_opened_on_a_saturday_before_a_makeup_sunday_is_due_that_sunday(push, office_policy):
    ticket = open_ticket(push, sh(2026, 9, 26, 15, 0), occurred_at="2026-09-26T14:50:00+08:00")
    assert ticket.first_contact_warn_at == sh(2026, 9, 27, 10, 15)
    assert ticket.first_contact_due_at == sh(2026, 9, 27, 10, 30)


def test_a_tier_specific_policy_beats_the_any_tier_policy(push, shop_a, office_policy):
    SlaPolicy.objects.create(
        shop=shop_a, tier="negative", first_contact_minutes=20, resolution_minutes=100, warning_ratio=Decimal("0.80")
    )
    negative = open_ticket(push, sh(2026, 3, 2, 20, 50))
    neutral = open_ticket(
        push,
        sh(2026, 3, 2, 20, 50),
        event_id="e-2",
        review_id="r-2",
        rating={"stars": 2, "dsr": {"description": 3, "service": 3, "logistics": 3}},
    )
    assert (negative.tier, neutral.tier) == ("negative", "neutral")
    # The negative policy has no calendar: its clock runs around the clock.
    assert negative.first_contact_warn_at == sh(2026, 3, 2, 21, 6)
    assert negative.first_contact_due_at == sh(2026, 3, 2, 21, 10)
    assert negative.resolution_warn_at == sh(2026, 3, 2, 22, 10)
    assert negative.resolution_due_at == sh(2026, 3, 2, 22, 30)
    # The neutral review falls back to the any-tier policy and its office calendar.
    assert neutral.first_contact_due_at == sh(2026, 3, 3, 9, 20)
    assert neutral.resolution_due_at == sh(2026, 3, 3, 18, 50)


def test_without_a_policy_first_contact_is_due_in_60_minutes_around_the_clock(push):
    ticket = open_ticket(push, sh(2026, 3, 7, 23, 30))  # a Saturday night
    assert ticket.first_contact_warn_at == sh(2026, 3, 8, 0, 15)
    assert ticket.first_contact_due_at == sh(2026, 3, 8, 0, 30)
    # Rated 2 March 10:15; the Taobao window of 30 days, less a margin of 24 hours.
    assert ticket.resolution_due_at == sh(2026, 3, 31, 10, 15)
    # Three quarters of the way from opening (7 March 23:30) to that deadline.
    assert ticket.resolution_warn_at == sh(2026, 3, 25, 13, 33, 45)


def test_the_resolution_deadline_is_the_shops_own_revision_window_less_the_policy_margin(push, shop_a):
    shop_a.revision_window_days = 15
    shop_a.save()
    SlaPolicy.objects.create(shop=shop_a, tier="", resolution_margin_hours=48, warning_ratio=Decimal("0.50"))
    ticket = open_ticket(push, sh(2026, 3, 2, 10, 20))
    assert ticket.resolution_due_at == sh(2026, 3, 15, 10, 15)
    assert ticket.resolution_warn_at == sh(2026, 3, 8, 22, 17, 30)
    assert ticket.first_contact_due_at == sh(2026, 3, 2, 11, 20)


def test_a_review_whose_revision_window_has_closed_is_due_for_resolution_with_its_first_contact(push):
    ticket = open_ticket(push, sh(2026, 3, 2, 10, 20), occurred_at="2026-01-15T08:00:00+08:00")
    assert ticket.first_contact_due_at == sh(2026, 3, 2, 11, 20)
    assert ticket.resolution_warn_at == sh(2026, 3, 2, 11, 5)
    assert ticket.resolution_due_at == sh(2026, 3, 2, 11, 20)
    assert sweep(sh(2026, 3, 2, 11, 4)) == NOTHING
    assert sweep(sh(2026, 3, 2, 11, 20)) == dict.fromkeys(NOTHING, 1)


def test_a_calendar_without_opening_hours_does_not_stop_ingestion_and_is_logged(push, shop_a, caplog):
    closed = BusinessCalendar.objects.create(name="closed", weekly_hours={}, makeup_day_hours=[])
    SlaPolicy.objects.create(shop=shop_a, tier="", calendar=closed, first_contact_minutes=30)
    ticket = open_ticket(push, sh(2026, 3, 2, 10, 20))
    assert ticket.first_contact_warn_at == sh(2026, 3, 2, 10, 42, 30)
    assert ticket.first_contact_due_at == sh(2026, 3, 2, 10, 50)
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.name == "tickets.sla"] == [
        ("tickets.sla", "ERROR", "SLA calendar has no opening hours; counting around the clock instead")
    ] * 2


# The sweep ---------------------------------------------------------------------------------


def test_each_clock_warns_once_at_its_warning_time_and_breaches_once_at_its_due_time(
    push, office_policy, on_duty_agent, supervisor
):
    ticket = open_ticket(push, sh(2026, 3, 2, 20, 50))
    with at(sh(2026, 3, 2, 20, 51)):
        assign_ticket(ticket.pk)

    assert sweep(sh(2026, 3, 3, 9, 4, 59)) == NOTHING
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.OK
    assert sla_rows(ticket) == []
    assert Notification.objects.count() == 0

    assert sweep(sh(2026, 3, 3, 9, 5)) == fired(first_contact_warning=1)
    assert sweep(sh(2026, 3, 3, 9, 5)) == NOTHING
    assert sweep(sh(2026, 3, 3, 9, 19, 59)) == NOTHING
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.WARNING
    assert ticket.first_contact_warned_at == sh(2026, 3, 3, 9, 5)
    assert ticket.status == TicketStatus.ASSIGNED

    assert sweep(sh(2026, 3, 3, 9, 20)) == fired(first_contact_breach=1)
    assert sweep(sh(2026, 3, 3, 13, 49)) == NOTHING
    assert sweep(sh(2026, 3, 3, 13, 50)) == fired(resolution_warning=1)
    assert sweep(sh(2026, 3, 3, 18, 50)) == fired(resolution_breach=1)
    assert sweep(sh(2026, 3, 10, 0, 0)) == NOTHING

    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.BREACHED
    assert ticket.first_contact_breached_at == sh(2026, 3, 3, 9, 20)
    assert ticket.resolution_warned_at == sh(2026, 3, 3, 13, 50)
    assert ticket.resolution_breached_at == sh(2026, 3, 3, 18, 50)
    assert sla_rows(ticket) == [
        ("first_contact_warning", sh(2026, 3, 3, 9, 5)),
        ("first_contact_breach", sh(2026, 3, 3, 9, 20)),
        ("resolution_warning", sh(2026, 3, 3, 13, 50)),
        ("resolution_breach", sh(2026, 3, 3, 18, 50)),
    ]
    first = TicketEvent.objects.filter(ticket=ticket, kind=TimelineKind.SLA).order_by("id").first()
    assert (first.actor_label, first.message) == ("SLA", f"Ticket #{ticket.pk}: first contact is due soon.")
    assert first.data == {"clock": "first_contact_warning", "due_at": "2026-03-03T01:05:00+00:00"}
    assert Notification.objects.filter(ticket=ticket).count() == 8  # 4 clocks × (supervisor, assignee)


def test_the_sla_state_goes_from_ok_to_warning_to_breached(push):
    ticket = open_ticket(push, sh(2026, 3, 2, 10, 20))
    states = []
    for when in (sh(2026, 3, 2, 11, 4), sh(2026, 3, 2, 11, 5), sh(2026, 3, 2, 11, 20)):
        sweep(when)
        ticket.refresh_from_db()
        states.append((ticket.sla_state, live_state(ticket, when)))
    assert states == [
        (SlaState.OK, SlaState.OK),
        (SlaState.WARNING, SlaState.WARNING),
        (SlaState.BREACHED, SlaState.BREACHED),
    ]


def test_a_sweep_that_was_late_fires_the_warning_and_the_breach_together(push):
    ticket = open_ticket(push, sh(2026, 3, 2, 10, 20))
    assert sweep(sh(2026, 3, 2, 12, 0)) == fired(first_contact_warning=1, first_contact_breach=1)
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.BREACHED
    assert (ticket.first_contact_warned_at, ticket.first_contact_breached_at) == (
        sh(2026, 3, 2, 12),
        sh(2026, 3, 2, 12),
    )


def test_a_contact_attempt_before_the_due_time_stops_the_first_contact_clock(push, office_policy, on_duty_agent):
    ticket = open_ticket(push, sh(2026, 3, 2, 20, 50))
    with at(sh(2026, 3, 2, 20, 51)):
        assign_ticket(ticket.pk)
    assert sweep(sh(2026, 3, 3, 9, 5)) == fired(first_contact_warning=1)

    with at(sh(2026, 3, 3, 9, 10)):
        contact_attempt_log(ticket.pk, on_duty_agent, channel="im", result="no_answer")
    ticket.refresh_from_db()
    assert ticket.first_contact_at == sh(2026, 3, 3, 9, 10)
    assert ticket.first_reached_at is None
    assert ticket.status == TicketStatus.IN_PROGRESS
    # Only the resolution clock runs now, and it is not yet at its warning point.
    assert ticket.sla_state == SlaState.OK

    assert sweep(sh(2026, 3, 3, 9, 20)) == NOTHING
    assert sweep(sh(2026, 3, 3, 12, 0)) == NOTHING
    ticket.refresh_from_db()
    assert ticket.first_contact_breached_at is None
    assert ticket.sla_state == SlaState.OK
    assert live_state(ticket, sh(2026, 3, 3, 13, 49)) == SlaState.OK
    assert live_state(ticket, sh(2026, 3, 3, 13, 50)) == SlaState.WARNING
    assert live_state(ticket, sh(2026, 3, 3, 18, 50)) == SlaState.BREACHED

    with at(sh(2026, 3, 3, 9, 30)):
        contact_attempt_log(ticket.pk, on_duty_agent, channel="phone", result="reached")
    ticket.refresh_from_db()
    assert (ticket.first_contact_at, ticket.first_reached_at) == (sh(2026, 3, 3, 9, 10), sh(2026, 3, 3, 9, 30))

    assert sweep(sh(2026, 3, 3, 13, 50)) == fired(resolution_warning=1)
    assert sweep(sh(2026, 3, 3, 18, 50)) == fired(resolution_breach=1)
    assert [clock for clock, _at in sla_rows(ticket)] == [
        "first_contact_warning",
        "resolution_warning",
        "resolution_breach",
    ]


def test_live_state_ignores_a_first_contact_clock_that_has_stopped():
    opened = sh(2026, 3, 2, 10, 0)
    ticket = Ticket(
        first_contact_warn_at=opened + minutes(45),
        first_contact_due_at=opened + minutes(60),
        resolution_warn_at=opened + minutes(600),
        resolution_due_at=opened + minutes(800),
    )
    assert live_state(ticket, opened + minutes(44)) == SlaState.OK
    assert live_state(ticket, opened + minutes(45)) == SlaState.WARNING
    assert live_state(ticket, opened + minutes(60)) == SlaState.BREACHED
    ticket.first_contact_at = opened + minutes(30)
    assert live_state(ticket, opened + minutes(60)) == SlaState.OK
    assert live_state(ticket, opened + minutes(600)) == SlaState.WARNING
    assert live_state(ticket, opened + minutes(800)) == SlaState.BREACHED
    assert live_state(Ticket(), opened) == SlaState.OK


def test_closed_tickets_never_fire(push):
    ticket = open_ticket(push, sh(2026, 3, 2, 10, 20))
    with at(sh(2026, 3, 2, 10, 30)):
        response = push(
            event(
                event_id="e-2",
                type="review.revised",
                occurred_at="2026-03-02T10:29:00+08:00",
                rating={"stars": 5, "dsr": {"description": 5, "service": 5, "logistics": 5}},
            )
        )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    assert sweep(sh(2026, 5, 1, 0, 0)) == NOTHING
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.OK
    assert sla_rows(ticket) == []
    assert Notification.objects.count() == 0


# Who hears of it ---------------------------------------------------------------------------


def test_warnings_and_breaches_notify_the_shops_supervisors_and_the_assignee_and_mail_those_with_an_address(
    push, shop_a, shop_b, key_b, on_duty_agent, mailoutbox, django_capture_on_commit_callbacks
):
    with_mail = make_agent(shop_a, role=Role.SUPERVISOR, username="sup_mail")
    with_mail.email = "sup@shop-a.example"
    with_mail.save()
    make_agent(shop_a, role=Role.SUPERVISOR, username="sup_no_mail")
    both_shops = make_agent(shop_a, shop_b, role=Role.SUPERVISOR, username="sup_both")
    both_shops.email = "both@example.com"
    both_shops.save()
    other_shop = make_agent(shop_b, role=Role.SUPERVISOR, username="sup_b")
    other_shop.email = "sup@shop-b.example"
    other_shop.save()
    gone = make_agent(shop_a, role=Role.SUPERVISOR, username="sup_gone")
    gone.is_active, gone.email = False, "gone@example.com"
    gone.save()
    make_agent(shop_a, username="colleague", on_duty=True)  # an agent, not the assignee
    UserFactory(username="outsider", email="outsider@example.com")

    assigned = open_ticket(push, sh(2026, 3, 2, 10, 20))
    with at(sh(2026, 3, 2, 10, 21)):
        assign_ticket(assigned.pk)
    assigned.refresh_from_db()
    assert assigned.assignee == on_duty_agent
    pooled = open_ticket(push, sh(2026, 3, 2, 10, 20), event_id="e-2", review_id="r-2")
    with at(sh(2026, 3, 2, 10, 20)):
        response = push(event(event_id="jd-1", platform="jd", shop="jd-b", review_id="jd-r1"), key=key_b)
    shop_b_ticket = Ticket.objects.get(pk=response.json()["results"][0]["ticket_id"])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert sweep(sh(2026, 3, 2, 11, 5)) == fired(first_contact_warning=3)
    assert len(callbacks) == 1

    warning = Notification.Kind.SLA_WARNING
    assert notified(assigned) == [
        (name, warning, f"Ticket #{assigned.pk}: first contact is due soon.", sh(2026, 3, 2, 11, 5))
        for name in ("agent_on_duty", "sup_both", "sup_mail", "sup_no_mail")
    ]
    assert notified(pooled) == [
        (name, warning, f"Ticket #{pooled.pk}: first contact is due soon.", sh(2026, 3, 2, 11, 5))
        for name in ("sup_both", "sup_mail", "sup_no_mail")
    ]
    assert [name for name, *_rest in notified(shop_b_ticket)] == ["sup_b", "sup_both"]
    assert sorted((m.to, m.subject, m.body, m.from_email) for m in mailoutbox) == sorted(
        (
            [address],
            f"[ReviewDesk] Ticket #{ticket.pk}: first contact is due soon.",
            f"Ticket #{ticket.pk}: first contact is due soon.",
            "reviewdesk@localhost",
        )
        for ticket, addresses in (
            (assigned, ("both@example.com", "sup@shop-a.example")),
            (pooled, ("both@example.com", "sup@shop-a.example")),
            (shop_b_ticket, ("both@example.com", "sup@shop-b.example")),
        )
        for address in addresses
    )

    on_duty_agent.email = "agent@shop-a.example"
    on_duty_agent.save()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep(sh(2026, 3, 2, 11, 20)) == fired(first_contact_breach=3)
    assert Notification.objects.filter(kind=Notification.Kind.SLA_BREACH).count() == 4 + 3 + 2
    assert sorted((m.to[0], m.subject) for m in mailoutbox) == sorted(
        [
            ("agent@shop-a.example", f"[ReviewDesk] Ticket #{assigned.pk}: first contact is overdue."),
            ("both@example.com", f"[ReviewDesk] Ticket #{shop_b_ticket.pk}: first contact is overdue."),
            ("sup@shop-b.example", f"[ReviewDesk] Ticket #{shop_b_ticket.pk}: first contact is overdue."),
        ]
        + [
            (address, f"[ReviewDesk] Ticket #{ticket.pk}: first contact is overdue.")
            for ticket in (assigned, pooled)
            for address in ("both@example.com", "sup@shop-a.example")
        ]
    )


def test_no_mail_leaves_before_the_sweep_commits(push, supervisor, mailoutbox, django_capture_on_commit_callbacks):
    supervisor.email = "sup@shop-a.example"
    supervisor.save()
    open_ticket(push, sh(2026, 3, 2, 10, 20))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert sweep(sh(2026, 3, 2, 11, 5)) == fired(first_contact_warning=1)
    assert mailoutbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert [m.to for m in mailoutbox] == [["sup@shop-a.example"]]


# What a breach does ------------------------------------------------------------------------


def test_a_breach_escalates_the_ticket_with_a_timeline_row(push, on_duty_agent):
    ticket = open_ticket(push, sh(2026, 3, 2, 10, 20))
    with at(sh(2026, 3, 2, 10, 21)):
        assign_ticket(ticket.pk)
    assert sweep(sh(2026, 3, 2, 11, 20)) == fired(first_contact_warning=1, first_contact_breach=1)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ESCALATED
    assert ticket.assignee == on_duty_agent
    assert list(
        TicketEvent.objects.filter(ticket=ticket, kind=TimelineKind.STATUS_CHANGED).values_list(
            "actor_label", "from_status", "to_status", "message", "created_at"
        )
    ) == [
        (
            "SLA",
            TicketStatus.ASSIGNED,
            TicketStatus.ESCALATED,
            "Escalated to the shop's supervisors after an SLA breach.",
            sh(2026, 3, 2, 11, 20),
        )
    ]
    # The resolution breach later does not escalate an escalated ticket again.
    assert sweep(sh(2026, 4, 1, 0, 0)) == fired(resolution_warning=1, resolution_breach=1)
    assert TicketEvent.objects.filter(ticket=ticket, kind=TimelineKind.STATUS_CHANGED).count() == 1
    assert Ticket.objects.get(pk=ticket.pk).assignee == on_duty_agent


def test_a_reassign_policy_moves_the_breached_ticket_to_another_eligible_agent_and_records_why(
    push, shop_a, shop_b, on_duty_agent
):
    SlaPolicy.objects.create(shop=shop_a, tier="", breach_action=SlaPolicy.BreachAction.REASSIGN)
    ticket = open_ticket(push, sh(2026, 3, 2, 10, 20))
    with at(sh(2026, 3, 2, 10, 21)):
        assign_ticket(ticket.pk)
    ticket.refresh_from_db()
    assert ticket.assignee == on_duty_agent
    # Joining later: only these three are there when the breach fires.
    colleague = make_agent(shop_a, username="colleague", on_duty=True, capacity=5)
    make_agent(shop_a, username="off_duty", on_duty=False)
    make_agent(shop_b, username="other_shop", on_duty=True)

    assert sweep(sh(2026, 3, 2, 11, 20)) == fired(first_contact_warning=1, first_contact_breach=1)
    ticket.refresh_from_db()
    assert ticket.assignee == colleague
    assert ticket.status == TicketStatus.ASSIGNED
    decision = TicketEvent.objects.filter(ticket=ticket, kind=TimelineKind.ASSIGNED).order_by("id").last()
    assert (decision.actor_label, decision.message, decision.created_at) == (
        "assignment",
        "Assigned to colleague: reassigned after an SLA breach.",
        sh(2026, 3, 2, 11, 20),
    )
    assert decision.data == {
        "rule": "reassigned",
        "chosen": colleague.pk,
        "needs_senior": False,
        "candidates": [
            {"agent": colleague.pk, "name": "colleague", "load": 0, "capacity": 5, "last_assigned_at": None}
        ],
    }
    assert not TicketEvent.objects.filter(ticket=ticket, to_status=TicketStatus.ESCALATED).exists()
    # The breach notice went to the agent who missed it.
    assert list(Notification.objects.filter(kind=Notification.Kind.SLA_BREACH).values_list("recipient", flat=True)) == [
        on_duty_agent.pk
    ]


def test_a_ticket_that_breaches_both_clocks_in_one_sweep_is_reassigned_once(push, shop_a, on_duty_agent):
    SlaPolicy.objects.create(
        shop=shop_a, tier="", first_contact_minutes=60, resolution_minutes=60, breach_action="reassign"
    )
    ticket = open_ticket(push, sh(2026, 3, 2, 10, 20))
    with at(sh(2026, 3, 2, 10, 21)):
        assign_ticket(ticket.pk)
    colleague = make_agent(shop_a, username="colleague", on_duty=True)

    assert sweep(sh(2026, 3, 2, 11, 20)) == dict.fromkeys(NOTHING, 1)
    ticket.refresh_from_db()
    # Not handed on twice, which would give it back to the agent who let it breach.
    assert ticket.assignee == colleague
    assert list(
        TicketEvent.objects.filter(ticket=ticket, kind=TimelineKind.ASSIGNED).values_list("data__rule", "data__chosen")
    ) == [("fewest_open", on_duty_agent.pk), ("reassigned", colleague.pk)]


def test_a_reassign_policy_leaves_the_ticket_with_its_agent_when_nobody_else_can_take_it(push, shop_a, on_duty_agent):
    SlaPolicy.objects.create(shop=shop_a, tier="", breach_action=SlaPolicy.BreachAction.REASSIGN)
    ticket = open_ticket(push, sh(2026, 3, 2, 10, 20))
    with at(sh(2026, 3, 2, 10, 21)):
        assign_ticket(ticket.pk)
    assert sweep(sh(2026, 3, 2, 11, 20)) == fired(first_contact_warning=1, first_contact_breach=1)
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status, ticket.sla_state) == (
        on_duty_agent,
        TicketStatus.ASSIGNED,
        SlaState.BREACHED,
    )
    assert TicketEvent.objects.filter(ticket=ticket, kind=TimelineKind.ASSIGNED).count() == 1


def test_a_both_policy_escalates_and_reassigns(push, shop_a, on_duty_agent):
    SlaPolicy.objects.create(shop=shop_a, tier="", breach_action=SlaPolicy.BreachAction.BOTH)
    ticket = open_ticket(push, sh(2026, 3, 2, 10, 20))
    with at(sh(2026, 3, 2, 10, 21)):
        assign_ticket(ticket.pk)
    colleague = make_agent(shop_a, username="colleague", on_duty=True)

    assert sweep(sh(2026, 3, 2, 11, 20)) == fired(first_contact_warning=1, first_contact_breach=1)
    ticket.refresh_from_db()
    assert ticket.assignee == colleague
    rows = list(
        TicketEvent.objects.filter(ticket=ticket)
        .exclude(kind=TimelineKind.SLA)
        .order_by("id")
        .values_list("kind", "actor_label", "from_status", "to_status", "data__rule")
    )
    assert rows == [
        (TimelineKind.OPENED, "API key: shop A sync", "", TicketStatus.NEW, None),
        (TimelineKind.ASSIGNED, "assignment", TicketStatus.NEW, TicketStatus.ASSIGNED, "fewest_open"),
        (TimelineKind.STATUS_CHANGED, "SLA", TicketStatus.ASSIGNED, TicketStatus.ESCALATED, None),
        (TimelineKind.ASSIGNED, "assignment", TicketStatus.ESCALATED, TicketStatus.ESCALATED, "reassigned"),
    ]
    # The new agent gets the ticket as it is: still escalated, so supervisors keep seeing it.
    assert ticket.status == TicketStatus.ESCALATED
    assert ticket.sla_state == SlaState.BREACHED
    assert Notification.objects.filter(recipient=colleague, ticket=ticket, kind="assigned").count() == 1


# Concurrency and cost ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_fire_each_clock_exactly_once(push, supervisor, monkeypatch):
    # No broker in this test: assignment after commit is not what is under test.
    monkeypatch.setattr("tickets.services.tickets_need_assignment", lambda ticket_ids: None)
    monkeypatch.setattr(sla, "SWEEP_CHUNK", 3)  # many small claims, so the sweeps interleave
    ids = open_tickets(push, sh(2026, 3, 2, 10, 20), 40, prefix="race")
    start = threading.Barrier(4)
    results, errors = [], []

    def run():
        try:
            start.wait()
            results.append(sla_sweep(sh(2026, 5, 1, 0, 0)))
        except Exception as exc:  # noqa: BLE001 — reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    with at(sh(2026, 5, 1, 0, 0)):
        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    assert {name: sum(r[name] for r in results) for name in NOTHING} == dict.fromkeys(NOTHING, 40)
    rows = list(TicketEvent.objects.filter(kind=TimelineKind.SLA).values_list("ticket_id", "data__clock"))
    assert len(rows) == 160
    assert sorted(set(rows)) == sorted((ticket_id, clock) for ticket_id in ids for clock in NOTHING)
    assert Notification.objects.count() == 160
    assert TicketEvent.objects.filter(to_status=TicketStatus.ESCALATED).count() == 40
    assert set(Ticket.objects.values_list("status", "sla_state")) == {(TicketStatus.ESCALATED, SlaState.BREACHED)}
    assert sweep(sh(2026, 5, 1, 0, 1)) == NOTHING


def test_the_sweep_makes_as_many_queries_for_50_due_tickets_as_for_5(
    push, shop_a, supervisor, on_duty_agent, django_assert_max_num_queries
):
    SlaPolicy.objects.create(shop=shop_a, tier="", first_contact_minutes=60)
    open_tickets(push, sh(2026, 3, 2, 10, 20), 5, prefix="five")
    for ticket_id in Ticket.objects.values_list("pk", flat=True):
        with at(sh(2026, 3, 2, 10, 21)):
            assign_ticket(ticket_id)
    with at(sh(2026, 5, 1, 0, 0)), CaptureQueriesContext(connection) as five:
        assert sla_sweep() == dict.fromkeys(NOTHING, 5)
    five = len(five)  # now: the next request resets the connection's query log
    # Per clock: savepoint, claim, supervisors, (breach: policies), update, timeline, notifications, release.
    assert five == 2 * 7 + 2 * 8

    open_tickets(push, sh(2026, 5, 2, 10, 20), 50, prefix="fifty")
    with at(sh(2026, 7, 1, 0, 0)), django_assert_max_num_queries(five) as fifty:
        assert sla_sweep() == dict.fromkeys(NOTHING, 50)
    assert len(fifty) == five
    assert Notification.objects.count() == 5 * 4 * 2 + 50 * 4

"""SLA clocks: due times when a ticket opens, the live state, and the sweep that fires warnings
and breaches once each (DESIGN.md § SLA)."""

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from reviewdesk.db import bulk_update_rows

from .calendars import ALWAYS_OPEN, CalendarHasNoHours, Schedule, add_business_minutes, parse_hours
from .choices import OPEN_STATUSES, Role, SlaState, TicketStatus, TimelineKind
from .lifecycle import can_transition, timeline_event, transition
from .models import AgentProfile, CalendarDay, Notification, SlaPolicy, Ticket, TicketEvent, weekly_schedule
from .phrases import Phrase, stored

logger = logging.getLogger(__name__)

DEFAULT_FIRST_CONTACT_MINUTES = 60
DEFAULT_MARGIN_HOURS = 24
DEFAULT_WARNING_RATIO = Decimal("0.75")


def calendar_schedule(calendar):
    """A BusinessCalendar (with its days) as a pure Schedule."""
    if calendar is None:
        return ALWAYS_OPEN
    makeup = parse_hours(calendar.makeup_day_hours)
    exceptions = {}
    for day in calendar.days.all():
        if day.kind == CalendarDay.Kind.HOLIDAY:
            exceptions[day.date] = []
        else:
            exceptions[day.date] = parse_hours(day.hours) or makeup
    return Schedule(
        tz=ZoneInfo(calendar.timezone), weekly=weekly_schedule(calendar.weekly_hours), exceptions=exceptions
    )


@dataclass(frozen=True)
class Plan:
    """The resolved policy for a (shop, tier): what the clocks of a new ticket use."""

    schedule: Schedule
    first_contact_minutes: int
    resolution_minutes: int | None
    margin: dt.timedelta
    warning_ratio: Decimal
    breach_action: str


class SlaPlanner:
    """Computes due times for tickets as they open; loads each shop's policies once."""

    def __init__(self):
        self._plans = {}

    def plan(self, shop_id, tier):
        key = (shop_id, tier)
        if key not in self._plans:
            policies = {
                p.tier: p
                for p in SlaPolicy.objects.filter(shop_id=shop_id)
                .select_related("calendar")
                .prefetch_related("calendar__days")
            }
            policy = policies.get(tier) or policies.get("")
            if policy is None:
                plan = Plan(
                    ALWAYS_OPEN,
                    DEFAULT_FIRST_CONTACT_MINUTES,
                    None,
                    dt.timedelta(hours=DEFAULT_MARGIN_HOURS),
                    DEFAULT_WARNING_RATIO,
                    SlaPolicy.BreachAction.ESCALATE,
                )
            else:
                plan = Plan(
                    calendar_schedule(policy.calendar),
                    policy.first_contact_minutes,
                    policy.resolution_minutes,
                    dt.timedelta(hours=policy.resolution_margin_hours),
                    policy.warning_ratio,
                    policy.breach_action,
                )
            self._plans[key] = plan
        return self._plans[key]

    def start_clocks(self, ticket, *, opened_at, rated_at, revision_window_days):
        """Set the due and warning times of a new ticket."""
        plan = self.plan(ticket.shop_id, ticket.tier)
        ratio = float(plan.warning_ratio)
        minutes = plan.first_contact_minutes
        ticket.first_contact_due_at = _add_business_minutes(opened_at, minutes, plan.schedule)
        ticket.first_contact_warn_at = _add_business_minutes(opened_at, minutes * ratio, plan.schedule)
        if plan.resolution_minutes:
            ticket.resolution_due_at = _add_business_minutes(opened_at, plan.resolution_minutes, plan.schedule)
            ticket.resolution_warn_at = _add_business_minutes(opened_at, plan.resolution_minutes * ratio, plan.schedule)
        else:
            # The buyer's revision window is the natural deadline: finish a margin before it closes.
            deadline = (rated_at or opened_at) + dt.timedelta(days=revision_window_days) - plan.margin
            # A review whose window has (nearly) run out still gets time to be worked at all.
            ticket.resolution_due_at = max(deadline, ticket.first_contact_due_at)
            ticket.resolution_warn_at = opened_at + (ticket.resolution_due_at - opened_at) * ratio


def _add_business_minutes(start, minutes, schedule):
    """A calendar without opening hours must not fail ingestion (and with it the whole batch):
    its clocks run around the clock instead, and the misconfiguration is logged."""
    try:
        return add_business_minutes(start, minutes, schedule)
    except CalendarHasNoHours:
        logger.error("SLA calendar has no opening hours; counting around the clock instead")
        return add_business_minutes(start, minutes)


def live_state(ticket, now=None):
    """ok / warning / breached for the clocks still running: first contact until the first
    attempt, resolution until close."""
    now = now or timezone.now()
    states = []
    if ticket.first_contact_at is None and ticket.first_contact_due_at:
        states.append(_clock_state(now, ticket.first_contact_warn_at, ticket.first_contact_due_at))
    if ticket.resolution_due_at:
        states.append(_clock_state(now, ticket.resolution_warn_at, ticket.resolution_due_at))
    if SlaState.BREACHED in states:
        return SlaState.BREACHED
    if SlaState.WARNING in states:
        return SlaState.WARNING
    return SlaState.OK


def _clock_state(now, warn_at, due_at):
    if now >= due_at:
        return SlaState.BREACHED
    if warn_at and now >= warn_at:
        return SlaState.WARNING
    return SlaState.OK


# The sweep ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    name: str
    at_field: str
    fired_field: str
    running: Q
    breach: bool


_OPEN = Q(status__in=sorted(OPEN_STATUSES))
CLOCKS = (
    Clock(
        "first_contact_warning",
        "first_contact_warn_at",
        "first_contact_warned_at",
        _OPEN & Q(first_contact_at__isnull=True),
        breach=False,
    ),
    Clock(
        "first_contact_breach",
        "first_contact_due_at",
        "first_contact_breached_at",
        _OPEN & Q(first_contact_at__isnull=True),
        breach=True,
    ),
    Clock("resolution_warning", "resolution_warn_at", "resolution_warned_at", _OPEN, breach=False),
    Clock("resolution_breach", "resolution_due_at", "resolution_breached_at", _OPEN, breach=True),
)
SWEEP_CHUNK = 500


def sla_sweep(now=None):
    """Fire every warning and breach whose time has come; returns {clock name: count}.

    Each chunk claims its tickets with FOR UPDATE SKIP LOCKED and sets the clock's fired marker
    in the same transaction, so two sweeps never fire the same clock twice.
    """
    now = now or timezone.now()
    fired = {}
    reassign_ids = []
    for clock in CLOCKS:
        fired[clock.name] = 0
        while True:
            with transaction.atomic():
                due = (
                    Ticket.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(clock.running, **{f"{clock.at_field}__lte": now, f"{clock.fired_field}__isnull": True})
                    .select_related("shop", "assignee")
                    .order_by(clock.at_field)[:SWEEP_CHUNK]
                )
                tickets = list(due)
                if not tickets:
                    break
                reassign_ids += _fire(clock, tickets, now)
            fired[clock.name] += len(tickets)
            if len(tickets) < SWEEP_CHUNK:
                break
    if reassign_ids:
        from .assignment import reassign_after_breach

        # Once per ticket: when both clocks breach in one sweep, a second hand-on would exclude only
        # the new agent and could give the ticket back to the one who let it breach.
        for ticket_id in dict.fromkeys(reassign_ids):
            reassign_after_breach(ticket_id)
    return fired


def _fire(clock, tickets, now):
    planner = SlaPlanner()
    supervisors = _supervisors_by_shop({t.shop_id for t in tickets})
    events, notifications, mails, reassign = [], [], [], []
    changed_fields = {clock.fired_field, "sla_state", "updated_at"}
    kind = Notification.Kind.SLA_BREACH if clock.breach else Notification.Kind.SLA_WARNING
    for ticket in tickets:
        setattr(ticket, clock.fired_field, now)
        ticket.sla_state = SlaState.BREACHED if clock.breach else max_state(ticket.sla_state, SlaState.WARNING)
        ticket.updated_at = now
        message = _sla_message(clock, ticket)
        events.append(
            timeline_event(
                ticket,
                TimelineKind.SLA,
                actor_label="SLA",
                message=message,
                data={"clock": clock.name, "due_at": getattr(ticket, clock.at_field).isoformat()},
            )
        )
        recipients = {u.pk: u for u in supervisors.get(ticket.shop_id, [])}
        if ticket.assignee_id:
            recipients.setdefault(ticket.assignee_id, ticket.assignee)
        for user in recipients.values():
            notifications.append(
                Notification(recipient=user, ticket=ticket, kind=kind, **stored(message), created_at=now)
            )
            if user.email:
                mails.append((f"[ReviewDesk] {message}", str(message), settings.DEFAULT_FROM_EMAIL, [user.email]))
        if clock.breach:
            action = planner.plan(ticket.shop_id, ticket.tier).breach_action
            if (
                action in (SlaPolicy.BreachAction.ESCALATE, SlaPolicy.BreachAction.BOTH)
                and can_transition(ticket.status, TicketStatus.ESCALATED)
                and ticket.status != TicketStatus.ESCALATED
            ):
                events.append(
                    transition(
                        ticket,
                        TicketStatus.ESCALATED,
                        actor_label="SLA",
                        message=Phrase(gettext_noop("Escalated to the shop's supervisors after an SLA breach.")),
                    )
                )
                changed_fields |= {"status", "closed_at", "resolved_at"}
            if action in (SlaPolicy.BreachAction.REASSIGN, SlaPolicy.BreachAction.BOTH) and ticket.assignee_id:
                reassign.append(ticket.pk)
    bulk_update_rows(tickets, sorted(changed_fields))
    TicketEvent.objects.bulk_create(events)
    Notification.objects.bulk_create(notifications)
    if mails:
        transaction.on_commit(lambda: _send_quietly(mails))
    return reassign


def _send_quietly(mails):
    try:
        send_mass_mail(mails, fail_silently=False)
    except Exception:  # noqa: BLE001 — e-mail is a courtesy copy; the in-app notification stands
        logger.exception("SLA e-mail could not be sent")


_SEVERITY = {SlaState.OK: 0, SlaState.WARNING: 1, SlaState.BREACHED: 2}


def max_state(a, b):
    return a if _SEVERITY[a] >= _SEVERITY[b] else b


def _sla_message(clock, ticket):
    names = {
        "first_contact_warning": gettext_noop("Ticket #%(id)s: first contact is due soon."),
        "first_contact_breach": gettext_noop("Ticket #%(id)s: first contact is overdue."),
        "resolution_warning": gettext_noop("Ticket #%(id)s: resolution is due soon."),
        "resolution_breach": gettext_noop("Ticket #%(id)s: resolution is overdue."),
    }
    return Phrase(names[clock.name], id=ticket.pk)


def _supervisors_by_shop(shop_ids):
    out = {}
    profiles = AgentProfile.objects.filter(role=Role.SUPERVISOR, shops__in=shop_ids, user__is_active=True)
    for profile in profiles.select_related("user").annotate(shop=F("shops")):
        out.setdefault(profile.shop, []).append(profile.user)
    return out

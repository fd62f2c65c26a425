"""Who works which ticket (DESIGN.md § Assignment).

Eligible: agents on duty now (and inside their shift), allowed for the ticket's shop, under
capacity, and `senior` when the buyer is flagged for abuse. Among them the fewest open tickets
wins; a tie goes to the agent idle longest. Each decision is stored on the timeline with the
candidates and their loads. Race-safe: the ticket is claimed with SKIP LOCKED and the shop's
agents are row-locked in id order while their loads are counted.
"""

import datetime as dt

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from reviewdesk.db import bulk_update_rows

from . import phrases
from .choices import OPEN_STATUSES, Role, TicketStatus, TimelineKind
from .lifecycle import timeline_event, transition
from .models import AgentProfile, Notification, Ticket, TicketEvent
from .phrases import Phrase, stored

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
WAITING_STATUSES = (TicketStatus.NEW, TicketStatus.REOPENED)


class AssignmentRefused(Exception):
    """A take or manual assignment that the rules do not allow; the message says why."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def _lock_agents(shop_id):
    return _lock_agents_of_shops({shop_id})


def _lock_agents_of_shops(shop_ids):
    """Row-lock the agents of these shops, each once and in id order; `shop_ids` on each says
    which of the shops they work."""
    profiles = {}
    rows = (
        AgentProfile.objects.select_for_update(of=("self",))
        .filter(shops__in=shop_ids, role=Role.AGENT, user__is_active=True)
        .select_related("user")
        .annotate(shop=F("shops"))
        .order_by("id")
    )
    for row in rows:  # one row per (agent, shop)
        profile = profiles.setdefault(row.pk, row)
        profile.shop_ids = getattr(profile, "shop_ids", set()) | {row.shop}
    return list(profiles.values())


def open_loads(user_ids):
    """{user id: open tickets} for the given agents, in one query."""
    rows = (
        Ticket.objects.filter(assignee_id__in=user_ids, status__in=sorted(OPEN_STATUSES))
        .values("assignee_id")
        .annotate(n=Count("id"))
    )
    return {row["assignee_id"]: row["n"] for row in rows}


def _decision(rule, chosen, candidates, loads, needs_senior):
    return {
        "rule": rule,
        "chosen": chosen.user_id if chosen else None,
        "needs_senior": needs_senior,
        "candidates": [
            {
                "agent": p.user_id,
                "name": str(p),
                "load": loads.get(p.user_id, 0),
                "capacity": p.capacity,
                "last_assigned_at": p.last_assigned_at.isoformat() if p.last_assigned_at else None,
            }
            for p in candidates
        ],
    }


def _choose(candidates, loads):
    """(profile, rule) by the fewest open tickets, ties to the agent idle longest; or (None, rule)."""
    under = [p for p in candidates if loads.get(p.user_id, 0) < p.capacity]
    if not under:
        return None, "no_capacity" if candidates else "no_eligible_agent"
    ranked = sorted(under, key=lambda p: (loads.get(p.user_id, 0), p.last_assigned_at or _EPOCH, p.pk))
    best = ranked[0]
    tied = len(ranked) > 1 and loads.get(ranked[1].user_id, 0) == loads.get(best.user_id, 0)
    return best, "idle_longest" if tied else "fewest_open"


def _assign(ticket, profile, now, *, rule, decision, actor=None, keep_status=False):
    """Give `ticket` to `profile`'s user, with its timeline row; inside the caller's transaction.
    `keep_status` hands over a ticket already being worked (escalated, in progress) as it is."""
    previous = ticket.assignee
    ticket.assignee = profile.user
    message = phrases.assigned(str(profile), rule)
    actor_label = "" if actor else "assignment"
    if keep_status:
        ticket.updated_at = now
        event = timeline_event(
            ticket,
            TimelineKind.ASSIGNED,
            actor=actor,
            actor_label=actor_label,
            message=message,
            data=decision,
            from_status=ticket.status,
            to_status=ticket.status,
        )
    else:
        event = transition(
            ticket,
            TicketStatus.ASSIGNED,
            kind=TimelineKind.ASSIGNED,
            actor=actor,
            actor_label=actor_label,
            message=message,
            data=decision,
        )
    ticket.save(update_fields=["assignee", "status", "closed_at", "resolved_at", "updated_at"])
    event.save()
    profile.last_assigned_at = now
    profile.save(update_fields=["last_assigned_at"])
    if previous is not None and previous.pk != profile.user_id:
        # The new holder of a ticket someone else was working hears about it at once.
        Notification.objects.create(
            recipient=profile.user, ticket=ticket, kind=Notification.Kind.ASSIGNED, **stored(message), created_at=now
        )
    return ticket


def _claim(ticket_id, *, skip_locked=True):
    return (
        Ticket.objects.select_for_update(skip_locked=skip_locked, of=("self",))
        .select_related("review__buyer", "assignee")
        .filter(pk=ticket_id, status__in=sorted(OPEN_STATUSES))
        .first()
    )


def _needs_senior(ticket):
    buyer = ticket.review.buyer
    return bool(buyer and buyer.needs_senior_agent)


def assign_ticket(ticket_id, *, now=None, note_wait=True):
    """Assign one waiting ticket by the rules. Returns the ticket (assignee None when it waits
    in the pool), or None when it is not waiting or another worker holds it."""
    tickets = assign_tickets([ticket_id], now=now, note_wait=note_wait)
    return tickets[0] if tickets else None


def assign_tickets(ticket_ids, *, now=None, note_wait=True):
    """Assign waiting tickets, most urgent first, in one transaction; returns those it claimed.

    The same rules as one at a time, applied in memory: the tickets are claimed with SKIP LOCKED,
    every agent of their shops is row-locked once (in id order) and their loads counted once, and
    each choice updates those loads and idle times before the next ticket is placed. A batch of an
    ingest therefore costs a handful of queries, not a transaction per ticket.
    """
    now = now or timezone.now()
    with transaction.atomic():
        tickets = [
            t
            for t in Ticket.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("review__buyer", "assignee")
            .filter(pk__in=list(ticket_ids), status__in=WAITING_STATUSES)
            .order_by("first_contact_due_at", "id")
            if not (t.assignee_id and t.status == TicketStatus.NEW)
        ]
        if not tickets:
            return []
        agents = _lock_agents_of_shops({t.shop_id for t in tickets})
        loads = open_loads([p.user_id for p in agents])
        working = [p for p in agents if p.works_now(now)]
        changed_tickets, events, notifications, busy = [], [], [], {}
        for ticket in tickets:
            needs_senior = _needs_senior(ticket)
            eligible = [p for p in working if ticket.shop_id in p.shop_ids and (p.is_senior or not needs_senior)]
            previous_id = ticket.assignee_id
            previous = next((p for p in eligible if p.user_id == previous_id), None) if previous_id else None
            # Reopened: back to the agent who knows the buyer, if working and within capacity
            # (the reopened ticket already counts in their load).
            if previous is not None and loads.get(previous.user_id, 0) <= previous.capacity:
                chosen, rule = previous, "previous_agent"
            else:
                chosen, rule = _choose(eligible, loads)
            decision = _decision(rule, chosen, eligible, loads, needs_senior)
            if chosen is None:
                if previous_id:
                    ticket.assignee, ticket.updated_at = None, now
                    loads[previous_id] = loads.get(previous_id, 1) - 1
                    changed_tickets.append(ticket)
                if note_wait:
                    events.append(
                        timeline_event(
                            ticket,
                            TimelineKind.POOL,
                            actor_label="assignment",
                            message=_pool_message(rule),
                            data=decision,
                        )
                    )
                continue
            if chosen.user_id != previous_id:
                loads[chosen.user_id] = loads.get(chosen.user_id, 0) + 1
                if previous_id:
                    loads[previous_id] = loads.get(previous_id, 1) - 1
            message = phrases.assigned(str(chosen), rule)
            ticket.assignee = chosen.user
            events.append(
                transition(
                    ticket,
                    TicketStatus.ASSIGNED,
                    kind=TimelineKind.ASSIGNED,
                    actor_label="assignment",
                    message=message,
                    data=decision,
                )
            )
            if previous_id and previous_id != chosen.user_id:
                notifications.append(
                    Notification(
                        recipient=chosen.user,
                        ticket=ticket,
                        kind=Notification.Kind.ASSIGNED,
                        **stored(message),
                        created_at=now,
                    )
                )
            chosen.last_assigned_at = now
            busy[chosen.pk] = chosen
            changed_tickets.append(ticket)
        bulk_update_rows(changed_tickets, ["assignee", "status", "closed_at", "resolved_at", "updated_at"])
        TicketEvent.objects.bulk_create(events)
        Notification.objects.bulk_create(notifications)
        bulk_update_rows(busy.values(), ["last_assigned_at"])
    return tickets


def _pool_message(rule):
    if rule == "no_capacity":
        return Phrase(gettext_noop("Waiting in the pool: every eligible agent is at capacity."))
    return Phrase(gettext_noop("Waiting in the pool: no agent is on duty for this shop."))


def assign_waiting_tickets(*, shop_ids=None, limit=2000, chunk=200):
    """Assign pool tickets, most urgent first, in batches; returns how many were assigned."""
    # A reopened ticket keeps its previous agent until assignment decides, so it is swept too:
    # otherwise a lost assignment task would leave it with that agent, working or not.
    pool = Ticket.objects.filter(
        Q(status__in=WAITING_STATUSES, assignee__isnull=True) | Q(status=TicketStatus.REOPENED)
    )
    if shop_ids is not None:
        pool = pool.filter(shop_id__in=shop_ids)
    ids = list(pool.order_by("first_contact_due_at", "id").values_list("id", flat=True)[:limit])
    assigned = 0
    for start in range(0, len(ids), chunk):
        tickets = assign_tickets(ids[start : start + chunk], note_wait=False)
        assigned += sum(1 for t in tickets if t.assignee_id and t.status == TicketStatus.ASSIGNED)
        if tickets and not any(t.assignee_id for t in tickets):
            break  # nobody could take any of the most urgent ones: the rest would not fit either
    return assigned


def _profile_for(user, shop_id):
    profile = AgentProfile.objects.select_for_update().filter(user=user, shops=shop_id).first()
    if profile is None:
        raise AssignmentRefused(_("This agent does not work this ticket's shop."), "not_allowed_for_shop")
    return profile


def ticket_take(ticket_id, user, *, now=None):
    """An agent takes a pool ticket, within their capacity."""
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _claim(ticket_id, skip_locked=False)
        if ticket is None:
            raise AssignmentRefused(_("This ticket is closed."), "ticket_closed")
        if ticket.assignee_id:
            raise AssignmentRefused(_("This ticket is already assigned."), "already_assigned")
        profile = _profile_for(user, ticket.shop_id)
        _check_can_hold(profile, ticket)
        loads = open_loads([user.pk])
        return _assign(
            ticket,
            profile,
            now,
            rule="taken",
            actor=user,
            decision=_decision("taken", profile, [profile], loads, _needs_senior(ticket)),
        )


def ticket_assign_manual(ticket_id, agent_user_id, *, by, force=False, now=None):
    """A supervisor gives a ticket to an agent of its shop; over capacity only with `force`."""
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _claim(ticket_id, skip_locked=False)
        if ticket is None:
            raise AssignmentRefused(_("This ticket is closed."), "ticket_closed")
        profile = (
            AgentProfile.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(user_id=agent_user_id, shops=ticket.shop_id, user__is_active=True)
            .first()
        )
        if profile is None:
            raise AssignmentRefused(_("That person does not work this ticket's shop."), "not_allowed_for_shop")
        if ticket.assignee_id == profile.user_id:
            return ticket
        loads = open_loads([profile.user_id])
        if not force:
            _check_can_hold(profile, ticket, loads)
        return _assign(
            ticket,
            profile,
            now,
            rule="manual",
            actor=by,
            decision=_decision("manual", profile, [profile], loads, _needs_senior(ticket)),
        )


def _check_can_hold(profile, ticket, loads=None):
    loads = loads if loads is not None else open_loads([profile.user_id])
    if loads.get(profile.user_id, 0) >= profile.capacity:
        raise AssignmentRefused(
            _("%(agent)s already holds %(n)s open tickets, their capacity.")
            % {"agent": str(profile), "n": profile.capacity},
            "over_capacity",
        )
    if _needs_senior(ticket) and not profile.is_senior:
        raise AssignmentRefused(_("This buyer is flagged for abuse: a senior agent must handle it."), "senior_required")


def reassign_after_breach(ticket_id, *, now=None):
    """After a breach whose policy says reassign: another eligible agent, or leave it be."""
    now = now or timezone.now()
    with transaction.atomic():
        ticket = _claim(ticket_id)
        if ticket is None or ticket.assignee_id is None:
            return None
        needs_senior = _needs_senior(ticket)
        agents = _lock_agents(ticket.shop_id)
        eligible = [
            p
            for p in agents
            if p.user_id != ticket.assignee_id and p.works_now(now) and (p.is_senior or not needs_senior)
        ]
        loads = open_loads([p.user_id for p in eligible])
        chosen, _rule = _choose(eligible, loads)
        if chosen is None:
            return ticket
        # Keep the status: an escalation stays visible to supervisors, work in progress stays so.
        return _assign(
            ticket,
            chosen,
            now,
            rule="reassigned",
            decision=_decision("reassigned", chosen, eligible, loads, needs_senior),
            keep_status=ticket.status != TicketStatus.ASSIGNED,
        )


def agent_set_duty(user, on_duty, *, return_uncontacted=False):
    """Go on or off duty. Going on duty pulls waiting tickets; going off can hand back the
    tickets not yet contacted. Returns (profile, returned ticket ids)."""
    from .tasks import queue_assignment, queue_pool_assignment

    with transaction.atomic():
        # Tickets before the profile: the order assignment takes its locks in, so the two queue
        # behind each other instead of deadlocking.
        tickets = []
        if not on_duty and return_uncontacted:
            tickets = list(
                Ticket.objects.select_for_update()
                .filter(
                    assignee=user,
                    status__in=[TicketStatus.ASSIGNED, TicketStatus.REOPENED],
                    first_contact_at__isnull=True,
                )
                .order_by("id")
            )
        profile = AgentProfile.objects.select_for_update().get(user=user)
        profile.on_duty = on_duty
        profile.save(update_fields=["on_duty"])
        returned = []
        if tickets:
            for ticket in tickets:
                ticket.assignee = None
                message = Phrase(gettext_noop("Returned to the pool: %(agent)s went off duty."), agent=str(profile))
                if ticket.status == TicketStatus.ASSIGNED:
                    event = transition(ticket, TicketStatus.NEW, kind=TimelineKind.DUTY, actor=user, message=message)
                else:
                    ticket.updated_at = timezone.now()
                    event = timeline_event(ticket, TimelineKind.DUTY, actor=user, message=message)
                ticket.save(update_fields=["assignee", "status", "closed_at", "resolved_at", "updated_at"])
                event.save()
                returned.append(ticket.pk)
        shop_ids = list(profile.shops.values_list("id", flat=True))
        if on_duty:
            transaction.on_commit(lambda: queue_pool_assignment(shop_ids))
        elif returned:
            transaction.on_commit(lambda: queue_assignment(returned))
    return profile, returned

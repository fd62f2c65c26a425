"""The ticket state machine. Every status change — from ingestion, the API, the UI or a bulk
action — goes through `transition`, which checks it and produces its timeline event."""

from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import CLOSED_STATUSES, TicketStatus, TimelineKind
from .models import TicketEvent
from .phrases import stored

S = TicketStatus
_WORKING = {S.ASSIGNED, S.IN_PROGRESS, S.WAITING_BUYER, S.ESCALATED}

TRANSITIONS = {
    S.NEW: {S.ASSIGNED, S.IN_PROGRESS, S.ESCALATED, S.RESOLVED, S.CLOSED_UNRESOLVED},
    S.ASSIGNED: {S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.WAITING_BUYER, S.ESCALATED, S.RESOLVED, S.CLOSED_UNRESOLVED},
    S.IN_PROGRESS: {S.NEW, S.ASSIGNED, S.WAITING_BUYER, S.ESCALATED, S.RESOLVED, S.CLOSED_UNRESOLVED},
    S.WAITING_BUYER: {S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.ESCALATED, S.RESOLVED, S.CLOSED_UNRESOLVED},
    S.ESCALATED: {S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.WAITING_BUYER, S.RESOLVED, S.CLOSED_UNRESOLVED},
    S.REOPENED: {S.ASSIGNED, S.IN_PROGRESS, S.WAITING_BUYER, S.ESCALATED, S.RESOLVED, S.CLOSED_UNRESOLVED},
    # A closed ticket reopens on a negative follow-up; a platform fact may still upgrade
    # an unresolved close to resolved (e.g. the buyer revised after all).
    S.RESOLVED: {S.REOPENED},
    S.CLOSED_UNRESOLVED: {S.REOPENED, S.RESOLVED},
}


class TransitionNotAllowed(Exception):
    def __init__(self, ticket, to_status):
        self.ticket, self.to_status = ticket, to_status
        super().__init__(
            _("A ticket that is %(from)s cannot become %(to)s.")
            % {"from": S(ticket.status).label, "to": S(to_status).label}
        )


def can_transition(from_status, to_status):
    return to_status in TRANSITIONS.get(from_status, ())


def transition(
    ticket, to_status, *, kind=TimelineKind.STATUS_CHANGED, actor=None, actor_label="", message="", data=None
):
    """Move `ticket` to `to_status` in memory and return the unsaved timeline event for it.

    Keeps the timestamps that belong to the status: closing sets closed_at (and resolved_at for
    resolved), reopening clears them. The caller saves both in one transaction.
    """
    if not can_transition(ticket.status, to_status):
        raise TransitionNotAllowed(ticket, to_status)
    now = timezone.now()
    from_status = ticket.status
    ticket.status = to_status
    if to_status in CLOSED_STATUSES:
        ticket.closed_at = now
        ticket.resolved_at = now if to_status == S.RESOLVED else None
    elif from_status in CLOSED_STATUSES:
        ticket.closed_at = None
        ticket.resolved_at = None
    ticket.updated_at = now
    return timeline_event(
        ticket,
        kind,
        actor=actor,
        actor_label=actor_label,
        message=message,
        data=data,
        from_status=from_status,
        to_status=to_status,
    )


def timeline_event(ticket, kind, *, actor=None, actor_label="", message="", data=None, from_status="", to_status=""):
    """An unsaved timeline row. `ticket` may itself be unsaved: the row is bound to it when saved."""
    return TicketEvent(
        ticket=ticket,
        kind=kind,
        actor=actor,
        actor_label=actor_label or (actor.get_username() if actor else ""),
        from_status=from_status,
        to_status=to_status,
        **stored(message),
        data=data or {},
    )

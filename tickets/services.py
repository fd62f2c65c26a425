"""Writes to tickets. Every change goes through lifecycle.transition and writes its timeline
event in the same transaction."""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from reviewdesk.db import bulk_update_rows
from reviews.choices import Tier

from . import phrases
from .choices import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    ContactChannel,
    ContactResult,
    TicketStatus,
    TimelineKind,
)
from .lifecycle import timeline_event, transition
from .models import ContactAttempt, Ticket, TicketEvent
from .phrases import Phrase, label
from .sla import SlaPlanner, live_state
from .stats import stamp_first_contact_minutes

logger = logging.getLogger(__name__)

_TICKET_SYNC_FIELDS = [
    "status",
    "outcome",
    "outcome_verified",
    "closed_at",
    "resolved_at",
    "reopen_count",
    "updated_at",
]


def tickets_need_assignment(ticket_ids):
    """Called after commit with tickets that opened or reopened: one assignment task each."""
    from .tasks import queue_assignment

    queue_assignment(ticket_ids)


def capacity_freed(shop_ids):
    """Called after commit when assigned tickets closed: their agents can take pool tickets."""
    from .tasks import queue_pool_assignment

    if shop_ids:
        queue_pool_assignment(sorted(shop_ids))


class ReviewTicketSync:
    """Applies review facts from ingestion to tickets, in bulk, inside the caller's transaction.

    Loads (and row-locks) every ticket of the given reviews once; `open_for`, `close_verified`,
    `reopen_latest` and `note` change them in memory; `flush` writes new tickets, changed tickets
    and timeline rows with a handful of queries whatever the batch size.
    """

    def __init__(self, reviews, *, actor_label):
        """`reviews`: the review objects of the batch, saved or new (not yet inserted)."""
        self.actor_label = actor_label
        self.planner = SlaPlanner()
        self.freed_shop_ids = set()
        # Keyed by the review object itself: a new review has no primary key until flush time.
        self.by_review = {id(review): [] for review in reviews}
        self._new, self._changed, self._events = [], {}, []
        self._needs_assignment = []
        saved = {review.pk: review for review in reviews if review.pk is not None}
        if saved:
            for ticket in Ticket.objects.select_for_update().filter(review_id__in=saved).order_by("id"):
                ticket.review = saved[ticket.review_id]
                self.by_review[id(ticket.review)].append(ticket)

    # Reads -----------------------------------------------------------------------------------
    def open_ticket(self, review):
        for ticket in reversed(self.by_review.get(id(review), ())):
            if ticket.status in OPEN_STATUSES:
                return ticket
        return None

    def latest_ticket(self, review):
        tickets = self.by_review.get(id(review))
        return tickets[-1] if tickets else None

    # Writes ----------------------------------------------------------------------------------
    def open_for(self, review, *, event_type):
        """Open a ticket for a ticket-worthy review, unless one is open already."""
        existing = self.open_ticket(review)
        if existing is not None:
            return existing
        ticket = Ticket(
            review=review,
            shop=review.shop,
            platform=review.platform,
            tier=review.tier or Tier.NEGATIVE,
            status=TicketStatus.NEW,
            item_sku=review.item_sku,  # statistics by SKU read tickets alone (issue 6)
            item_title=review.item_title,
        )
        self.planner.start_clocks(
            ticket,
            opened_at=ticket.created_at,
            rated_at=review.rated_at,
            revision_window_days=review.shop.effective_revision_window_days,
        )
        self.by_review.setdefault(id(review), []).append(ticket)
        self._new.append(ticket)
        self._needs_assignment.append(ticket)
        self._events.append(
            timeline_event(
                ticket,
                TimelineKind.OPENED,
                actor_label=self.actor_label,
                message=Phrase(gettext_noop("Opened from a %(tier)s review."), tier=label("tier", ticket.tier)),
                data={"event": event_type, "tier": ticket.tier, "stars": review.stars},
                to_status=TicketStatus.NEW,
            )
        )
        return ticket

    def close_verified(self, review, outcome):
        """A platform fact (revised to positive, deleted) closes the open ticket as verified, or
        verifies the outcome an agent already claimed on the latest closed ticket."""
        ticket = self.open_ticket(review)
        if ticket is not None:
            if ticket.assignee_id:
                self.freed_shop_ids.add(ticket.shop_id)
            ticket.outcome, ticket.outcome_verified = outcome, True
            self._record(
                ticket,
                transition(
                    ticket,
                    TicketStatus.RESOLVED,
                    kind=TimelineKind.CLOSED,
                    actor_label=self.actor_label,
                    message=Phrase(
                        gettext_noop("Closed: %(outcome)s, verified by the platform."),
                        outcome=label("outcome", outcome),
                    ),
                    data={"outcome": outcome, "verified": True},
                ),
            )
            return ticket
        ticket = self.latest_ticket(review)
        # The first platform fact settles a closed ticket: a deletion after a verified revision
        # (or the reverse) is kept on the review, not written over the ticket's outcome.
        if ticket is None or ticket.outcome_verified:
            return ticket
        claimed = ticket.outcome
        ticket.outcome, ticket.outcome_verified = outcome, True
        said = Phrase(gettext_noop("Outcome verified by the platform: %(outcome)s."), outcome=label("outcome", outcome))
        data = {"outcome": outcome, "claimed": claimed or None, "verified": True}
        if ticket.status == TicketStatus.CLOSED_UNRESOLVED:
            event = transition(
                ticket,
                TicketStatus.RESOLVED,
                kind=TimelineKind.OUTCOME_VERIFIED,
                actor_label=self.actor_label,
                message=said,
                data=data,
            )
        else:
            ticket.updated_at = timezone.now()
            event = timeline_event(
                ticket, TimelineKind.OUTCOME_VERIFIED, actor_label=self.actor_label, message=said, data=data
            )
        self._record(ticket, event)
        return ticket

    def reopen_latest(self, review, *, reason):
        """Reopen the latest ticket of a review that has no open one (a negative follow-up)."""
        ticket = self.latest_ticket(review)
        if ticket is None or ticket.status not in CLOSED_STATUSES:
            return ticket
        previous = {"outcome": ticket.outcome or None, "verified": ticket.outcome_verified}
        ticket.outcome, ticket.outcome_verified = "", False
        ticket.reopen_count += 1
        self._record(
            ticket,
            transition(
                ticket,
                TicketStatus.REOPENED,
                kind=TimelineKind.REOPENED,
                actor_label=self.actor_label,
                message=reason,
                data={"previous": previous},
            ),
        )
        self._needs_assignment.append(ticket)
        return ticket

    def note(self, review, kind, message, data=None):
        """A timeline line on the open ticket (else the latest one); returns that ticket."""
        ticket = self.open_ticket(review) or self.latest_ticket(review)
        if ticket is not None:
            self._events.append(timeline_event(ticket, kind, actor_label=self.actor_label, message=message, data=data))
        return ticket

    def _record(self, ticket, event):
        if ticket.pk is not None:
            self._changed[ticket.pk] = ticket
        self._events.append(event)

    def flush(self):
        """Write everything; returns the ids of tickets that opened or reopened."""
        if self._new:
            Ticket.objects.bulk_create(self._new)
        if self._changed:
            bulk_update_rows(self._changed.values(), _TICKET_SYNC_FIELDS)
        if self._events:
            for event in self._events:
                event.ticket_id = event.ticket.pk
            TicketEvent.objects.bulk_create(self._events)
        ids = list(dict.fromkeys(t.pk for t in self._needs_assignment if t.status in OPEN_STATUSES))
        self._new, self._changed, self._events, self._needs_assignment = [], {}, [], []
        return ids


def after_commit_assign(ticket_ids, freed_shop_ids=()):
    """Hand opened or reopened tickets to assignment, and freed capacity to the pool, once the
    transaction that made them commits."""
    if ticket_ids:
        transaction.on_commit(lambda: tickets_need_assignment(list(ticket_ids)))
    if freed_shop_ids:
        transaction.on_commit(lambda: capacity_freed(set(freed_shop_ids)))


class TicketActionRefused(Exception):
    """A person's action the rules do not allow; the message says why, `code` names it."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def contact_attempt_log(ticket_id, user, *, channel, result, note="", override_reason=""):
    """Record a try to reach the buyer. The first one stops the first-contact clock; the first
    `reached` sets first_reached_at. Returns the attempt.

    A phone call against the contact etiquette (daily cap, spacing, quiet hours in the buyer's
    time zone; contacts.etiquette) is refused unless `override_reason` is given, in which case
    the timeline row records the override and the rules it broke."""
    from contacts.etiquette import contact_etiquette_check, etiquette_refusal_message, lock_buyer_of_ticket

    now = timezone.now()
    override_reason = (override_reason or "").strip()
    with transaction.atomic():
        # The buyer is locked before the ticket (the order ingestion uses), so two agents calling
        # the same buyer from different tickets cannot both slip under the daily cap.
        buyer = lock_buyer_of_ticket(ticket_id) if channel == ContactChannel.PHONE else None
        ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
        if ticket.status in CLOSED_STATUSES:
            raise TicketActionRefused(
                _("This ticket is closed; reopen it before contacting the buyer."), "ticket_closed"
            )
        etiquette_override = None
        if buyer is not None:
            violations = contact_etiquette_check(buyer, ticket.shop, channel=channel, now=now)
            if violations and not override_reason:
                raise TicketActionRefused(etiquette_refusal_message(violations), "etiquette")
            if violations:
                etiquette_override = {"reason": override_reason, "violations": [v.as_dict() for v in violations]}
        attempt = ContactAttempt.objects.create(
            ticket=ticket, agent=user, channel=channel, result=result, note=note, created_at=now
        )
        events = []
        if ticket.first_contact_at is None:
            ticket.first_contact_at = now
        if result == ContactResult.REACHED and ticket.first_reached_at is None:
            ticket.first_reached_at = now
        stamp_first_contact_minutes(ticket)  # statistics read stored business minutes (issue 6)
        if ticket.status in (TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.REOPENED):
            events.append(
                transition(
                    ticket, TicketStatus.IN_PROGRESS, actor=user, message=Phrase(gettext_noop("Contacting the buyer."))
                )
            )
        message = phrases.contact_attempt(channel, result)
        data = {"attempt": attempt.pk, "channel": channel, "result": result, "note": note}
        if etiquette_override is not None:
            message += Phrase(gettext_noop("(contact etiquette overridden: %(reason)s)"), reason=override_reason)
            data["etiquette_override"] = etiquette_override
        events.append(timeline_event(ticket, TimelineKind.CONTACT_ATTEMPT, actor=user, message=message, data=data))
        ticket.sla_state = live_state(ticket, now)
        ticket.updated_at = now
        ticket.save(
            update_fields=[
                "first_contact_at",
                "first_reached_at",
                "first_contact_business_minutes",
                "first_reach_business_minutes",
                "status",
                "sla_state",
                "updated_at",
                "closed_at",
                "resolved_at",
            ]
        )
        TicketEvent.objects.bulk_create(events)
    return attempt

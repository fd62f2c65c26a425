"""Reads of buyers, scoped to the caller's shops. A buyer is visible to a caller whose shops the
buyer reviewed; their reviews, tickets, contact history and remedies are shown for those shops
only. Notes, counters and risk are about the person and are shown whole.

Each read runs a fixed number of queries whatever the number of rows."""

from dataclasses import dataclass, field

from django.db.models import Prefetch

from reviews.models import Review
from reviews.selectors import shop_ids_visible_to
from tickets.models import ContactAttempt, Remedy, Ticket, TicketEvent

from .etiquette import best_contact_time
from .models import Buyer, BuyerNote, BuyerStats


def buyer_visible(principal, buyer_id):
    """The buyer when the caller's shops have a review of theirs, else None (a 404)."""
    shop_ids = shop_ids_visible_to(principal)
    if not shop_ids:
        return None
    return (
        Buyer.objects.filter(pk=buyer_id, reviews__shop_id__in=shop_ids)
        .select_related("stats", "list_mark_by")
        .distinct()
        .first()
    )


@dataclass
class BuyerProfile:
    """Everything the buyer page and the buyer API show."""

    buyer: Buyer
    stats: BuyerStats
    best_time: tuple
    reviews: list = field(default_factory=list)
    tickets: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    contact_attempts: list = field(default_factory=list)
    remedies: list = field(default_factory=list)


def _stats_of(buyer):
    try:
        return buyer.stats
    except BuyerStats.DoesNotExist:
        # Not refreshed yet (the ingest calls buyer_stats_refresh after commit): zeros, no date.
        return BuyerStats(buyer=buyer, refreshed_at=None, outcomes={})


def buyer_profile(principal, buyer):
    """The buyer's profile as the caller may see it."""
    shop_ids = shop_ids_visible_to(principal)
    tickets = list(
        Ticket.objects.filter(review__buyer=buyer, shop_id__in=shop_ids)
        .select_related("shop", "assignee", "review")
        .order_by("-created_at", "-id")
    )
    return BuyerProfile(
        buyer=buyer,
        stats=_stats_of(buyer),
        best_time=best_contact_time(buyer, shop=None),
        reviews=list(
            Review.objects.filter(buyer=buyer, shop_id__in=shop_ids).select_related("shop").order_by("-rated_at", "-id")
        ),
        tickets=tickets,
        notes=list(BuyerNote.objects.filter(buyer=buyer).select_related("author")),
        contact_attempts=list(
            ContactAttempt.objects.filter(ticket__in=[t.pk for t in tickets])
            .select_related("agent", "ticket")
            .order_by("-created_at", "-id")
        ),
        remedies=list(
            Remedy.objects.filter(ticket__in=[t.pk for t in tickets])
            .select_related("ticket", "offered_by")
            .order_by("-created_at", "-id")
        ),
    )


def evidence_ticket(principal, buyer, ticket_id):
    """One ticket of this buyer in the caller's shops, with its contact log and timeline."""
    return (
        Ticket.objects.filter(pk=ticket_id, review__buyer=buyer, shop_id__in=shop_ids_visible_to(principal))
        .select_related("shop", "assignee", "review")
        .prefetch_related(
            Prefetch("contact_attempts", queryset=ContactAttempt.objects.select_related("agent")),
            Prefetch("remedies", queryset=Remedy.objects.select_related("offered_by")),
            Prefetch("timeline", queryset=TicketEvent.objects.select_related("actor")),
        )
        .first()
    )

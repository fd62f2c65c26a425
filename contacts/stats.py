"""Buyer counters: recomputed in SQL for a batch of buyers, in a fixed number of queries."""

from django.db.models import Count, Max, Q
from django.utils import timezone

from reviews.choices import Tier
from reviews.models import Review
from tickets.choices import OPEN_STATUSES, RESOLVING_OUTCOMES
from tickets.models import Ticket

from .models import BuyerStats

COUNTER_FIELDS = [
    "reviews_total",
    "reviews_positive",
    "reviews_neutral",
    "reviews_negative",
    "shops_reviewed",
    "last_review_at",
    "tickets_total",
    "tickets_open",
    "tickets_resolved",
    "outcomes",
    "refreshed_at",
]


def buyer_stats_refresh(buyer_ids):
    """Recompute the counters of these buyers from their reviews and tickets; returns
    {buyer id: BuyerStats}.

    Three queries whatever the number of buyers: the review aggregates, the ticket aggregates
    (grouped by outcome) and one INSERT … ON CONFLICT DO UPDATE. Idempotent, so calling it twice
    for the same buyers, or concurrently, is harmless. Reviews count by their current tier.
    """
    ids = sorted({int(i) for i in buyer_ids if i is not None})
    if not ids:
        return {}
    now = timezone.now()
    rows = {
        row["buyer_id"]: row
        for row in Review.objects.filter(buyer_id__in=ids)
        .values("buyer_id")
        .annotate(
            total=Count("id"),
            positive=Count("id", filter=Q(tier=Tier.POSITIVE)),
            neutral=Count("id", filter=Q(tier=Tier.NEUTRAL)),
            negative=Count("id", filter=Q(tier=Tier.NEGATIVE)),
            shops=Count("shop_id", distinct=True),
            last=Max("rated_at"),
        )
        .order_by()
    }
    stats = {
        buyer_id: BuyerStats(
            buyer_id=buyer_id,
            reviews_total=row["total"] if row else 0,
            reviews_positive=row["positive"] if row else 0,
            reviews_neutral=row["neutral"] if row else 0,
            reviews_negative=row["negative"] if row else 0,
            shops_reviewed=row["shops"] if row else 0,
            last_review_at=row["last"] if row else None,
            outcomes={},
            refreshed_at=now,
        )
        for buyer_id in ids
        for row in [rows.get(buyer_id)]
    }
    ticket_rows = (
        Ticket.objects.filter(review__buyer_id__in=ids)
        .values("review__buyer_id", "outcome")
        .annotate(n=Count("id"), open=Count("id", filter=Q(status__in=sorted(OPEN_STATUSES))))
        .order_by()
    )
    for row in ticket_rows:  # one row per (buyer, outcome): a handful per buyer at most
        item = stats[row["review__buyer_id"]]
        item.tickets_total += row["n"]
        item.tickets_open += row["open"]
        if row["outcome"]:
            item.outcomes[row["outcome"]] = item.outcomes.get(row["outcome"], 0) + row["n"]
            if row["outcome"] in RESOLVING_OUTCOMES:
                item.tickets_resolved += row["n"]
    BuyerStats.objects.bulk_create(
        stats.values(), update_conflicts=True, unique_fields=["buyer"], update_fields=COUNTER_FIELDS
    )
    return stats

"""Reads about connectors: which are due for a pull."""

from django.db.models import Q
from django.utils import timezone

from ..models import Connector, Review
from .windowed import ReviewSnapshot


def connector_due_q(now):
    """Enabled, its next run has come, and no worker holds an unexpired lease on it."""
    return Q(is_enabled=True, next_run_at__lte=now) & (Q(lease_until__isnull=True) | Q(lease_until__lte=now))


def connectors_due_ids(*, now=None, limit=1000):
    """Ids of due connectors, longest-waiting first (served by the connector_due index)."""
    now = now or timezone.now()
    queryset = Connector.objects.filter(connector_due_q(now)).order_by("next_run_at", "pk")
    return list(queryset.values_list("pk", flat=True)[:limit])


def review_snapshots(shop_id, *, review_ids=None, tiers=None, rated_from=None, rated_to=None):
    """{review id: ReviewSnapshot} of a shop's stored reviews: those with the given ids, or those of
    the given tiers rated in [rated_from, rated_to). One query."""
    queryset = Review.objects.filter(shop_id=shop_id)
    if review_ids is not None:
        if not review_ids:
            return {}
        queryset = queryset.filter(review_id__in=review_ids)
    if tiers is not None:
        queryset = queryset.filter(tier__in=tiers)
    if rated_from is not None:
        queryset = queryset.filter(rated_at__gte=rated_from)
    if rated_to is not None:
        queryset = queryset.filter(rated_at__lt=rated_to)
    rows = queryset.values_list("review_id", "order_id", "tier", "state", "reply_content", "followup_content")
    return {row[0]: ReviewSnapshot(*row) for row in rows.iterator(chunk_size=2000)}

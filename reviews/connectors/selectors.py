"""Reads about connectors: which are due for a pull."""

from django.db.models import Q
from django.utils import timezone

from ..models import Connector


def connector_due_q(now):
    """Enabled, its next run has come, and no worker holds an unexpired lease on it."""
    return Q(is_enabled=True, next_run_at__lte=now) & (Q(lease_until__isnull=True) | Q(lease_until__lte=now))


def connectors_due_ids(*, now=None, limit=1000):
    """Ids of due connectors, longest-waiting first (served by the connector_due index)."""
    now = now or timezone.now()
    queryset = Connector.objects.filter(connector_due_q(now)).order_by("next_run_at", "pk")
    return list(queryset.values_list("pk", flat=True)[:limit])

"""Writes to buyers."""

import datetime as dt

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from reviewdesk.db import bulk_update_rows, insert_rows, is_postgresql

from .models import Buyer

_PROFILE_FIELDS = ("nick", "phone", "region")


def buyers_upsert(platform_profiles, *, seen_at_by_key):
    """Create or refresh buyers in bulk; returns {(platform, open_id): buyer id}.

    `platform_profiles` maps (platform, open_id) to {"nick", "phone", "region"} (only the given,
    non-empty values overwrite). Rows are written in key order, so two concurrent ingests of the
    same buyers queue on the row locks rather than deadlock, and both succeed.

    On PostgreSQL this is one `INSERT … ON CONFLICT DO UPDATE … RETURNING id` (new buyers are
    inserted complete, returning ones are refreshed and row-locked by the same statement);
    elsewhere an insert that ignores conflicts, then a locking select and an update.
    """
    if not platform_profiles:
        return {}
    keys = sorted(platform_profiles)
    if is_postgresql(Buyer):
        return _upsert_postgresql(keys, platform_profiles, seen_at_by_key)
    return _upsert_portable(keys, platform_profiles, seen_at_by_key)


# Given values overwrite, absent ones keep what is stored; seen times only ever widen.
_ON_CONFLICT = (
    "ON CONFLICT (platform, open_id) DO UPDATE SET "
    "nick = COALESCE(NULLIF(EXCLUDED.nick, ''), contacts_buyer.nick), "
    "phone = COALESCE(NULLIF(EXCLUDED.phone, ''), contacts_buyer.phone), "
    "region = COALESCE(NULLIF(EXCLUDED.region, ''), contacts_buyer.region), "
    "first_seen_at = LEAST(contacts_buyer.first_seen_at, EXCLUDED.first_seen_at), "
    "last_seen_at = GREATEST(contacts_buyer.last_seen_at, EXCLUDED.last_seen_at), "
    "updated_at = EXCLUDED.updated_at"
)
_COLUMNS = (
    "platform",
    "open_id",
    "nick",
    "phone",
    "region",
    "risk_level",
    "first_seen_at",
    "last_seen_at",
    "created_at",
    "updated_at",
)


def _upsert_postgresql(keys, platform_profiles, seen_at_by_key):
    now = timezone.now()
    phone_field = Buyer._meta.get_field("phone")
    default_risk = Buyer._meta.get_field("risk_level").get_default()
    rows = []
    for key in keys:
        profile, seen = platform_profiles[key], seen_at_by_key[key]
        phone = profile.get("phone") or ""
        rows.append(
            (
                key[0],
                key[1],
                profile.get("nick") or "",
                phone_field.get_prep_value(phone) if phone else "",  # encrypted at rest
                profile.get("region") or "",
                default_risk,
                seen,
                seen,
                now,
                now,
            )
        )
    ids = insert_rows(Buyer, _COLUMNS, rows, returning="id", on_conflict=_ON_CONFLICT)
    return dict(zip(keys, ids, strict=True))


def _upsert_portable(keys, platform_profiles, seen_at_by_key):
    Buyer.objects.bulk_create(
        [
            Buyer(
                platform=p,
                open_id=o,
                first_seen_at=seen_at_by_key[(p, o)],
                last_seen_at=seen_at_by_key[(p, o)],
                **{f: platform_profiles[(p, o)].get(f) or "" for f in _PROFILE_FIELDS},
            )
            for p, o in keys
        ],
        ignore_conflicts=True,
    )
    condition = Q()
    by_platform = {}
    for platform, open_id in keys:
        by_platform.setdefault(platform, []).append(open_id)
    for platform, open_ids in by_platform.items():
        condition |= Q(platform=platform, open_id__in=open_ids)
    buyers = {(b.platform, b.open_id): b for b in Buyer.objects.select_for_update().filter(condition).order_by("id")}
    changed = []
    for key, profile in platform_profiles.items():
        buyer = buyers[key]
        seen = seen_at_by_key[key]
        dirty = False
        for field in _PROFILE_FIELDS:
            value = profile.get(field)
            if value and value != getattr(buyer, field):
                setattr(buyer, field, value)
                dirty = True
        if buyer.first_seen_at is None or seen < buyer.first_seen_at:
            buyer.first_seen_at, dirty = seen, True
        if buyer.last_seen_at is None or seen > buyer.last_seen_at:
            buyer.last_seen_at, dirty = seen, True
        if dirty:
            changed.append(buyer)
    if changed:
        bulk_update_rows(changed, ["nick", "phone", "region", "first_seen_at", "last_seen_at"])
    return {key: buyer.pk for key, buyer in buyers.items()}


# Buyer profiles, risk, etiquette and personal data (issue 5) live in their own modules; these are
# the services other apps call (ingest, outcomes, remedies, contact attempts).
from .buyer_services import (  # noqa: E402
    BuyerActionRefused,
    buyer_list_mark_set,
    buyer_note_add,
    buyer_reveal,
    remedy_allowed,
)
from .etiquette import best_contact_time, contact_etiquette_check  # noqa: E402
from .risk import RiskAssessment, buyer_risk_assess, buyers_risk_assess  # noqa: E402
from .stats import buyer_stats_refresh  # noqa: E402


def buyers_refresh(buyer_ids):
    """Recount these buyers' reviews, tickets and outcomes and reassess their risk, in one
    transaction (a fixed number of queries for any number of buyers)."""
    with transaction.atomic():
        buyer_stats_refresh(buyer_ids)
        return buyers_risk_assess(buyer_ids)


def buyers_touch(buyer_ids, now):
    """Mark buyers as written (their reviews or tickets changed), so the sweep recounts them."""
    if buyer_ids:
        Buyer.objects.filter(pk__in=sorted(buyer_ids)).update(updated_at=now)


STALE_SWEEP_LIMIT = 5000
# Buyers written longer ago than this are left to `manage.py buyers_refresh`: the window keeps the
# sweep on the updated_at index instead of comparing every buyer with its counters.
STALE_SWEEP_WINDOW = dt.timedelta(hours=6)


def stale_buyers_refresh(limit=STALE_SWEEP_LIMIT, now=None):
    """Recount and reassess the buyers written (by ingestion) since their counters were last
    computed, oldest first; beat runs it every BUYER_SWEEP_SECONDS. Returns how many."""
    since = (now or timezone.now()) - STALE_SWEEP_WINDOW
    ids = list(
        Buyer.objects.filter(updated_at__gte=since)
        .filter(Q(stats__isnull=True) | Q(updated_at__gt=F("stats__refreshed_at")))
        .order_by("updated_at")
        .values_list("id", flat=True)[:limit]
    )
    if ids:
        buyers_refresh(ids)
    return len(ids)


__all__ = [
    "BuyerActionRefused",
    "RiskAssessment",
    "best_contact_time",
    "buyer_list_mark_set",
    "buyer_note_add",
    "buyer_reveal",
    "buyer_risk_assess",
    "buyer_stats_refresh",
    "buyers_refresh",
    "buyers_touch",
    "buyers_risk_assess",
    "buyers_upsert",
    "contact_etiquette_check",
    "remedy_allowed",
    "stale_buyers_refresh",
]

"""Writes to buyers."""

from django.db.models import Q

from reviewdesk.db import bulk_update_rows

from .models import Buyer


def buyers_upsert(platform_profiles, *, seen_at_by_key):
    """Create or refresh buyers in bulk; returns {(platform, open_id): Buyer}.

    `platform_profiles` maps (platform, open_id) to {"nick", "phone", "region"} (only the given,
    non-empty values overwrite). Rows are created with ON CONFLICT DO NOTHING so two concurrent
    ingests of the same new buyer both succeed, then locked in id order so concurrent updates
    cannot deadlock.
    """
    if not platform_profiles:
        return {}
    keys = list(platform_profiles)
    # New buyers are inserted complete, so only returning buyers need an UPDATE below.
    Buyer.objects.bulk_create(
        [
            Buyer(
                platform=p,
                open_id=o,
                first_seen_at=seen_at_by_key[(p, o)],
                last_seen_at=seen_at_by_key[(p, o)],
                **{f: platform_profiles[(p, o)].get(f) or "" for f in ("nick", "phone", "region")},
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
        for field in ("nick", "phone", "region"):
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
    return buyers

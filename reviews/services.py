"""Writes to reviews: ingestion of review events from every source (push, pull, import, demo)."""

import logging
import uuid
from dataclasses import dataclass

from django.db import OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.services import buyers_upsert
from tickets.choices import Outcome, TimelineKind
from tickets.services import ReviewTicketSync, after_commit_assign

from .choices import EventStatus, EventType, ReviewState, Tier
from .models import InboundEvent, Review
from .rules import followup_reopens, review_is_ticket_worthy, tier_of

logger = logging.getLogger(__name__)

_DEADLOCK_CODES = {"40P01", "40001"}  # deadlock detected, serialization failure
_REVIEW_FIELDS = [
    "state",
    "order_id",
    "sub_order_id",
    "buyer",
    "item_id",
    "item_sku",
    "item_title",
    "item_sku_text",
    "item_price",
    "tier",
    "stars",
    "dsr_description",
    "dsr_service",
    "dsr_logistics",
    "content",
    "image_count",
    "rated_at",
    "state_occurred_at",
    "followup_content",
    "followup_image_count",
    "followup_negative",
    "followup_at",
    "reply_content",
    "replied_at",
    "updated_at",
]


@dataclass(slots=True)
class EventResult:
    index: int
    event_id: str | None
    review_id: str | None
    status: str
    ticket_id: int | None = None
    error: dict | None = None

    def as_dict(self):
        out = {"index": self.index, "event_id": self.event_id, "review_id": self.review_id, "status": self.status}
        if self.status == EventStatus.REJECTED:
            out["error"] = self.error
        else:
            out["ticket_id"] = self.ticket_id
        return out


def review_events_ingest(items, *, source, actor_label, api_key=None, connector=None):
    """Store valid, authorised events and apply them to reviews, buyers and tickets.

    `items` is a list of (index, ReviewEventIn, Shop). One transaction for the whole list: the
    idempotency keys are claimed first (INSERT … ON CONFLICT DO NOTHING), so a replay, or the
    same event pushed by two clients at once, lands exactly once. Returns an EventResult per item.
    Deadlocks between concurrent batches are retried.
    """
    if not items:
        return []
    for attempt in range(4):
        try:
            with transaction.atomic():
                results, assign_ids = _ingest(items, source, actor_label, api_key, connector)
                after_commit_assign(assign_ids)
            return results
        except OperationalError as exc:
            code = getattr(exc.__cause__, "pgcode", None)
            if code not in _DEADLOCK_CODES or attempt == 3:
                raise
            logger.warning("review ingest retried after %s (attempt %s)", code, attempt + 1)
    raise AssertionError("unreachable")


def _ingest(items, source, actor_label, api_key, connector):
    batch = uuid.uuid4()
    now = timezone.now()

    # 1. Claim idempotency keys; a key seen earlier in this batch is a duplicate of the first.
    first_by_key, repeats = {}, []
    for index, event, shop in items:
        key = (shop.pk, event.idempotency_key)
        if key in first_by_key:
            repeats.append((index, first_by_key[key]))
        else:
            first_by_key[key] = index
    by_index = {index: (event, shop) for index, event, shop in items}
    InboundEvent.objects.bulk_create(
        [
            InboundEvent(
                shop=by_index[index][1],
                idempotency_key=key[1],
                event_id=by_index[index][0].event_id or "",
                event_type=by_index[index][0].type,
                platform_review_id=by_index[index][0].review_id,
                occurred_at=by_index[index][0].occurred_at,
                payload=by_index[index][0].payload,
                status=EventStatus.IGNORED,
                source=source,
                api_key=api_key,
                connector=connector,
                received_at=now,
                ingest_batch=batch,
            )
            for key, index in sorted(first_by_key.items())  # one lock order for concurrent batches
        ],
        ignore_conflicts=True,
    )
    rows = {
        (row.shop_id, row.idempotency_key): row
        for row in InboundEvent.objects.filter(
            shop_id__in={k[0] for k in first_by_key}, idempotency_key__in={k[1] for k in first_by_key}
        ).only("id", "shop_id", "idempotency_key", "ingest_batch", "ticket_id")
    }
    results, claimed = {}, []
    for key, index in first_by_key.items():
        event, _shop = by_index[index]
        row = rows[key]
        if row.ingest_batch == batch:
            claimed.append((index, row))
        else:
            results[index] = EventResult(index, event.event_id, event.review_id, EventStatus.DUPLICATE, row.ticket_id)
    claimed.sort(key=lambda pair: pair[0])

    assign_ids = _apply_claimed(claimed, by_index, actor_label, results, now) if claimed else []

    for index, first in repeats:
        event = by_index[index][0]
        results[index] = EventResult(
            index, event.event_id, event.review_id, EventStatus.DUPLICATE, results[first].ticket_id
        )
    return [results[index] for index, _event, _shop in items], assign_ids


def _apply_claimed(claimed, by_index, actor_label, results, now):
    reviews = _lock_reviews({(by_index[i][1], by_index[i][0].review_id) for i, _row in claimed})
    buyers = _upsert_buyers([by_index[i] for i, _row in claimed])
    sync = ReviewTicketSync([r.pk for r in reviews.values()], actor_label=actor_label)

    changed_reviews, ticket_of = {}, {}
    for index, row in claimed:
        event, shop = by_index[index]
        review = reviews[(shop.pk, event.review_id)]
        buyer = buyers.get((shop.platform, event.buyer["id"])) if event.buyer else None
        status, ticket = _APPLY[event.type](review, event, shop, buyer, sync)
        if status != EventStatus.IGNORED:
            review.updated_at = now
            changed_reviews[review.pk] = review
        ticket = ticket or sync.open_ticket(review) or sync.latest_ticket(review)
        row.status, row.review_id = status, review.pk
        ticket_of[index] = (row, ticket)
        results[index] = EventResult(index, event.event_id, event.review_id, status)

    if changed_reviews:
        Review.objects.bulk_update(list(changed_reviews.values()), _REVIEW_FIELDS)
    assign_ids = sync.flush()
    for index, (row, ticket) in ticket_of.items():
        row.ticket_id = results[index].ticket_id = ticket.pk if ticket is not None else None
    InboundEvent.objects.bulk_update([row for row, _t in ticket_of.values()], ["status", "review", "ticket_id"])
    return assign_ids


def _lock_reviews(shop_review_ids):
    """Row-lock every review the batch touches, creating missing ones as pending rows first so a
    concurrent batch about the same new review waits for this one instead of failing."""
    shops = {shop.pk: shop for shop, _rid in shop_review_ids}
    by_shop = {}
    for shop, review_id in shop_review_ids:
        by_shop.setdefault(shop.pk, set()).add(review_id)
    condition = Q()
    for shop_id, review_ids in by_shop.items():
        condition |= Q(shop_id=shop_id, review_id__in=review_ids)

    found = {(r.shop_id, r.review_id): r for r in Review.objects.select_for_update().filter(condition).order_by("id")}
    missing = sorted((shop.pk, rid) for shop, rid in shop_review_ids if (shop.pk, rid) not in found)
    if missing:
        Review.objects.bulk_create(
            [
                Review(shop_id=sid, platform=shops[sid].platform, review_id=rid, state=ReviewState.PENDING)
                for sid, rid in missing
            ],
            ignore_conflicts=True,
        )
        condition = Q()
        for sid, rid in missing:
            condition |= Q(shop_id=sid, review_id=rid)
        for review in Review.objects.select_for_update().filter(condition).order_by("id"):
            found[(review.shop_id, review.review_id)] = review
    for review in found.values():
        review.shop = shops[review.shop_id]
    return found


def _upsert_buyers(pairs):
    profiles, seen = {}, {}
    for event, shop in pairs:
        if not event.buyer:
            continue
        key = (shop.platform, event.buyer["id"])
        profile = profiles.setdefault(key, {})
        newest = seen.get(key)
        if newest is None or event.occurred_at >= newest:
            profile.update({k: v for k, v in event.buyer.items() if k != "id" and v})
        seen[key] = event.occurred_at if newest is None else max(newest, event.occurred_at)
    return buyers_upsert(dict(sorted(profiles.items())), seen_at_by_key=seen)


# Applying one event to a review -----------------------------------------------------------------


def _is_blank(review):
    return review.state == ReviewState.PENDING and review.followup_at is None and review.replied_at is None


def _stale(review, event):
    return review.state != ReviewState.PENDING and review.state_occurred_at >= event.occurred_at


def _set_descriptive(review, event, buyer, *, only_blanks):
    """Order, item and buyer: set from the event (only where still empty, for late or partial events).
    Returns whether anything changed."""
    changed = False
    values = {"order_id": event.order_id, "sub_order_id": event.sub_order_id}
    if event.item:
        values.update(
            item_id=event.item["id"],
            item_sku=event.item["sku"],
            item_title=event.item["title"],
            item_sku_text=event.item["sku_text"],
            item_price=event.item["price"],
        )
    for name, value in values.items():
        if value is None or (only_blanks and getattr(review, name) not in ("", None)):
            continue
        if getattr(review, name) != value:
            setattr(review, name, value)
            changed = True
    if buyer is not None and review.buyer_id != buyer.pk and not (only_blanks and review.buyer_id):
        review.buyer = buyer
        changed = True
    return changed


def _set_rating(review, event, shop):
    review.stars = event.stars
    review.tier = tier_of(shop, tier=event.tier, stars=event.stars)
    if event.dsr is not None:
        review.dsr_description = event.dsr["description"]
        review.dsr_service = event.dsr["service"]
        review.dsr_logistics = event.dsr["logistics"]
    if event.content is not None:
        review.content = event.content
    if event.image_count is not None:
        review.image_count = event.image_count


def _apply_created(review, event, shop, buyer, sync):
    if _stale(review, event):
        filled = _set_descriptive(review, event, buyer, only_blanks=True)
        return (EventStatus.UPDATED if filled else EventStatus.IGNORED), None
    status = EventStatus.CREATED if review.state == ReviewState.PENDING else EventStatus.UPDATED
    _set_descriptive(review, event, buyer, only_blanks=False)
    _set_rating(review, event, shop)
    review.content = event.content or ""
    review.image_count = event.image_count or 0
    review.state, review.rated_at, review.state_occurred_at = ReviewState.ACTIVE, event.occurred_at, event.occurred_at
    ticket = sync.open_for(review, event_type=event.type) if review_is_ticket_worthy(review, shop) else None
    return status, ticket


def _apply_revised(review, event, shop, buyer, sync):
    if _stale(review, event):
        return EventStatus.IGNORED, None
    status = EventStatus.CREATED if review.state == ReviewState.PENDING else EventStatus.UPDATED
    old_tier, old_stars = review.tier, review.stars
    _set_descriptive(review, event, buyer, only_blanks=True)
    _set_rating(review, event, shop)
    review.state, review.state_occurred_at = ReviewState.ACTIVE, event.occurred_at
    review.rated_at = review.rated_at or event.occurred_at
    change = {
        "from": {"tier": old_tier or None, "stars": old_stars},
        "to": {"tier": review.tier, "stars": review.stars},
    }
    if review.tier == Tier.POSITIVE:
        return status, sync.close_verified(review, Outcome.REVISED_POSITIVE)
    if review_is_ticket_worthy(review, shop) and sync.open_ticket(review) is None:
        return status, sync.open_for(review, event_type=event.type)
    message = _("The buyer revised the review: %(old)s → %(new)s.") % {
        "old": Tier(old_tier).label if old_tier else "—",
        "new": Tier(review.tier).label,
    }
    return status, sync.note(review, TimelineKind.REVIEW_REVISED, message, change)


def _apply_deleted(review, event, shop, buyer, sync):
    if _stale(review, event):
        return EventStatus.IGNORED, None
    status = EventStatus.CREATED if _is_blank(review) else EventStatus.UPDATED
    _set_descriptive(review, event, buyer, only_blanks=True)
    review.state, review.state_occurred_at = ReviewState.DELETED, event.occurred_at
    return status, sync.close_verified(review, Outcome.DELETED_BY_BUYER)


def _apply_followup(review, event, shop, buyer, sync):
    if review.followup_at is not None and review.followup_at >= event.occurred_at:
        return EventStatus.IGNORED, None
    status = EventStatus.CREATED if _is_blank(review) else EventStatus.UPDATED
    _set_descriptive(review, event, buyer, only_blanks=True)
    followup = event.followup
    review.followup_content = followup["content"]
    review.followup_image_count = followup["image_count"]
    review.followup_negative = followup["negative"]
    review.followup_at = event.occurred_at
    data = {"content": followup["content"], "negative": followup["negative"]}
    if sync.open_ticket(review) is None and followup_reopens(review, followup["negative"]):
        latest = sync.latest_ticket(review)
        if latest is not None:
            return status, sync.reopen_latest(review, reason=_("Reopened: the buyer added a negative follow-up."))
    return status, sync.note(review, TimelineKind.FOLLOWUP_ADDED, _("The buyer added a follow-up review."), data)


def _apply_replied(review, event, shop, buyer, sync):
    if review.replied_at is not None and review.replied_at >= event.occurred_at:
        return EventStatus.IGNORED, None
    status = EventStatus.CREATED if _is_blank(review) else EventStatus.UPDATED
    _set_descriptive(review, event, buyer, only_blanks=True)
    review.reply_content, review.replied_at = event.reply["content"], event.occurred_at
    message = _("Seller explanation posted on the platform.")
    return status, sync.note(review, TimelineKind.SELLER_REPLIED, message, {"content": event.reply["content"]})


_APPLY = {
    EventType.CREATED: _apply_created,
    EventType.REVISED: _apply_revised,
    EventType.DELETED: _apply_deleted,
    EventType.FOLLOWUP: _apply_followup,
    EventType.REPLIED: _apply_replied,
}

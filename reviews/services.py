"""Writes to reviews: ingestion of review events from every source (push, pull, import, demo)."""

import logging
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.services import buyers_upsert
from reviewdesk.db import bulk_update_rows
from tickets.choices import Outcome, TimelineKind
from tickets.services import ReviewTicketSync, after_commit_assign

from .choices import EventStatus, EventType, ReviewState, Tier
from .models import InboundEvent, Review
from .rules import followup_reopens, review_is_ticket_worthy, tier_of

logger = logging.getLogger(__name__)

_DEADLOCK_CODES = {"40P01", "40001"}  # deadlock detected, serialization failure
_ATTEMPTS = 5
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

    `items` is a list of (index, ReviewEventIn, Shop); returns an EventResult per item. One
    transaction for the whole list, every row written once. The batch row-locks the reviews it
    touches before it looks up idempotency keys, so a replay — or the same event pushed by two
    clients at once — waits for the first and lands exactly once. When a concurrent batch creates
    the same new review or stores the same key first, the unique constraint refuses the second
    and the whole batch is retried (as are deadlocks), now seeing the first one's rows.
    """
    if not items:
        return []
    for attempt in range(_ATTEMPTS):
        try:
            with transaction.atomic():
                results, assign_ids, freed_shop_ids = _ingest(items, source, actor_label, api_key, connector)
                after_commit_assign(assign_ids, freed_shop_ids)
            return results
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise
            logger.info("review ingest retried: a concurrent batch stored the same review or event first")
        except OperationalError as exc:
            code = getattr(exc.__cause__, "pgcode", None)
            if code not in _DEADLOCK_CODES or attempt == _ATTEMPTS - 1:
                raise
            logger.warning("review ingest retried after %s (attempt %s)", code, attempt + 1)
    raise AssertionError("unreachable")


def _ingest(items, source, actor_label, api_key, connector):
    now = timezone.now()
    by_index = {index: (event, shop) for index, event, shop in items}
    reviews = _lock_reviews({(shop, event.review_id) for _index, event, shop in items})

    # Idempotency: a key stored by an earlier batch, or seen earlier in this one, is a duplicate.
    first_by_key, repeats = {}, []
    for index, event, shop in items:
        key = (shop.pk, event.idempotency_key)
        if key in first_by_key:
            repeats.append((index, first_by_key[key]))
        else:
            first_by_key[key] = index
    stored = {
        (shop_id, key): ticket_id
        for shop_id, key, ticket_id in InboundEvent.objects.filter(
            shop_id__in={k[0] for k in first_by_key}, idempotency_key__in={k[1] for k in first_by_key}
        ).values_list("shop_id", "idempotency_key", "ticket_id")
    }
    results, fresh = {}, []
    for key, index in first_by_key.items():
        event = by_index[index][0]
        if key in stored:
            results[index] = EventResult(index, event.event_id, event.review_id, EventStatus.DUPLICATE, stored[key])
        else:
            fresh.append(index)
    fresh.sort()

    assign_ids, freed_shop_ids = [], ()
    if fresh:
        assign_ids, freed_shop_ids = _apply_fresh(
            fresh,
            by_index,
            reviews,
            results,
            now,
            source=source,
            actor_label=actor_label,
            api_key=api_key,
            connector=connector,
        )
    for index, first in repeats:
        event = by_index[index][0]
        results[index] = EventResult(
            index, event.event_id, event.review_id, EventStatus.DUPLICATE, results[first].ticket_id
        )
    return [results[index] for index, _event, _shop in items], assign_ids, freed_shop_ids


def _apply_fresh(fresh, by_index, reviews, results, now, *, source, actor_label, api_key, connector):
    buyers = _upsert_buyers([by_index[index] for index in fresh])
    touched = {(by_index[i][1].pk, by_index[i][0].review_id) for i in fresh}
    sync = ReviewTicketSync([reviews[key] for key in sorted(touched)], actor_label=actor_label)
    batch = uuid.uuid4()

    changed, inbound = {}, []
    for index in fresh:
        event, shop = by_index[index]
        review = reviews[(shop.pk, event.review_id)]
        buyer = buyers.get((shop.platform, event.buyer["id"])) if event.buyer else None
        status, ticket = _APPLY[event.type](review, event, shop, buyer, sync)
        if status != EventStatus.IGNORED:
            review.updated_at = now
            changed[(shop.pk, event.review_id)] = review
        ticket = ticket or sync.open_ticket(review) or sync.latest_ticket(review)
        row = InboundEvent(
            shop=shop,
            idempotency_key=event.idempotency_key,
            event_id=event.event_id or "",
            event_type=event.type,
            platform_review_id=event.review_id,
            occurred_at=event.occurred_at,
            payload=event.payload,
            status=status,
            review=review,
            source=source,
            api_key=api_key,
            connector=connector,
            received_at=now,
            ingest_batch=batch,
        )
        inbound.append((index, row, ticket))
        results[index] = EventResult(index, event.event_id, event.review_id, status)

    # New reviews in key order, so two batches creating the same ones cannot deadlock.
    new_reviews = [reviews[key] for key in sorted(touched) if reviews[key].pk is None]
    if new_reviews:
        Review.objects.bulk_create(new_reviews)
    new_ids = {id(review) for review in new_reviews}
    existing_changed = [review for review in changed.values() if id(review) not in new_ids]
    if existing_changed:
        bulk_update_rows(existing_changed, _REVIEW_FIELDS)
    assign_ids = sync.flush()
    for index, row, ticket in inbound:
        row.ticket_id = results[index].ticket_id = ticket.pk if ticket is not None else None
    InboundEvent.objects.bulk_create([row for _index, row, _ticket in inbound])
    return assign_ids, set(sync.freed_shop_ids)


def _lock_reviews(shop_review_ids):
    """{(shop id, review id): Review}: existing reviews row-locked (in id order, so concurrent
    batches queue rather than deadlock), missing ones as new unsaved pending reviews."""
    shops = {shop.pk: shop for shop, _rid in shop_review_ids}
    by_shop = {}
    for shop, review_id in shop_review_ids:
        by_shop.setdefault(shop.pk, set()).add(review_id)
    condition = Q()
    for shop_id, review_ids in by_shop.items():
        condition |= Q(shop_id=shop_id, review_id__in=review_ids)
    found = {(r.shop_id, r.review_id): r for r in Review.objects.select_for_update().filter(condition).order_by("id")}
    for shop, review_id in shop_review_ids:
        if (shop.pk, review_id) not in found:
            found[(shop.pk, review_id)] = Review(
                shop=shop, platform=shop.platform, review_id=review_id, state=ReviewState.PENDING
            )
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
        # A late original fills what the newer events left blank, but never rolls state back.
        filled = _set_descriptive(review, event, buyer, only_blanks=True)
        if not review.content and event.content:
            review.content, filled = event.content, True
        if not review.image_count and event.image_count:
            review.image_count, filled = event.image_count, True
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
    # A follow-up older than the review's newest state came before it on the platform (e.g. before
    # the revision to positive that closed the ticket): it is recorded but cannot reopen, so the
    # arrival order never decides how the ticket ends.
    newer_than_state = review.state_occurred_at is None or event.occurred_at > review.state_occurred_at
    if newer_than_state and sync.open_ticket(review) is None and followup_reopens(review, followup["negative"]):
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

"""Writes to reviews: ingestion of review events from every source (push, pull, import, demo)."""

import json
import logging
import uuid
from dataclasses import dataclass

import orjson
from django.db import IntegrityError, InterfaceError, OperationalError, connections, router, transaction
from django.db.models import Q
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.translation import gettext_noop

from contacts.services import buyers_touch, buyers_upsert
from reviewdesk.db import (
    COPY_MIN_ROWS,
    bulk_update_rows,
    copy_rows,
    copy_rows_returning_ids,
    insert_rows,
    select_by_pairs,
)
from tickets.choices import Outcome, TimelineKind
from tickets.phrases import Phrase, label
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

    On PostgreSQL a small request of `review.created` events first goes the optimistic way: it
    assumes every review and key is new, skips the lock and the key look-up, and inserts the
    reviews with ON CONFLICT DO NOTHING. If any review already exists (or a key is stored, which
    the event log's unique constraint refuses), that attempt is rolled back and the request goes
    the locking way above, so the outcome is the same; a single new review costs two statements
    fewer.
    """
    if not items:
        return []
    fast = connections[router.db_for_write(Review)].vendor == "postgresql"
    optimistic = fast and len(items) < COPY_MIN_ROWS and all(e.type == EventType.CREATED for _i, e, _s in items)
    attempt = 0
    while True:
        try:
            with transaction.atomic():
                results, assign_ids, freed_shop_ids = _ingest(
                    items, source, actor_label, api_key, connector, fast=fast, optimistic=optimistic
                )
                after_commit_assign(assign_ids, freed_shop_ids)
            return results
        except _NotAllNew:
            optimistic = False  # not a failed attempt: an existing review takes the locking way
            continue
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise
            logger.info("review ingest retried: a concurrent batch stored the same review or event first")
        except (OperationalError, InterfaceError) as exc:
            code = getattr(exc.__cause__, "pgcode", None)
            if attempt == _ATTEMPTS - 1:
                raise
            if code in _DEADLOCK_CODES:
                logger.warning("review ingest retried after %s (attempt %s)", code, attempt + 1)
            elif _reconnected():
                logger.warning("review ingest retried on a new database connection: %s", exc)
            else:
                raise
        optimistic = False
        attempt += 1


class _NotAllNew(Exception):
    """The optimistic attempt met a review that already exists."""


def _reconnected():
    """After a failed transaction: when the connection itself is broken (a persistent connection
    the server dropped; settings do not probe it before each request), close it so the next
    attempt opens a new one. False when the connection is fine (the error was something else)."""
    connection = connections[router.db_for_write(Review)]
    if connection.in_atomic_block or (connection.connection is not None and connection.is_usable()):
        return False
    connection.close()
    return True


def _ingest(items, source, actor_label, api_key, connector, *, fast, optimistic):
    now = timezone.now()
    by_index = {index: (event, shop) for index, event, shop in items}
    shop_review_ids = {(shop, event.review_id) for _index, event, shop in items}

    # Idempotency: a key stored by an earlier batch, or seen earlier in this one, is a duplicate.
    first_by_key, repeats = {}, []
    for index, event, shop in items:
        key = (shop.pk, event.idempotency_key)
        if key in first_by_key:
            repeats.append((index, first_by_key[key]))
        else:
            first_by_key[key] = index
    if optimistic:
        # Assumed new; _insert_reviews_sql and the event log's unique constraint check it.
        reviews = {(shop.pk, rid): _new_review(shop, rid, with_shop=True) for shop, rid in shop_review_ids}
        stored = {}
    else:
        # The reviews are row-locked before the keys are looked up, so a replay waits for the first.
        reviews = (_lock_reviews_sql if fast else _lock_reviews)(shop_review_ids)
        stored = (_stored_keys_sql if fast else _stored_keys)(first_by_key)
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
            fast=fast,
            optimistic=optimistic,
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


def _apply_fresh(fresh, by_index, reviews, results, now, *, fast, optimistic, source, actor_label, api_key, connector):
    buyers = _upsert_buyers([by_index[index] for index in fresh])
    touched = {(by_index[i][1].pk, by_index[i][0].review_id) for i in fresh}
    sync = ReviewTicketSync([reviews[key] for key in sorted(touched)], actor_label=actor_label)

    changed, inbound = {}, []
    for index in fresh:
        event, shop = by_index[index]
        review = reviews[(shop.pk, event.review_id)]
        buyer_id = buyers.get((shop.platform, event.buyer["id"])) if event.buyer else None
        status, ticket = _APPLY[event.type](review, event, shop, buyer_id, sync)
        if status != EventStatus.IGNORED:
            review.updated_at = now
            changed[(shop.pk, event.review_id)] = review
        ticket = ticket or sync.open_ticket(review) or sync.latest_ticket(review)
        inbound.append((index, event, shop, status, review, ticket))
        results[index] = EventResult(index, event.event_id, event.review_id, status)

    # New reviews in key order, so two batches creating the same ones cannot deadlock.
    new_reviews = [reviews[key] for key in sorted(touched) if reviews[key].pk is None]
    if new_reviews:
        if fast:
            _insert_reviews_sql(new_reviews, now, optimistic=optimistic)
        else:
            Review.objects.bulk_create(new_reviews)
    new_ids = {id(review) for review in new_reviews}
    existing_changed = [review for review in changed.values() if id(review) not in new_ids]
    if existing_changed:
        bulk_update_rows(existing_changed, _REVIEW_FIELDS)
    assign_ids = sync.flush()
    for index, *_rest, ticket in inbound:
        results[index].ticket_id = ticket.pk if ticket is not None else None
    log = _log_events_sql if fast else _log_events
    log(inbound, results, now, source=source, api_key=api_key, connector=connector)
    # Buyers' counters and risk follow their reviews: the upsert above marked the buyers of
    # created events as written; mark those of other changes too, and the sweep recounts them.
    touched_buyers = {review.buyer_id for review in changed.values() if review.buyer_id is not None}
    # (The PostgreSQL upsert stamps every buyer it saw; the portable one only those it changed.)
    buyers_touch(touched_buyers - set(buyers.values()) if fast else touched_buyers, now)
    return assign_ids, set(sync.freed_shop_ids)


def _log_events(inbound, results, now, *, source, api_key, connector):
    """The event log through the ORM (SQLite and other databases)."""
    batch = uuid.uuid4()
    InboundEvent.objects.bulk_create(
        [
            InboundEvent(
                shop=shop,
                idempotency_key=event.idempotency_key,
                event_id=event.event_id or "",
                event_type=event.type,
                platform_review_id=event.review_id,
                occurred_at=event.occurred_at,
                payload=event.payload,
                status=status,
                review=review,
                ticket_id=results[index].ticket_id,
                source=source,
                api_key=api_key,
                connector=connector,
                received_at=now,
                ingest_batch=batch,
            )
            for index, event, shop, status, review, _ticket in inbound
        ]
    )


# PostgreSQL fast path ---------------------------------------------------------------------------
# The hot tables are read and written with plain SQL built from the validated events: no query
# compilation, no per-field preparation, no model instances for the event log. Values are passed
# as parameters (or COPY data), never interpolated; only constant identifiers are in the SQL text.

# A column with only a database default is left out of the raw INSERT/COPY, so PostgreSQL fills it.
_REVIEW_COLUMNS = [
    f for f in Review._meta.concrete_fields if not f.primary_key and not (f.has_db_default() and not f.has_default())
]
_REVIEW_SELECT = [f.column for f in Review._meta.concrete_fields]
_REVIEW_ATTNAMES = [f.attname for f in Review._meta.concrete_fields]
_EVENT_COLUMNS = (
    "shop_id",
    "idempotency_key",
    "event_id",
    "event_type",
    "platform_review_id",
    "occurred_at",
    "payload",
    "status",
    "review_id",
    "ticket_id",
    "source",
    "api_key_id",
    "connector_id",
    "received_at",
    "ingest_batch",
)


_REVIEW_DO_NOTHING = "ON CONFLICT (shop_id, review_id) DO NOTHING"
# Defaults shared by every new review; a field whose default is not an immutable constant (a
# callable such as dict or list) gets its own value per review. (The primary key is None.)
_REVIEW_BLANK = {f.attname: f.get_default() for f in _REVIEW_COLUMNS if not f.has_default() or not callable(f.default)}
_REVIEW_PER_ROW_DEFAULTS = [f for f in _REVIEW_COLUMNS if f.has_default() and callable(f.default)]


def _new_review(shop, review_id, *, with_shop=False):
    """A new pending review, as Review(shop=…, platform=…, review_id=…, state=PENDING) builds it
    but without Model.__init__'s per-field work (a fifth of the Python time of a batch's apply)."""
    review = Review.__new__(Review)
    review.id = None
    review.__dict__.update(_REVIEW_BLANK)
    for field in _REVIEW_PER_ROW_DEFAULTS:
        review.__dict__[field.attname] = field.get_default()
    review._state = ModelState()
    review.shop_id, review.platform, review.review_id, review.state = (
        shop.pk,
        shop.platform,
        review_id,
        ReviewState.PENDING,
    )
    if with_shop:
        review.shop = shop
    return review


def _lock_reviews_sql(shop_review_ids):
    """As _lock_reviews, in plain SQL: one `SELECT id … FOR UPDATE` (in id order), and only when
    some of the reviews exist a second read of their rows. Most pushes are about new reviews, and
    a lock query that returns no columns it does not need is half the work for PostgreSQL."""
    ids = [
        row[0]
        for row in select_by_pairs(
            Review,
            ("id",),
            [(shop.pk, rid) for shop, rid in shop_review_ids],
            first="shop_id",
            second="review_id",
            order_by="id",
            for_update=True,
        )
    ]
    shops = {shop.pk: shop for shop, _rid in shop_review_ids}
    found = {}
    if ids:
        alias = router.db_for_write(Review)
        for row in select_by_pairs(Review, _REVIEW_SELECT, [(None, pk) for pk in ids], first=None, second="id"):
            review = Review.from_db(alias, _REVIEW_ATTNAMES, row)
            found[(review.shop_id, review.review_id)] = review
    for shop, review_id in shop_review_ids:
        if (shop.pk, review_id) not in found:
            found[(shop.pk, review_id)] = _new_review(shop, review_id)
    for review in found.values():
        review.shop = shops[review.shop_id]
    return found


def _stored_keys(first_by_key):
    return {
        (shop_id, key): ticket_id
        for shop_id, key, ticket_id in InboundEvent.objects.filter(
            shop_id__in={k[0] for k in first_by_key}, idempotency_key__in={k[1] for k in first_by_key}
        ).values_list("shop_id", "idempotency_key", "ticket_id")
    }


def _stored_keys_sql(first_by_key):
    """{(shop id, idempotency key): ticket id} of the keys already in the event log."""
    rows = select_by_pairs(
        InboundEvent,
        ("shop_id", "idempotency_key", "ticket_id"),
        first_by_key,
        first="shop_id",
        second="idempotency_key",
    )
    return {(shop_id, key): ticket_id for shop_id, key, ticket_id in rows}


def _insert_reviews_sql(new_reviews, now, *, optimistic=False):
    """The new reviews with COPY (one INSERT … RETURNING id for a few); the ids bind their
    tickets and events. Optimistic: ON CONFLICT DO NOTHING, and _NotAllNew when a review exists."""
    for review in new_reviews:
        review.created_at = review.created_at or now
        review.updated_at = now
    attnames = [f.attname for f in _REVIEW_COLUMNS]
    columns = [f.column for f in _REVIEW_COLUMNS]
    rows = [tuple(map(review.__dict__.__getitem__, attnames)) for review in new_reviews]
    if optimistic:
        ids = insert_rows(Review, columns, rows, returning="id", on_conflict=_REVIEW_DO_NOTHING)
        if len(ids) != len(rows):
            raise _NotAllNew
    else:
        ids = copy_rows_returning_ids(Review, columns, rows)
    for review, pk in zip(new_reviews, ids, strict=True):
        review.pk = pk
        review._state.adding = False


def _payload_json(payload):
    try:
        return orjson.dumps(payload).decode()
    except TypeError:  # e.g. an integer beyond 64 bits in a field the contract does not check
        return json.dumps(payload, ensure_ascii=False)


def _log_events_sql(inbound, results, now, *, source, api_key, connector):
    """The event log with COPY (one INSERT for a few events): it needs no ids back."""
    batch = uuid.uuid4()
    api_key_id = api_key.pk if api_key is not None else None
    connector_id = connector.pk if connector is not None else None
    rows = [
        (
            shop.pk,
            event.idempotency_key,
            event.event_id or "",
            event.type,
            event.review_id,
            event.occurred_at,
            _payload_json(event.payload),
            status,
            review.pk,
            results[index].ticket_id,
            source,
            api_key_id,
            connector_id,
            now,
            batch,
        )
        for index, event, shop, status, review, _ticket in inbound
    ]
    copy_rows(InboundEvent, _EVENT_COLUMNS, rows)


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


def _set_descriptive(review, event, buyer_id, *, only_blanks):
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
    if buyer_id is not None and review.buyer_id != buyer_id and not (only_blanks and review.buyer_id):
        review.buyer_id = buyer_id
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
    message = Phrase(
        gettext_noop("The buyer revised the review: %(old)s → %(new)s."),
        old=label("tier", old_tier) if old_tier else "—",
        new=label("tier", review.tier),
    )
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
            return status, sync.reopen_latest(
                review, reason=Phrase(gettext_noop("Reopened: the buyer added a negative follow-up."))
            )
    return status, sync.note(
        review, TimelineKind.FOLLOWUP_ADDED, Phrase(gettext_noop("The buyer added a follow-up review.")), data
    )


def _apply_replied(review, event, shop, buyer, sync):
    if review.replied_at is not None and review.replied_at >= event.occurred_at:
        return EventStatus.IGNORED, None
    status = EventStatus.CREATED if _is_blank(review) else EventStatus.UPDATED
    _set_descriptive(review, event, buyer, only_blanks=True)
    review.reply_content, review.replied_at = event.reply["content"], event.occurred_at
    message = Phrase(gettext_noop("Seller explanation posted on the platform."))
    return status, sync.note(review, TimelineKind.SELLER_REPLIED, message, {"content": event.reply["content"]})


_APPLY = {
    EventType.CREATED: _apply_created,
    EventType.REVISED: _apply_revised,
    EventType.DELETED: _apply_deleted,
    EventType.FOLLOWUP: _apply_followup,
    EventType.REPLIED: _apply_replied,
}

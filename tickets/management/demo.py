"""Demo data for `seed_demo`: the shops and team it sets up, and deterministic review stories."""

# A story is one review's API.md events in time order (created, then perhaps a seller explanation,
# a revision to positive, a deletion or a follow-up). Stories are pure functions of (seed, index),
# so a second run produces the same event ids and everything comes back as a duplicate. Writing is
# left to the caller: today the ingest service, later a bulk loader fed by the same generator.

import random
import string
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management.base import CommandError
from django.db.models import Count, Q

from reviews.models import Shop
from tickets.choices import OPEN_STATUSES, Role
from tickets.demo_data import (
    AGENT_PERMISSIONS,
    CAUSES,
    COURIERS,
    DEFAULT_POSITIVE_TEXTS,
    FOLLOWUP_NEGATIVE,
    FOLLOWUP_POSITIVE,
    FOLLOWUP_SOLVED,
    JD_COURIERS,
    NEGATIVE_TEXTS,
    NICK_HEADS,
    NICK_TAILS,
    PASSWORD,
    POSITIVE_ENDINGS,
    POSITIVE_FRAGMENTS,
    POSITIVE_REPLIES,
    REGIONS,
    REVISED_TEXTS,
    SELLER_REPLIES,
    SHOPS,
    SUPERVISOR_PERMISSIONS,
    TEAM,
)
from tickets.models import AgentProfile, Ticket

CHINA = timezone(timedelta(hours=8))  # platform times are China time, which has no DST
PERIOD_DAYS = 180
UNHAPPY_EVERY = 10  # one review in ten is neutral or negative
REVISION_WINDOW = timedelta(days=30)  # Taobao/Tmall: revise or delete once, within 30 days
# Reviews per hour of the day: buyers review in the evening, after work.
HOUR_WEIGHTS = (3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 6, 6, 6, 6, 6, 6, 7, 9, 10, 9, 6)
_BASE62 = string.ascii_letters + string.digits
_PHONE_PREFIXES = ("135", "136", "137", "138", "139", "150", "151", "158", "159", "177", "186", "187", "188", "199")
_CAUSE_NAMES = tuple(CAUSES)
_CAUSE_WEIGHTS = tuple(cause["weight"] for cause in CAUSES.values())


# Setup -------------------------------------------------------------------------------------------


def demo_shops_ensure():
    """Create the demo shops that are missing; returns {external id: Shop}."""
    shops = {}
    for spec in SHOPS:
        shop, _created = Shop.objects.get_or_create(
            external_id=spec.external_id, defaults={"platform": spec.platform, "name": spec.name}
        )
        if shop.platform != spec.platform:
            raise CommandError(f"Shop {shop.external_id} exists on {shop.platform}, not {spec.platform}.")
        shops[shop.external_id] = shop
    return shops


def demo_team_ensure(shops):
    """Create the demo users, profiles and groups; returns [(username, name, role, shops, skills, created)]."""
    # Existing users keep their password and profile settings; only shops and groups are added.
    agents, supervisors = (
        _group("agents", AGENT_PERMISSIONS),
        _group("supervisors", AGENT_PERMISSIONS + SUPERVISOR_PERMISSIONS),
    )
    user_model = get_user_model()
    password_hash = make_password(PASSWORD)  # hashed once: full-strength hashing costs ~0.5 s each
    team = []
    for username, display_name, role, shop_ids, skills in TEAM:
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={"first_name": display_name, "password": password_hash, "is_staff": True},
        )
        profile, _created = AgentProfile.objects.get_or_create(
            user=user,
            defaults={"role": role, "skills": list(skills), "on_duty": role == Role.AGENT},
        )
        profile.shops.add(*(shops[external_id] for external_id in shop_ids))
        user.groups.add(supervisors if role == Role.SUPERVISOR else agents)
        team.append((username, display_name, role, shop_ids, skills, created))
    return team


def _group(name, permissions):
    group, _created = Group.objects.get_or_create(name=name)
    condition = Q()
    for app_label, codename in permissions:
        condition |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(condition))
    if len(found) != len(permissions):
        have = {(p.content_type.app_label, p.codename) for p in found}
        missing = ", ".join(f"{a}.{c}" for a, c in permissions if (a, c) not in have)
        raise CommandError(f"Permissions missing ({missing}); run migrate first.")
    group.permissions.add(*found)
    return group


def demo_ticket_counts(shops):
    """{"total", "open", "resolved", "verified"} over the demo shops' tickets."""
    return Ticket.objects.filter(shop__in=shops).aggregate(
        total=Count("id"),
        open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
        resolved=Count("id", filter=Q(status="resolved")),
        verified=Count("id", filter=Q(outcome_verified=True)),
    )


# Stories -----------------------------------------------------------------------------------------


def demo_period_end(until):
    """The first instant after the demo period, which ends with the day `until`."""
    return datetime.combine(until + timedelta(days=1), time(0), tzinfo=CHINA)


def review_stories(count, *, seed, until):
    """Yield the events of `count` demo reviews, one list per review, each in time order."""
    # Exactly one review in each run of ten is neutral or negative (its place in the ten is random),
    # so the ticket share is 10 % whatever `count` is. Events that would fall after `until` are left
    # out: recent tickets are still open, as in a real desk.
    end = demo_period_end(until)
    buyers = _BuyerPool(seed, pool_size=max(20, count * 3 // 5))
    for index in range(count):
        slot = random.Random(f"{seed}:ten:{index // UNHAPPY_EVERY}").randrange(UNHAPPY_EVERY)
        rng = random.Random(f"{seed}:review:{index}")
        yield _story(rng, index, index % UNHAPPY_EVERY == slot, end, buyers)


class Story(list):
    """One review's events in time order; `cause` is the generator's truth for an unhappy review
    (what the demo agents find), None for a positive one."""

    cause = None


class _BuyerPool:
    """Buyers reviews are drawn from, so some buy (and review) more than once."""

    def __init__(self, seed, *, pool_size):
        self.seed, self.pool_size = seed, pool_size

    def pick(self, rng, platform):
        # Rebuilt from its own seed each time rather than cached: memory stays flat at any --reviews.
        number = rng.randrange(self.pool_size)
        return _buyer(random.Random(f"{self.seed}:buyer:{platform}:{number}"), platform)


def _buyer(rng, platform):
    prefix = "" if platform == "jd" else "AA"  # Alibaba's buyer_open_uid starts with AA
    buyer = {
        "id": prefix + "".join(rng.choices(_BASE62, k=24 - len(prefix))),
        "nick": f"{rng.choice(NICK_HEADS)}**{rng.choice(NICK_TAILS)}",
        "region": rng.choice(REGIONS),
    }
    if rng.random() < 0.7:
        buyer["phone"] = rng.choice(_PHONE_PREFIXES) + "".join(rng.choices(string.digits, k=8))
    return buyer


def _story(rng, index, unhappy, end, buyers):
    shop = rng.choices(SHOPS, weights=[s.weight for s in SHOPS])[0]
    item = rng.choice(shop.items)
    colour, size = rng.choice(item.colours), rng.choice(item.sizes)
    other_colours = [c for c in item.colours if c != colour] or [("", "别的颜色")]
    created_at = _moment(rng, end)
    jd = shop.platform == "jd"
    context = {
        "title": item.title,
        "colour": colour[1],
        "other_colour": rng.choice(other_colours)[1],
        "size": size[1],
        "courier": rng.choice(JD_COURIERS if jd else COURIERS),
        "days": rng.randint(6, 12) if unhappy else rng.randint(1, 3),
    }
    if jd:
        review_id = str(20_100_000_000 + index * 100 + rng.randrange(100))
        order_id = str(rng.randrange(280_000_000_000, 320_000_000_000))
    else:
        review_id = str(1_266_000_000_000 + index * 1000 + rng.randrange(1000))
        order_id = str(rng.randrange(1_800_000_000_000_000_000, 4_200_000_000_000_000_000))
    base = {"platform": shop.platform, "shop": shop.external_id, "review_id": review_id}

    if unhappy:
        cause = rng.choices(_CAUSE_NAMES, weights=_CAUSE_WEIGHTS)[0]
        negative_share = 0.75 if CAUSES[cause]["group"] == "abuse" else 0.45
        tier = "negative" if rng.random() < negative_share else "neutral"
        content = _negative_text(rng, cause, tier, shop, item).format_map(context)
        image_count = rng.randint(1, 6) if rng.random() < 0.45 else 0
    else:
        cause, tier = None, "positive"
        content = _positive_text(rng, shop, item, context)
        image_count = rng.randint(1, 9) if rng.random() < 0.25 else 0

    created = {
        **base,
        "event_id": f"demo-{review_id}-created",
        "type": "review.created",
        "occurred_at": _iso(created_at),
        "order_id": order_id,
        "buyer": buyers.pick(rng, "taobao" if shop.platform == "tmall" else shop.platform),
        "item": {
            "id": item.item_id,
            "sku": f"{item.sku_prefix}-{colour[0]}-{size[0]}",
            "title": item.title,
            "price": str(item.price + Decimal(size[2])),
            "sku_text": f"{item.colour_label}:{colour[1]};{item.size_label}:{size[1]}",
        },
        "rating": _rating(rng, shop.platform, tier, cause),
        "image_count": image_count,
    }
    if content is not None:
        created["content"] = content
    later = _unhappy_aftermath(rng, shop, cause, created_at, context) if unhappy else _happy_aftermath(rng, created_at)
    events = Story([created])
    events.cause = cause
    for kind, moment, fields in sorted(later, key=lambda entry: entry[1]):
        if moment < end:
            events.append(
                {**base, "event_id": f"demo-{review_id}-{kind}", "type": f"review.{kind}", "occurred_at": _iso(moment)}
                | fields
            )
    return events


def _unhappy_aftermath(rng, shop, cause, created_at, context):
    """(kind, when, fields) of what happens after a neutral/negative review."""
    spec, later = CAUSES[cause], []
    group = "misclick" if cause == "misclick" else spec["group"]
    settled = None
    if shop.platform != "jd":  # JD reviews cannot be revised; Taobao/Tmall once, within 30 days
        roll = rng.random()
        if cause == "misclick":
            delay = timedelta(hours=rng.uniform(0.5, 24))
        else:
            delay = timedelta(hours=2) + timedelta(days=min(27.0, rng.expovariate(1 / 2.5)))
        if roll < spec["revise"]:
            settled = created_at + delay
            rating = {"tier": "positive"} if shop.platform == "taobao" else {"stars": 5}
            text = rng.choice(REVISED_TEXTS.get(group, REVISED_TEXTS["other"]))
            later.append(("revised", settled, {"rating": rating, "content": text}))
            if rng.random() < 0.04:  # a 追评 can still turn sour after the revision: the ticket reopens
                when = settled + timedelta(days=rng.uniform(3, 20))
                later.append(("followup", when, {"followup": _followup(rng, FOLLOWUP_NEGATIVE, negative=True)}))
        elif roll < spec["revise"] + spec["delete"]:
            settled = created_at + delay
            later.append(("deleted", settled, {}))
    followup_at = None
    if settled is None:
        if shop.platform == "jd" and spec["group"] != "abuse" and rng.random() < 0.35:
            followup_at = created_at + timedelta(days=rng.uniform(2, 15))
            later.append(("followup", followup_at, {"followup": _followup(rng, FOLLOWUP_SOLVED, negative=False)}))
        elif rng.random() < 0.12:
            followup_at = created_at + timedelta(days=rng.uniform(3, 20))
            later.append(("followup", followup_at, {"followup": _followup(rng, FOLLOWUP_NEGATIVE, negative=True)}))
    if rng.random() < (0.8 if spec["group"] == "abuse" else 0.45):
        replied_at = created_at + timedelta(hours=rng.uniform(1, 48))
        # An explanation is possible within 30 days and not after a follow-up.
        if replied_at < created_at + REVISION_WINDOW and (followup_at is None or replied_at < followup_at):
            reply_group = spec["group"] if spec["group"] in SELLER_REPLIES else "other"
            text = rng.choice(SELLER_REPLIES[reply_group]).format_map(context)
            later.append(("replied", replied_at, {"reply": {"content": text}}))
    return later


def _happy_aftermath(rng, created_at):
    later = []
    if rng.random() < 0.05:
        when = created_at + timedelta(days=rng.uniform(7, 40))
        later.append(("followup", when, {"followup": _followup(rng, FOLLOWUP_POSITIVE, negative=False)}))
    if rng.random() < 0.02:
        when = created_at + timedelta(hours=rng.uniform(2, 72))
        later.append(("replied", when, {"reply": {"content": rng.choice(POSITIVE_REPLIES)}}))
    return later


def _followup(rng, texts, *, negative):
    return {"content": rng.choice(texts), "image_count": rng.choice((0, 0, 0, 1, 2)), "negative": negative}


def _moment(rng, end):
    day = end.date() - timedelta(days=rng.randrange(PERIOD_DAYS) + 1)
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    return datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=CHINA)


def _iso(moment):
    return moment.isoformat(timespec="seconds")


def _rating(rng, platform, tier, cause):
    """Taobao sends a tier and DSR, Tmall stars and DSR, JD stars only; all consistent with the tier."""
    if tier == "positive":
        stars = 5 if rng.random() < 0.85 else 4
    elif tier == "neutral":
        stars = 3 if rng.random() < 0.6 else 2
    else:
        stars = 1
    rating = {"tier": tier} if platform == "taobao" else {"stars": stars}
    if platform != "jd":
        rating["dsr"] = _dsr(rng, tier, cause)
    return rating


def _dsr(rng, tier, cause):
    names = ("description", "service", "logistics")
    if tier == "positive" or cause == "misclick":  # a mis-click leaves the DSR the buyer meant
        return {name: 5 if rng.random() < 0.88 else 4 for name in names}
    dragged = CAUSES[cause]["dsr"]
    if dragged == "all":
        return dict.fromkeys(names, 1)
    low, rest = ((2, 3), (3, 4, 4, 5)) if tier == "neutral" else ((1, 2), (2, 3, 3, 4))
    return {name: rng.choice(low) if name == dragged else rng.choice(rest) for name in names}


def _negative_text(rng, cause, tier, shop, item):
    pool = [
        text
        for key in (cause, (cause, shop.category), (cause, item.sku_prefix))
        for text in NEGATIVE_TEXTS.get(key, {}).get(tier, ())
    ]
    return rng.choice(pool)


def _positive_text(rng, shop, item, context):
    roll = rng.random()
    if roll < 0.06:
        return None
    if roll < 0.12:
        return "此用户未填写评价内容" if shop.platform == "jd" else rng.choice(DEFAULT_POSITIVE_TEXTS)
    pool = [fragment for key in ("any", shop.category, item.sku_prefix) for fragment in POSITIVE_FRAGMENTS.get(key, ())]
    fragments = rng.sample(pool, k=rng.choice((1, 2, 2, 3)))
    return ("，".join(fragments) + rng.choice(POSITIVE_ENDINGS)).format_map(context)

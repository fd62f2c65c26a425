"""Operations feedback: SKUs whose neutral/negative rate jumps above their baseline, and the
weekly digest e-mail to supervisors (issue 6). Figures come from SQL aggregates (tickets.stats
definitions where they overlap)."""

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db.models import Count, Max, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reviews.choices import ReviewState, Tier
from reviews.models import Review

from . import stats
from .choices import Role
from .models import AgentProfile, Ticket

logger = logging.getLogger(__name__)

DEFAULT_ALERT_FACTOR = 1.5
# Below this many neutral/negative reviews in the recent window a jump is noise, not a signal.
MIN_RECENT_UNHAPPY = 3
RECENT_DAYS, BASELINE_DAYS = 7, 30


def alert_factor():
    """How far above its 30-day baseline a SKU's 7-day neutral/negative rate must run to be
    flagged: settings.SKU_ALERT_FACTOR (default 1.5)."""
    return float(getattr(settings, "SKU_ALERT_FACTOR", DEFAULT_ALERT_FACTOR))


def sku_alerts(shop_ids, *, factor=None, now=None, limit=50):
    """[{"sku", "title", "recent_reviews", "recent_unhappy", "recent_rate", "baseline_rate",
    "ratio", "causes": [(label, n)]}] for SKUs over the factor, worst first. Two queries."""
    factor = alert_factor() if factor is None else factor
    now = now or timezone.now()
    recent_since = now - dt.timedelta(days=RECENT_DAYS)
    unhappy = Q(tier__in=[Tier.NEUTRAL, Tier.NEGATIVE])
    recent = Q(rated_at__gte=recent_since)
    rows = (
        Review.objects.filter(
            shop_id__in=shop_ids, rated_at__gte=now - dt.timedelta(days=BASELINE_DAYS), rated_at__lte=now
        )
        .exclude(item_sku="")
        .exclude(state=ReviewState.DELETED)
        .values("item_sku")
        .annotate(
            baseline_reviews=Count("id"),
            baseline_unhappy=Count("id", filter=unhappy),
            recent_reviews=Count("id", filter=recent),
            recent_unhappy=Count("id", filter=recent & unhappy),
            title=Max("item_title"),
        )
        .filter(recent_unhappy__gte=MIN_RECENT_UNHAPPY)
        .order_by()
    )
    flagged = []
    for row in rows:
        recent_rate = row["recent_unhappy"] / row["recent_reviews"]
        baseline_rate = row["baseline_unhappy"] / row["baseline_reviews"]
        if recent_rate > factor * baseline_rate:
            flagged.append(
                {
                    "sku": row["item_sku"],
                    "title": row["title"],
                    "recent_reviews": row["recent_reviews"],
                    "recent_unhappy": row["recent_unhappy"],
                    "recent_rate": round(recent_rate, 4),
                    "baseline_rate": round(baseline_rate, 4),
                    "ratio": round(recent_rate / baseline_rate, 2) if baseline_rate else None,
                }
            )
    flagged.sort(key=lambda r: (-(r["ratio"] or 0), -r["recent_unhappy"]))
    flagged = flagged[:limit]
    causes = {}
    for row in (
        Ticket.objects.filter(
            shop_id__in=shop_ids, created_at__gte=recent_since, item_sku__in=[r["sku"] for r in flagged]
        )
        .values("item_sku", "cause")
        .annotate(n=Count("id"))
        .order_by()
    ):
        causes.setdefault(row["item_sku"], []).append((row["cause"], row["n"]))
    query = stats.StatsQuery(frozenset(shop_ids), now.date(), now.date(), now=now)
    labels = stats._labels("cause", list({c for pairs in causes.values() for c, _n in pairs}), query)
    for row in flagged:
        pairs = sorted(causes.get(row["sku"], []), key=lambda p: -p[1])[:3]
        row["causes"] = [(labels[c][1], n) for c, n in pairs]
    return flagged


def weekly_digest_send(now=None):
    """E-mail each supervisor (with an address) last week's figures of the shops they supervise and
    the SKUs to look at. Returns how many messages went out."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    date_to = today - dt.timedelta(days=1)
    date_from = date_to - dt.timedelta(days=6)
    supervisors = (
        AgentProfile.objects.filter(role=Role.SUPERVISOR, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .prefetch_related("shops")
    )
    messages = []
    for profile in supervisors:
        shop_ids = frozenset(shop.pk for shop in profile.shops.all())
        if not shop_ids:
            continue
        query = stats.StatsQuery(shop_ids, date_from, date_to, now=now)
        with translation.override(settings.LANGUAGE_CODE):
            context = {
                "user": profile.user,
                "query": query,
                "summary": stats.summary(query),
                "alerts": sku_alerts(shop_ids, now=now, limit=10),
                "shops": sorted(shop.name for shop in profile.shops.all()),
            }
            subject = _("ReviewDesk weekly digest, %(start)s to %(end)s") % {"start": date_from, "end": date_to}
            body = render_to_string("dashboard/weekly_digest.txt", context)
        messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, [profile.user.email]))
    if messages:
        send_mass_mail(messages, fail_silently=False)
    logger.info("weekly digest sent to %s supervisor(s)", len(messages))
    return len(messages)

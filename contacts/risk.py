"""Abuse risk of buyers (professional bad reviewers, extortion): the signals, the score and the
readable reasons. Assessed in batches with a fixed number of queries and stored on the buyer.

Score 0–100 from these signals (each counted once):

| signal | points |
|---|---|
| a neutral/negative share of ≥ 80 % (≥ 50 %) among at least 3 reviews | 40 (25) |
| neutral/negative reviews in ≥ 3 (2) different shops within 30 days | 40 (15) |
| an earlier ticket closed as abuse reported, or with cause extortion / professional bad reviewer | 60 |
| a note tagged extortion or professional bad reviewer (two or more notes) | 35 (60) |
| blacklisted by a supervisor | 100 |

Level: high from 60, medium from 30, else low. Whitelisted buyers are low whatever else.
The minimum review count keeps a new buyer's single bad review, or one bad review among many
good ones, from looking like a pattern.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, DateTimeField, ExpressionWrapper, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from reviewdesk.db import bulk_update_rows
from reviews.choices import Tier
from reviews.models import Review
from tickets.choices import Outcome
from tickets.models import Ticket

from .choices import ABUSE_CAUSE_CODES, ABUSE_TAG_CODES, ListMark, RiskLevel
from .models import Buyer, BuyerNote

MIN_REVIEWS_FOR_SHARE = 3
SPREE_WINDOW = dt.timedelta(days=30)
HIGH_FROM, MEDIUM_FROM = 60, 30
_BAD_TIERS = (Tier.NEUTRAL, Tier.NEGATIVE)

# Reason texts, translated when shown (the stored reasons are codes with parameters).
_REASON_TEXTS = {
    "bad_share": gettext_noop("%(bad)s of %(total)s reviews are neutral or negative (%(percent)s %%)."),
    "multi_shop_spree": gettext_noop("Neutral or negative reviews in %(shops)s different shops within 30 days."),
    "abuse_tickets": gettext_noop(
        "%(count)s earlier ticket(s) closed as abuse or caused by extortion or professional bad reviewing."
    ),
    "abuse_notes": gettext_noop("%(count)s note(s) tag this buyer as an extortionist or professional bad reviewer."),
    "blacklisted": gettext_noop("Blacklisted by a supervisor: %(reason)s"),
    "whitelisted": gettext_noop("Whitelisted by a supervisor (low risk whatever else): %(reason)s"),
}


def reason_text(reason):
    """One stored reason {code, params} as a sentence in the active language."""
    template = _REASON_TEXTS.get(reason.get("code"))
    if template is None:
        return str(reason.get("code", ""))
    return _(template) % reason.get("params", {})


def reason_texts(reasons):
    return [reason_text(r) for r in reasons]


@dataclass
class RiskAssessment:
    """A buyer's abuse risk: score 0–100, level and the reasons (codes with parameters)."""

    score: int
    level: str
    reason_codes: list = field(default_factory=list)

    @property
    def reasons(self):
        """Readable sentences in the active language."""
        return reason_texts(self.reason_codes)


@dataclass
class _Signals:
    reviews: int = 0
    bad_reviews: int = 0
    spree_shops: int = 0
    abuse_tickets: int = 0
    abuse_notes: int = 0
    list_mark: str = ListMark.NONE
    list_reason: str = ""


def score_signals(signals):
    """The pure scoring rule (see the module docstring); returns a RiskAssessment."""
    reasons, score = [], 0
    if signals.reviews >= MIN_REVIEWS_FOR_SHARE:
        share = signals.bad_reviews / signals.reviews
        points = 40 if share >= 0.8 else 25 if share >= 0.5 else 0
        if points:
            score += points
            reasons.append(
                {
                    "code": "bad_share",
                    "params": {
                        "bad": signals.bad_reviews,
                        "total": signals.reviews,
                        "percent": round(share * 100),
                    },
                }
            )
    if signals.spree_shops >= 2:
        score += 40 if signals.spree_shops >= 3 else 15
        reasons.append({"code": "multi_shop_spree", "params": {"shops": signals.spree_shops}})
    if signals.abuse_tickets:
        score += 60
        reasons.append({"code": "abuse_tickets", "params": {"count": signals.abuse_tickets}})
    if signals.abuse_notes:
        score += 60 if signals.abuse_notes >= 2 else 35
        reasons.append({"code": "abuse_notes", "params": {"count": signals.abuse_notes}})
    if signals.list_mark == ListMark.BLACKLIST:
        score = 100
        reasons.insert(0, {"code": "blacklisted", "params": {"reason": signals.list_reason}})
    score = min(score, 100)
    if signals.list_mark == ListMark.WHITELIST:
        return RiskAssessment(
            0, RiskLevel.LOW, [{"code": "whitelisted", "params": {"reason": signals.list_reason}}, *reasons]
        )
    level = RiskLevel.HIGH if score >= HIGH_FROM else RiskLevel.MEDIUM if score >= MEDIUM_FROM else RiskLevel.LOW
    return RiskAssessment(score, level, reasons)


def _signals(ids):
    """{buyer id: _Signals} in five queries whatever the number of buyers."""
    signals = {
        b["id"]: _Signals(list_mark=b["list_mark"], list_reason=b["list_mark_reason"])
        for b in Buyer.objects.filter(id__in=ids).values("id", "list_mark", "list_mark_reason")
    }
    for row in (
        Review.objects.filter(buyer_id__in=ids)
        .values("buyer_id")
        .annotate(total=Count("id"), bad=Count("id", filter=Q(tier__in=_BAD_TIERS)))
        .order_by()
    ):
        signals[row["buyer_id"]].reviews, signals[row["buyer_id"]].bad_reviews = row["total"], row["bad"]

    # For every bad review: the distinct shops the buyer gave bad reviews in the 30 days from it.
    # The widest such window is the buyer's spree (a sliding window, not just the last 30 days).
    bad = Review.objects.filter(tier__in=_BAD_TIERS).annotate(at=Coalesce("rated_at", "created_at"))
    window = (
        bad.filter(
            buyer_id=OuterRef("buyer_id"),
            at__gte=OuterRef("at"),
            at__lt=ExpressionWrapper(OuterRef("at") + SPREE_WINDOW, output_field=DateTimeField()),
        )
        .order_by()
        .values("buyer_id")
        .annotate(n=Count("shop_id", distinct=True))
        .values("n")
    )
    for row in bad.filter(buyer_id__in=ids).annotate(shops=Subquery(window)).values("buyer_id", "shops"):
        item = signals[row["buyer_id"]]
        item.spree_shops = max(item.spree_shops, row["shops"] or 0)

    for row in (
        Ticket.objects.filter(review__buyer_id__in=ids)
        .filter(Q(outcome=Outcome.ABUSE_REPORTED) | Q(cause__in=ABUSE_CAUSE_CODES))
        .values("review__buyer_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        signals[row["review__buyer_id"]].abuse_tickets = row["n"]

    # Tags are read and matched here rather than with a JSON `contains` lookup, which SQLite (the
    # laptop desk) lacks; a buyer has a handful of notes at most.
    abuse_tags = set(ABUSE_TAG_CODES)
    for buyer_id, tags in BuyerNote.objects.filter(buyer_id__in=ids).values_list("buyer_id", "tags"):
        if abuse_tags.intersection(tags or ()):
            signals[buyer_id].abuse_notes += 1
    return signals


def buyers_risk_assess(buyer_ids):
    """Assess and store the risk of these buyers; returns {buyer id: RiskAssessment}.

    Six queries whatever the number of buyers (five reads, one UPDATE … FROM VALUES), so it can be
    called with a whole ingest batch. Unknown ids are skipped.
    """
    ids = sorted({int(i) for i in buyer_ids if i is not None})
    if not ids:
        return {}
    now = timezone.now()
    results, rows = {}, []
    for buyer_id, signals in _signals(ids).items():
        assessment = score_signals(signals)
        results[buyer_id] = assessment
        rows.append(
            Buyer(
                pk=buyer_id,
                risk_level=assessment.level,
                risk_score=assessment.score,
                risk_reasons=assessment.reason_codes,
                risk_assessed_at=now,
            )
        )
    bulk_update_rows(rows, ["risk_level", "risk_score", "risk_reasons", "risk_assessed_at"])
    return results


def buyer_risk_assess(buyer_id):
    """Assess and store one buyer's risk; returns its RiskAssessment (None for an unknown id)."""
    return buyers_risk_assess([buyer_id]).get(int(buyer_id))


__all__ = ["RiskAssessment", "buyer_risk_assess", "buyers_risk_assess", "reason_text", "reason_texts", "score_signals"]

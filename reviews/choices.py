from django.db import models
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    TAOBAO = "taobao", _("Taobao")
    TMALL = "tmall", _("Tmall")
    JD = "jd", _("JD")
    PDD = "pdd", _("Pinduoduo")
    DOUYIN = "douyin", _("Douyin")
    KUAISHOU = "kuaishou", _("Kuaishou")
    OTHER = "other", _("Other")


class Tier(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")


class EventType(models.TextChoices):
    CREATED = "review.created", _("Review created")
    REVISED = "review.revised", _("Review revised")
    FOLLOWUP = "review.followup", _("Follow-up added")
    DELETED = "review.deleted", _("Review deleted")
    REPLIED = "review.replied", _("Seller replied")


class ReviewState(models.TextChoices):
    # A review known only from a follow-up, reply or a row claimed mid-ingest: no rating yet.
    PENDING = "pending", _("Rating not received yet")
    ACTIVE = "active", _("Active")
    DELETED = "deleted", _("Deleted")


class EventStatus(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    DUPLICATE = "duplicate", _("Duplicate")
    IGNORED = "ignored", _("Ignored")
    REJECTED = "rejected", _("Rejected")


class EventSource(models.TextChoices):
    PUSH = "push", _("Push API")
    PULL = "pull", _("Connector")
    IMPORT = "import", _("File import")
    DEMO = "demo", _("Demo data")


class ConnectorKind(models.TextChoices):
    JSON_FEED = "json_feed", _("JSON feed")
    TAOBAO = "taobao", _("Taobao / Tmall (TOP traderates)")
    JD = "jd", _("JD (JOS seller comments)")


class SignMethod(models.TextChoices):
    MD5 = "md5", _("MD5")
    HMAC = "hmac", _("HMAC-MD5")


# Days a buyer may revise a neutral/negative review, by platform (DESIGN.md § Domain rules).
DEFAULT_REVISION_WINDOW_DAYS = {
    Platform.TAOBAO: 30,
    Platform.TMALL: 30,
    Platform.JD: 30,
    Platform.PDD: 30,
    Platform.DOUYIN: 30,
    Platform.KUAISHOU: 30,
    Platform.OTHER: 30,
}

DEFAULT_TICKET_TIERS = [Tier.NEUTRAL.value, Tier.NEGATIVE.value]

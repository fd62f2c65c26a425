import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reviewdesk.fields import EncryptedTextField

from .choices import (
    DEFAULT_REVISION_WINDOW_DAYS,
    DEFAULT_TICKET_TIERS,
    ConnectorKind,
    EventSource,
    EventStatus,
    EventType,
    Platform,
    ReviewState,
    SignMethod,
    Tier,
)


def default_ticket_tiers():
    return list(DEFAULT_TICKET_TIERS)


class Shop(models.Model):
    """A seller's shop on one platform, with the rule for which reviews become tickets."""

    external_id = models.CharField(_("external id"), max_length=128, unique=True)
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    name = models.CharField(_("name"), max_length=255)
    is_active = models.BooleanField(_("active"), default=True)
    ticket_tiers = models.JSONField(
        _("tiers that open tickets"),
        default=default_ticket_tiers,
        help_text=_("Any of positive, neutral, negative."),
    )
    dsr_ticket_threshold = models.PositiveSmallIntegerField(
        _("DSR ticket threshold"),
        null=True,
        blank=True,
        help_text=_("Open a ticket when any DSR score is at or below this value. Empty: off."),
    )
    negative_max_stars = models.PositiveSmallIntegerField(_("negative up to stars"), default=1)
    neutral_max_stars = models.PositiveSmallIntegerField(_("neutral up to stars"), default=3)
    revision_window_days = models.PositiveSmallIntegerField(
        _("revision window (days)"),
        null=True,
        blank=True,
        help_text=_("How long a buyer may revise a review. Empty: the platform's default."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("shop")
        verbose_name_plural = _("shops")

    def __str__(self):
        return f"{self.name} ({self.external_id})"

    def clean(self):
        tiers = self.ticket_tiers
        if not isinstance(tiers, list) or any(t not in Tier.values for t in tiers):
            raise ValidationError({"ticket_tiers": _("A list of tiers: positive, neutral, negative.")})
        if not 1 <= self.negative_max_stars <= self.neutral_max_stars <= 5:
            raise ValidationError(_("Star limits must satisfy 1 ≤ negative ≤ neutral ≤ 5."))
        if self.dsr_ticket_threshold is not None and not 1 <= self.dsr_ticket_threshold <= 5:
            raise ValidationError({"dsr_ticket_threshold": _("Between 1 and 5.")})

    @property
    def effective_revision_window_days(self):
        return self.revision_window_days or DEFAULT_REVISION_WINDOW_DAYS.get(self.platform, 30)

    def tier_for_stars(self, stars):
        if stars <= self.negative_max_stars:
            return Tier.NEGATIVE
        if stars <= self.neutral_max_stars:
            return Tier.NEUTRAL
        return Tier.POSITIVE


class BearerSecret(models.Model):
    """A bearer secret of which only the SHA-256 is stored. Secrets are 256-bit random, so a
    fast hash is safe and keeps the per-request lookup a single indexed query."""

    PREFIX = "rd_"

    name = models.CharField(_("name"), max_length=100)
    key_prefix = models.CharField(_("key starts with"), max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"

    @staticmethod
    def hash(raw_key):
        return hashlib.sha256(raw_key.encode()).hexdigest()

    def set_new_key(self):
        """Give this key a fresh secret and return it: the only time it is ever visible."""
        raw = self.PREFIX + secrets.token_urlsafe(32)
        self.key_prefix = raw[: len(self.PREFIX) + 6]
        self.key_hash = self.hash(raw)
        return raw

    @property
    def is_active(self):
        return self.revoked_at is None

    def revoke(self):
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])


class ApiKey(BearerSecret):
    """An integration's key (a shop's sync connector), scoped to one or more shops."""

    PREFIX = "rdk_"

    shops = models.ManyToManyField(Shop, related_name="api_keys", verbose_name=_("shops"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta(BearerSecret.Meta):
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")


class PersonalToken(BearerSecret):
    """A person's token for scripts: acts as that person, with their role and shops."""

    PREFIX = "rdp_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personal_tokens", verbose_name=_("user")
    )

    class Meta(BearerSecret.Meta):
        verbose_name = _("personal token")
        verbose_name_plural = _("personal tokens")


class Review(models.Model):
    """A platform review in its newest known state (by the platform's occurred_at)."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("shop"))
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    review_id = models.CharField(_("review id"), max_length=128)
    state = models.CharField(_("state"), max_length=16, choices=ReviewState.choices, default=ReviewState.PENDING)
    order_id = models.CharField(_("order id"), max_length=128, blank=True)
    sub_order_id = models.CharField(_("sub-order id"), max_length=128, blank=True)
    buyer = models.ForeignKey(
        "contacts.Buyer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reviews",
        verbose_name=_("buyer"),
    )
    item_id = models.CharField(_("item id"), max_length=128, blank=True)
    item_sku = models.CharField(_("SKU"), max_length=128, blank=True)
    item_title = models.CharField(_("item title"), max_length=255, blank=True)
    item_sku_text = models.CharField(_("SKU text"), max_length=255, blank=True)
    item_price = models.DecimalField(_("price"), max_digits=10, decimal_places=2, null=True, blank=True)
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices, blank=True)
    stars = models.PositiveSmallIntegerField(_("stars"), null=True, blank=True)
    dsr_description = models.PositiveSmallIntegerField(_("DSR description"), null=True, blank=True)
    dsr_service = models.PositiveSmallIntegerField(_("DSR service"), null=True, blank=True)
    dsr_logistics = models.PositiveSmallIntegerField(_("DSR logistics"), null=True, blank=True)
    content = models.TextField(_("content"), blank=True)
    image_count = models.PositiveSmallIntegerField(_("images"), default=0)
    rated_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    state_occurred_at = models.DateTimeField(
        _("state as of"),
        null=True,
        blank=True,
        help_text=_("The platform time of the newest event that set tier, rating or deletion."),
    )
    followup_content = models.TextField(_("follow-up"), blank=True)
    followup_image_count = models.PositiveSmallIntegerField(_("follow-up images"), null=True, blank=True)
    followup_negative = models.BooleanField(_("follow-up negative"), null=True, blank=True)
    followup_at = models.DateTimeField(_("follow-up at"), null=True, blank=True)
    reply_content = models.TextField(_("seller explanation"), blank=True)
    replied_at = models.DateTimeField(_("explained at"), null=True, blank=True)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [models.UniqueConstraint(fields=["shop", "review_id"], name="review_unique_per_shop")]
        indexes = [
            models.Index(fields=["shop", "rated_at"], name="review_shop_rated"),
            models.Index(fields=["buyer", "rated_at"], name="review_buyer_rated"),
        ]

    def __str__(self):
        return f"{self.shop.external_id}/{self.review_id}"

    @property
    def dsr(self):
        if self.dsr_description is None and self.dsr_service is None and self.dsr_logistics is None:
            return None
        return {"description": self.dsr_description, "service": self.dsr_service, "logistics": self.dsr_logistics}

    @property
    def is_deleted(self):
        return self.state == ReviewState.DELETED


class InboundEvent(models.Model):
    """Every accepted review event, keyed for idempotency (first write wins) and kept for audit."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="inbound_events")
    idempotency_key = models.CharField(max_length=160)
    event_id = models.CharField(_("event id"), max_length=128, blank=True)
    event_type = models.CharField(_("type"), max_length=32, choices=EventType.choices)
    platform_review_id = models.CharField(_("review id"), max_length=128)
    occurred_at = models.DateTimeField(_("occurred at"))
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("result"), max_length=16, choices=EventStatus.choices)
    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    ticket_id = models.BigIntegerField(_("ticket"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=EventSource.choices)
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    connector = models.ForeignKey("Connector", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    ingest_batch = models.UUIDField(_("ingest batch"), editable=False)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("inbound event")
        verbose_name_plural = _("inbound events")
        constraints = [
            models.UniqueConstraint(fields=["shop", "idempotency_key"], name="inbound_event_idempotent"),
        ]
        indexes = [models.Index(fields=["shop", "platform_review_id"], name="inbound_event_review")]

    def __str__(self):
        return f"{self.event_type} {self.platform_review_id} ({self.status})"


class Connector(models.Model):
    """A pull connector: where and how ReviewDesk fetches a shop's review events."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="connectors", verbose_name=_("shop"))
    kind = models.CharField(_("kind"), max_length=32, choices=ConnectorKind.choices, default=ConnectorKind.JSON_FEED)
    name = models.CharField(_("name"), max_length=100)
    feed_url = models.URLField(
        _("feed or gateway URL"),
        max_length=500,
        blank=True,
        help_text=_("JSON feed: the feed's address. Taobao and JD: empty for the platform's own gateway."),
    )
    token = EncryptedTextField(_("access token"), blank=True, help_text=_("Taobao: the session key."))
    app_key = models.CharField(_("app key"), max_length=64, blank=True)
    app_secret = EncryptedTextField(_("app secret"), blank=True)
    sign_method = models.CharField(
        _("signature method"), max_length=8, choices=SignMethod.choices, default=SignMethod.MD5
    )
    message_secret = EncryptedTextField(
        _("message secret"),
        blank=True,
        help_text=_("Signs the rating messages the platform pushes to ReviewDesk. Empty: pushed messages are refused."),
    )
    page_size = models.PositiveSmallIntegerField(_("events per request"), default=200)
    poll_interval_seconds = models.PositiveIntegerField(_("poll every (seconds)"), default=60)
    is_enabled = models.BooleanField(_("enabled"), default=True)
    cursor = models.CharField(_("cursor"), max_length=500, blank=True)
    next_run_at = models.DateTimeField(_("next run"), default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    last_fetched_count = models.PositiveIntegerField(_("fetched last run"), default=0)
    fetched_total = models.PositiveBigIntegerField(_("fetched in total"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["shop__name", "name"]
        verbose_name = _("connector")
        verbose_name_plural = _("connectors")
        indexes = [models.Index(fields=["is_enabled", "next_run_at"], name="connector_due")]

    def __str__(self):
        return f"{self.name} ({self.shop.external_id})"

    def clean(self):
        # A page is stored in one transaction, so its size is bounded like a pushed batch.
        if not 1 <= self.page_size <= 500:
            raise ValidationError({"page_size": _("Between 1 and 500.")})
        if self.poll_interval_seconds < 10:
            raise ValidationError({"poll_interval_seconds": _("At least 10 seconds.")})
        if self.kind == ConnectorKind.JSON_FEED and not self.feed_url:
            raise ValidationError({"feed_url": _("A JSON feed connector needs the feed's URL.")})
        if self.kind in (ConnectorKind.TAOBAO, ConnectorKind.JD) and not self.app_key:
            raise ValidationError({"app_key": _("Taobao and JD connectors need the app key.")})

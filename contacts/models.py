import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reviewdesk.fields import EncryptedTextField
from reviews.choices import Platform

from .choices import TAGS_BY_CODE, ListMark, RevealField, RiskLevel
from .masking import mask_nick, mask_phone

__all__ = ["Buyer", "BuyerNote", "BuyerStats", "ContactEtiquette", "PersonalDataReveal", "RiskLevel"]

DEFAULT_BUYER_TIME_ZONE = "Asia/Shanghai"


def valid_time_zone(name):
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        return False
    return True


class Buyer(models.Model):
    """A pseudonymous buyer, keyed by the platform's open id, never by nick."""

    # Columns added after the first release carry a database default as well: ingestion inserts
    # buyers with raw SQL that names only the columns it knows (contacts.services.buyers_upsert).
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    open_id = models.CharField(_("buyer open id"), max_length=128)
    nick = models.CharField(_("nick"), max_length=64, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True)
    region = models.CharField(_("region"), max_length=64, blank=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        default="",
        db_default="",
        help_text=_("For quiet hours and the best time to call. Empty: the shop's default (Asia/Shanghai)."),
    )
    risk_level = models.CharField(_("risk"), max_length=8, choices=RiskLevel.choices, default=RiskLevel.LOW)
    risk_score = models.PositiveSmallIntegerField(_("risk score"), default=0, db_default=0)
    risk_reasons = models.JSONField(
        _("risk reasons"),
        default=list,
        blank=True,
        null=True,
        help_text=_("Why the buyer has this risk level: [{code, params}], rendered in the reader's language."),
    )
    risk_assessed_at = models.DateTimeField(_("risk assessed"), null=True, blank=True)
    list_mark = models.CharField(
        _("list"), max_length=16, choices=ListMark.choices, default=ListMark.NONE, db_default=ListMark.NONE
    )
    list_mark_reason = models.TextField(_("list reason"), blank=True, default="", db_default="")
    list_mark_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("listed by"),
    )
    list_mark_at = models.DateTimeField(_("listed at"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("buyer")
        verbose_name_plural = _("buyers")
        constraints = [models.UniqueConstraint(fields=["platform", "open_id"], name="buyer_unique_open_id")]
        # The stale-buyer sweep reads the recently written buyers (contacts.services).
        indexes = [models.Index(fields=["updated_at"], name="buyer_updated_at")]

    def __str__(self):
        return f"{self.get_platform_display()} {self.masked_nick or self.open_id}"

    def clean(self):
        if self.time_zone and not valid_time_zone(self.time_zone):
            raise ValidationError({"time_zone": _("Unknown time zone.")})

    @property
    def needs_senior_agent(self):
        """Abuse-flagged buyers go to senior agents (DESIGN.md § Assignment)."""
        return self.risk_level == RiskLevel.HIGH

    @property
    def masked_nick(self):
        return mask_nick(self.nick)

    @property
    def masked_phone(self):
        return mask_phone(self.phone)

    @property
    def risk_reason_texts(self):
        from .risk import reason_texts  # the texts live with the scoring rules

        return reason_texts(self.risk_reasons or [])


class BuyerStats(models.Model):
    """Counters of a buyer across every shop, recomputed in SQL by buyer_stats_refresh."""

    buyer = models.OneToOneField(Buyer, primary_key=True, on_delete=models.CASCADE, related_name="stats")
    reviews_total = models.PositiveIntegerField(_("reviews"), default=0)
    reviews_positive = models.PositiveIntegerField(_("positive reviews"), default=0)
    reviews_neutral = models.PositiveIntegerField(_("neutral reviews"), default=0)
    reviews_negative = models.PositiveIntegerField(_("negative reviews"), default=0)
    shops_reviewed = models.PositiveIntegerField(_("shops reviewed"), default=0)
    last_review_at = models.DateTimeField(_("last review"), null=True, blank=True)
    tickets_total = models.PositiveIntegerField(_("tickets"), default=0)
    tickets_open = models.PositiveIntegerField(_("open tickets"), default=0)
    tickets_resolved = models.PositiveIntegerField(_("tickets resolved (revised or deleted)"), default=0)
    outcomes = models.JSONField(_("outcomes"), default=dict, blank=True, help_text=_("{outcome code: tickets}"))
    refreshed_at = models.DateTimeField(_("refreshed"), default=timezone.now)

    class Meta:
        verbose_name = _("buyer counters")
        verbose_name_plural = _("buyer counters")

    def __str__(self):
        return f"{self.buyer_id}: {self.reviews_total} reviews, {self.tickets_total} tickets"


class BuyerNote(models.Model):
    """What an agent learnt about a buyer: temperament tags from a fixed list and free text."""

    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="notes", verbose_name=_("buyer"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("author")
    )
    tags = models.JSONField(_("tags"), default=list, blank=True, help_text=_("Codes from the temperament tag list."))
    text = models.TextField(_("text"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("buyer note")
        verbose_name_plural = _("buyer notes")
        indexes = [models.Index(fields=["buyer", "created_at"], name="buyer_note_buyer_at")]

    def __str__(self):
        return f"{self.buyer_id}: {', '.join(self.tags or [])} {self.text[:40]}"

    @property
    def tag_labels(self):
        return [TAGS_BY_CODE[code].label if code in TAGS_BY_CODE else code for code in self.tags or []]


class PersonalDataReveal(models.Model):
    """Audit of one reveal of a buyer's nick or phone: who, when, which buyer and field, why."""

    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="reveals", verbose_name=_("buyer"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("user")
    )
    # Kept as text as well, so the record still says who after the user is deleted.
    user_label = models.CharField(_("who"), max_length=150)
    field = models.CharField(_("field"), max_length=8, choices=RevealField.choices)
    reason = models.TextField(_("reason"))
    ticket_id = models.BigIntegerField(
        _("ticket"), null=True, blank=True, help_text=_("The open ticket that allowed an agent to reveal.")
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("personal data reveal")
        verbose_name_plural = _("personal data reveals")
        indexes = [models.Index(fields=["buyer", "created_at"], name="reveal_buyer_at")]

    def __str__(self):
        return f"{self.user_label} → {self.buyer_id}.{self.field}"


class ContactEtiquette(models.Model):
    """A shop's rules for contacting buyers; a shop without a row gets the defaults."""

    shop = models.OneToOneField(
        "reviews.Shop", on_delete=models.CASCADE, related_name="contact_etiquette", verbose_name=_("shop")
    )
    max_attempts_per_day = models.PositiveSmallIntegerField(
        _("attempts per buyer per day"),
        default=3,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Contact attempts of any channel, across all the buyer's tickets, per day in the buyer's time zone."
        ),
    )
    min_minutes_between_calls = models.PositiveSmallIntegerField(
        _("minutes between calls"), default=60, help_text=_("Between two phone attempts to the same buyer.")
    )
    quiet_hours_start = models.TimeField(_("quiet hours from"), default=dt.time(21, 0))
    quiet_hours_end = models.TimeField(_("quiet hours until"), default=dt.time(9, 0))
    default_time_zone = models.CharField(
        _("default time zone"),
        max_length=64,
        default=DEFAULT_BUYER_TIME_ZONE,
        help_text=_("For buyers whose own time zone is unknown."),
    )

    class Meta:
        verbose_name = _("contact etiquette")
        verbose_name_plural = _("contact etiquette")

    def __str__(self):
        return str(self.shop)

    def clean(self):
        if not valid_time_zone(self.default_time_zone):
            raise ValidationError({"default_time_zone": _("Unknown time zone.")})

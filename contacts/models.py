from django.db import models
from django.utils.translation import gettext_lazy as _

from reviewdesk.fields import EncryptedTextField
from reviews.choices import Platform

from .masking import mask_nick, mask_phone


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class Buyer(models.Model):
    """A pseudonymous buyer, keyed by the platform's open id, never by nick."""

    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    open_id = models.CharField(_("buyer open id"), max_length=128)
    nick = models.CharField(_("nick"), max_length=64, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True)
    region = models.CharField(_("region"), max_length=64, blank=True)
    risk_level = models.CharField(_("risk"), max_length=8, choices=RiskLevel.choices, default=RiskLevel.LOW)
    first_seen_at = models.DateTimeField(_("first seen"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("buyer")
        verbose_name_plural = _("buyers")
        constraints = [models.UniqueConstraint(fields=["platform", "open_id"], name="buyer_unique_open_id")]

    def __str__(self):
        return f"{self.get_platform_display()} {self.masked_nick or self.open_id}"

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

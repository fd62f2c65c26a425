from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reviews.choices import Platform, Tier

from .choices import (
    OPEN_STATUSES,
    ContactChannel,
    ContactResult,
    Outcome,
    RemedyKind,
    RemedyStatus,
    Role,
    SlaState,
    TicketStatus,
    TimelineKind,
)


def default_skills():
    return []


class AgentProfile(models.Model):
    """A person on the after-sales team: role, the shops they work, and their duty."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    shops = models.ManyToManyField("reviews.Shop", blank=True, related_name="agents", verbose_name=_("shops"))
    skills = models.JSONField(_("skills"), default=default_skills, blank=True, help_text=_('e.g. ["senior"]'))
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=30)
    on_duty = models.BooleanField(_("on duty"), default=False)
    last_assigned_at = models.DateTimeField(_("last assignment"), null=True, blank=True)

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()

    @property
    def is_supervisor(self):
        return self.role == Role.SUPERVISOR


class Ticket(models.Model):
    """One medium or negative review being worked, from opening to a claimed or verified outcome."""

    review = models.ForeignKey("reviews.Review", on_delete=models.PROTECT, related_name="tickets")
    shop = models.ForeignKey("reviews.Shop", on_delete=models.PROTECT, related_name="tickets")
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices, help_text=_("The tier that opened it."))
    status = models.CharField(_("status"), max_length=20, choices=TicketStatus.choices, default=TicketStatus.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        verbose_name=_("assignee"),
    )
    cause = models.CharField(_("cause"), max_length=64, blank=True)
    outcome = models.CharField(_("outcome"), max_length=32, choices=Outcome.choices, blank=True)
    outcome_verified = models.BooleanField(_("verified"), default=False)
    sla_state = models.CharField(_("SLA"), max_length=16, choices=SlaState.choices, default=SlaState.OK)
    first_contact_due_at = models.DateTimeField(_("first contact due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_contact_at = models.DateTimeField(_("first contact"), null=True, blank=True)
    first_reached_at = models.DateTimeField(_("first reached"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    created_at = models.DateTimeField(_("opened"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [
            models.UniqueConstraint(
                fields=["review"], condition=Q(status__in=sorted(OPEN_STATUSES)), name="ticket_one_open_per_review"
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "status"], name="ticket_shop_status"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status"),
        ]

    def __str__(self):
        return f"#{self.pk}"

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES


class TicketEvent(models.Model):
    """One line of a ticket's timeline: who changed what, when. Written in the same transaction."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(_("kind"), max_length=32, choices=TimelineKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    from_status = models.CharField(max_length=20, choices=TicketStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=TicketStatus.choices, blank=True)
    message = models.TextField(_("message"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")

    def __str__(self):
        return f"{self.ticket_id} {self.kind}"


class ContactAttempt(models.Model):
    """One try to reach the buyer, by any channel, with its result."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="contact_attempts")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(_("channel"), max_length=16, choices=ContactChannel.choices)
    result = models.CharField(_("result"), max_length=16, choices=ContactResult.choices)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("contact attempt")
        verbose_name_plural = _("contact attempts")

    def __str__(self):
        return f"{self.get_channel_display()}: {self.get_result_display()}"


class Remedy(models.Model):
    """What was offered to fix the buyer's problem. Never conditional on the review."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="remedies")
    kind = models.CharField(_("kind"), max_length=32, choices=RemedyKind.choices)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    status = models.CharField(_("status"), max_length=20, choices=RemedyStatus.choices)
    note = models.TextField(_("note"), blank=True)
    offered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.TextField(_("decision reason"), blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("remedy")
        verbose_name_plural = _("remedies")

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"

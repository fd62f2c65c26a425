import re
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from reviews.choices import Platform, Tier

from .calendars import parse_hours
from .choices import (
    OPEN_STATUSES,
    CauseGroup,
    CompliancePhraseKind,
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
from .phrases import actor_name
from .phrases import render as render_phrase

SENIOR_SKILL = "senior"
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def default_skills():
    return []


def default_weekly_hours():
    return {day: [["09:00", "21:00"]] for day in _WEEKDAYS}


def default_makeup_hours():
    return [["09:00", "21:00"]]


def weekly_schedule(value):
    """{"mon": [["09:00", "18:00"]], …} -> {0: [(time, time)], …}; raises ValueError."""
    if not isinstance(value, dict):
        raise ValueError("Hours must be an object keyed by weekday (mon … sun).")
    unknown = set(value) - set(_WEEKDAYS)
    if unknown:
        raise ValueError(f"Unknown weekday(s): {', '.join(sorted(unknown))}; use mon … sun.")
    return {index: parse_hours(value.get(day)) for index, day in enumerate(_WEEKDAYS)}


class AgentProfile(models.Model):
    """A person on the after-sales team: role, the shops they work, and their duty."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    shops = models.ManyToManyField("reviews.Shop", blank=True, related_name="agents", verbose_name=_("shops"))
    skills = models.JSONField(_("skills"), default=default_skills, blank=True, help_text=_('e.g. ["senior"]'))
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=30)
    on_duty = models.BooleanField(_("on duty"), default=False)
    shift_schedule = models.JSONField(
        _("weekly shifts"),
        default=dict,
        blank=True,
        help_text=_('Hours by weekday, e.g. {"mon": [["09:00", "18:00"]], "sat": []}. Empty: any time while on duty.'),
    )
    last_assigned_at = models.DateTimeField(_("last assignment"), null=True, blank=True)
    remedy_cap = models.DecimalField(
        _("remedy cap"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("50.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
        help_text=_("Remedies above this amount wait for a supervisor's approval. Supervisors have no cap."),
    )

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()

    @property
    def is_supervisor(self):
        return self.role == Role.SUPERVISOR

    @property
    def is_senior(self):
        return SENIOR_SKILL in (self.skills or [])

    def clean(self):
        if not isinstance(self.skills, list) or not all(isinstance(s, str) for s in self.skills):
            raise ValidationError({"skills": _('A list of skill tags, e.g. ["senior"].')})
        try:
            weekly_schedule(self.shift_schedule)
        except ValueError as exc:
            raise ValidationError({"shift_schedule": str(exc)}) from None

    def works_now(self, now):
        """On duty, and inside a shift when a weekly schedule is set."""
        if not self.on_duty:
            return False
        if not self.shift_schedule:
            return True
        local = now.astimezone(ZoneInfo(settings.TIME_ZONE))
        return any(o <= local.time() < c for o, c in weekly_schedule(self.shift_schedule).get(local.weekday(), []))


class BusinessCalendar(models.Model):
    """Opening hours per weekday, with holidays and make-up working days (调休), for SLA clocks."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    weekly_hours = models.JSONField(
        _("weekly hours"),
        default=default_weekly_hours,
        help_text=_('By weekday, e.g. {"mon": [["09:00", "21:00"]], "sun": []}; "24:00" ends the day.'),
    )
    makeup_day_hours = models.JSONField(
        _("make-up day hours"),
        default=default_makeup_hours,
        blank=True,
        help_text=_("Hours of a make-up working day (调休) that gives none of its own."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self):
        return self.name

    def clean(self):
        try:
            ZoneInfo(self.timezone)
        except (ValueError, KeyError, ZoneInfoNotFoundError):
            raise ValidationError({"timezone": _("Unknown time zone.")}) from None
        try:
            weekly = weekly_schedule(self.weekly_hours)
            parse_hours(self.makeup_day_hours)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        if not any(weekly.values()):
            raise ValidationError({"weekly_hours": _("Open at least one day a week, or SLA clocks never run.")})


class CalendarDay(models.Model):
    """A dated exception: a holiday (closed) or a make-up working day (open)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        WORKDAY = "workday", _("Make-up working day (调休)")

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    hours = models.JSONField(
        _("hours"), default=list, blank=True, help_text=_("Empty: the calendar's make-up day hours.")
    )

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="calendar_day_unique")]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}"

    def clean(self):
        try:
            parse_hours(self.hours)
        except ValueError as exc:
            raise ValidationError({"hours": str(exc)}) from None


class SlaPolicy(models.Model):
    """Per shop and tier: time to first contact (business minutes) and to resolution."""

    class BreachAction(models.TextChoices):
        ESCALATE = "escalate", _("Escalate to supervisors")
        REASSIGN = "reassign", _("Reassign")
        BOTH = "both", _("Reassign and escalate")

    shop = models.ForeignKey("reviews.Shop", on_delete=models.CASCADE, related_name="sla_policies")
    tier = models.CharField(
        _("tier"),
        max_length=16,
        choices=Tier.choices,
        blank=True,
        help_text=_("Empty: any tier without its own policy."),
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
        help_text=_("Empty: the clock runs around the clock."),
    )
    first_contact_minutes = models.PositiveIntegerField(_("first contact within (business minutes)"), default=60)
    resolution_minutes = models.PositiveIntegerField(
        _("resolution within (business minutes)"),
        null=True,
        blank=True,
        help_text=_("Empty: the platform's revision window minus the margin."),
    )
    resolution_margin_hours = models.PositiveIntegerField(_("margin before the revision deadline (hours)"), default=24)
    warning_ratio = models.DecimalField(
        _("warn at share of target"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.75"),
        validators=[MinValueValidator(Decimal("0.05")), MaxValueValidator(Decimal("0.99"))],
    )
    breach_action = models.CharField(
        _("on breach"), max_length=16, choices=BreachAction.choices, default=BreachAction.ESCALATE
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [models.UniqueConstraint(fields=["shop", "tier"], name="sla_policy_per_shop_tier")]

    def __str__(self):
        return f"{self.shop} {self.get_tier_display() or _('any tier')}"


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
    # The reviewed item when the ticket opened, so statistics by SKU read tickets alone.
    item_sku = models.CharField(_("SKU"), max_length=128, blank=True, default="", db_default="")
    item_title = models.CharField(_("item title"), max_length=255, blank=True, default="", db_default="")
    outcome = models.CharField(_("outcome"), max_length=32, choices=Outcome.choices, blank=True)
    outcome_verified = models.BooleanField(_("verified"), default=False)
    sla_state = models.CharField(_("SLA"), max_length=16, choices=SlaState.choices, default=SlaState.OK)
    first_contact_due_at = models.DateTimeField(_("first contact due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_contact_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_warn_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When each clock's warning or breach fired: set once, by a conditional update, so never twice.
    first_contact_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_contact_breached_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_breached_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_contact_at = models.DateTimeField(_("first contact"), null=True, blank=True)
    first_reached_at = models.DateTimeField(_("first reached"), null=True, blank=True)
    # Business minutes from opening to first_contact_at / first_reached_at, stored when they happen
    # (tickets.stats.stamp_first_contact_minutes) so statistics never run calendar math per ticket.
    first_contact_business_minutes = models.FloatField(null=True, blank=True, editable=False)
    first_reach_business_minutes = models.FloatField(null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    created_at = models.DateTimeField(_("opened"), default=timezone.now)
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
            # The SLA sweep reads only tickets whose clock is still running and has not fired.
            models.Index(
                fields=["first_contact_warn_at"],
                name="ticket_fc_warn_due",
                condition=Q(
                    status__in=sorted(OPEN_STATUSES),
                    first_contact_at__isnull=True,
                    first_contact_warned_at__isnull=True,
                ),
            ),
            models.Index(
                fields=["first_contact_due_at"],
                name="ticket_fc_breach_due",
                condition=Q(
                    status__in=sorted(OPEN_STATUSES),
                    first_contact_at__isnull=True,
                    first_contact_breached_at__isnull=True,
                ),
            ),
            models.Index(
                fields=["resolution_warn_at"],
                name="ticket_res_warn_due",
                condition=Q(status__in=sorted(OPEN_STATUSES), resolution_warned_at__isnull=True),
            ),
            models.Index(
                fields=["resolution_due_at"],
                name="ticket_res_breach_due",
                condition=Q(status__in=sorted(OPEN_STATUSES), resolution_breached_at__isnull=True),
            ),
            # Statistics (tickets.stats) select a period by these timestamps. The tickets opened in a
            # period carry what the percentiles and the top SKUs read, so those scan the index alone.
            models.Index(
                fields=["created_at"],
                include=[
                    "shop",
                    "platform",
                    "tier",
                    "assignee",
                    "item_sku",
                    "cause",
                    "first_contact_business_minutes",
                    "first_reach_business_minutes",
                ],
                name="ticket_created_cover",
            ),
            models.Index(fields=["closed_at"], name="ticket_closed_at"),
            models.Index(fields=["first_contact_due_at"], name="ticket_fc_due_at"),
            # The unassigned pool, oldest due first.
            models.Index(
                fields=["first_contact_due_at", "id"],
                name="ticket_pool",
                condition=Q(status__in=sorted(OPEN_STATUSES), assignee__isnull=True),
            ),
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
    # The message as a msgid and its arguments, printed in each reader's language (tickets.phrases).
    phrase = models.JSONField(null=True, blank=True, editable=False)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        # The audit log lists timeline rows by date across tickets (tickets.audit_views).
        indexes = [models.Index(fields=["created_at"], name="ticket_event_created_at")]

    def __str__(self):
        return f"{self.ticket_id} {self.kind}"

    @property
    def display_message(self):
        """The message in the reader's language."""
        return render_phrase(self.phrase, self.message)

    @property
    def actor_name(self):
        """Who did it, when not a person (the SLA clock, an API key), in the reader's language."""
        return actor_name(self.actor_label)


class Notification(models.Model):
    """An in-app notice to one person (SLA warnings and breaches, escalations)."""

    class Kind(models.TextChoices):
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_BREACH = "sla_breach", _("SLA breach")
        ESCALATED = "escalated", _("Escalated")
        ASSIGNED = "assigned", _("Assigned to you")
        REMEDY_APPROVAL = "remedy_approval", _("Remedy waiting for approval")
        REMEDY_DECIDED = "remedy_decided", _("Remedy decided")
        FOLLOWUP_DUE = "followup_due", _("Follow-up visit due")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    message = models.TextField(_("message"))
    phrase = models.JSONField(null=True, blank=True, editable=False)  # as TicketEvent.phrase
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self):
        return self.message[:60]

    @property
    def display_message(self):
        """The message in the reader's language."""
        return render_phrase(self.phrase, self.message)


class ContactAttempt(models.Model):
    """One try to reach the buyer, by any channel, with its result."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="contact_attempts")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(_("channel"), max_length=16, choices=ContactChannel.choices)
    result = models.CharField(_("result"), max_length=16, choices=ContactResult.choices)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

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
    requested_status = models.CharField(
        _("requested status"),
        max_length=20,
        choices=RemedyStatus.choices,
        blank=True,
        help_text=_("What the agent recorded; the remedy takes this status once approved."),
    )
    note = models.TextField(_("note"), blank=True)
    compliance_reasons = models.JSONField(
        _("compliance flags"),
        default=list,
        blank=True,
        help_text=_("Why the note was flagged as tying the remedy to a review; empty when it was not."),
    )
    offered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("decision reason"), blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("remedy")
        verbose_name_plural = _("remedies")
        indexes = [
            # Statistics: the remedies recorded in a period, read from the index alone.
            models.Index(fields=["created_at"], include=["status", "ticket", "amount"], name="remedy_created_cover"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"


class Cause(models.Model):
    """A root cause of a bad review (DESIGN.md § Cause taxonomy); tickets store its code."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    group = models.CharField(_("group"), max_length=20, choices=CauseGroup.choices)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("cause")
        verbose_name_plural = _("causes")

    def __str__(self):
        return f"{self.label} ({self.code})"

    @property
    def label(self):
        """The name in the active language, falling back to the other one."""
        if (get_language() or "").startswith("zh"):
            return self.name_zh or self.name_en
        return self.name_en or self.name_zh


class CauseKeywordRule(models.Model):
    """Keywords in a review's text that suggest a cause; the highest priority, most hits wins."""

    cause = models.ForeignKey(Cause, on_delete=models.CASCADE, related_name="keyword_rules", verbose_name=_("cause"))
    keywords = models.TextField(_("keywords"), help_text=_("One keyword per line."))
    platform = models.CharField(
        _("platform"), max_length=16, choices=Platform.choices, blank=True, help_text=_("Empty: any platform.")
    )
    priority = models.IntegerField(_("priority"), default=0, help_text=_("Higher wins."))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-priority", "id"]
        verbose_name = _("cause keyword rule")
        verbose_name_plural = _("cause keyword rules")

    def __str__(self):
        return f"{self.cause.code}: {', '.join(self.keyword_list[:5])}"

    @property
    def keyword_list(self):
        return [line.strip() for line in (self.keywords or "").splitlines() if line.strip()]


class CallScript(models.Model):
    """What an agent says on the phone or in IM, per platform and cause, with placeholders."""

    name = models.CharField(_("name"), max_length=100)
    platform = models.CharField(
        _("platform"), max_length=16, choices=Platform.choices, blank=True, help_text=_("Empty: any platform.")
    )
    cause = models.CharField(_("cause code"), max_length=64, blank=True, help_text=_("Empty: any cause."))
    body = models.TextField(
        _("script"),
        help_text=_("Placeholders: {shop}, {item_title}, {review_quote}, {buyer_nick}, {order_date}."),
    )
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("call script")
        verbose_name_plural = _("call scripts")

    def __str__(self):
        return self.name

    def clean(self):
        from .compliance import compliance_check  # the checker reads CompliancePhrase rows

        result = compliance_check(f"{self.name}\n{self.body}")
        if result.flagged:
            raise ValidationError({"body": [*result.reasons]})
        if self.cause and not Cause.objects.filter(code=self.cause).exists():
            raise ValidationError({"cause": _("Unknown cause code.")})


class CompliancePhrase(models.Model):
    """Wording that ties a reward to a review (好评返现): flagged in scripts, notes and remedies."""

    text = models.CharField(_("text"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=8, choices=CompliancePhraseKind.choices, default=CompliancePhraseKind.PHRASE
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "text"]
        verbose_name = _("compliance phrase")
        verbose_name_plural = _("compliance phrases")

    def __str__(self):
        return self.text

    def clean(self):
        if self.kind == CompliancePhraseKind.REGEX:
            try:
                re.compile(self.text)
            except re.error as exc:
                raise ValidationError({"text": _("Not a valid regular expression: %(error)s") % {"error": exc}})


class FollowUpVisit(models.Model):
    """A planned call-back to a buyer (回访), e.g. to check a reissued parcel arrived."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="followup_visits")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="followup_visits"
    )
    due_on = models.DateField(_("due on"))
    note = models.TextField(_("note"), blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("follow-up visit")
        verbose_name_plural = _("follow-up visits")
        indexes = [
            # The reminder sweep reads only visits still open and not yet reminded.
            models.Index(
                fields=["due_on"],
                name="followup_visit_to_remind",
                condition=Q(done_at__isnull=True, reminded_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.ticket} {self.due_on}"


class TicketDayCount(models.Model):
    """The statistics rollup (tickets.rollup): ticket counts per day, shop, platform and agent, kept
    equal to the tickets by a PostgreSQL trigger in the same transaction as every ticket write.

    Each write appends the difference it made (a ticket that moves from one agent to another adds
    -1 and +1 rows) and a beat task folds the rows of a day into one per group, so readers always
    SUM. Kinds: `opened` (by created_at), `closed` (by closed_at, with outcome), `closed_cause`
    (by closed_at, by cause and outcome, for cause × outcome) and `sla` (by first_contact_due_at:
    `contacted` so far and `met` in time)."""

    kind = models.CharField(max_length=16)
    # No constraints and no indexes of their own: rows are appended on every ticket write and read
    # by day (the index below); a foreign key check per row would only slow the writers.
    shop = models.ForeignKey(
        "reviews.Shop", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    platform = models.CharField(max_length=16)
    day = models.DateField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    cause = models.CharField(max_length=64, default="")
    outcome = models.CharField(max_length=32, default="")
    verified = models.BooleanField(default=False)
    n = models.IntegerField(default=0)
    contacted = models.IntegerField(default=0)
    met = models.IntegerField(default=0)
    # False for a write's difference, True for a row the compaction folded.
    compact = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["day", "kind"], name="ticket_day_count_day"),
            models.Index(fields=["compact"], name="ticket_day_count_pending", condition=Q(compact=False)),
        ]

    def __str__(self):
        return f"{self.kind} {self.day} {self.shop_id}"

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from reviewdesk.admin import STRICT_JSON, ModelAdmin, ReadOnlyAdmin

from .actions import remedy_decide
from .assignment import agent_set_duty
from .choices import RemedyStatus
from .models import (
    AgentProfile,
    BusinessCalendar,
    CalendarDay,
    CallScript,
    Cause,
    CauseKeywordRule,
    CompliancePhrase,
    ContactAttempt,
    FollowUpVisit,
    Notification,
    Remedy,
    SlaPolicy,
    Ticket,
    TicketEvent,
)
from .permissions import can_approve_remedy
from .services import TicketActionRefused


@admin.register(AgentProfile)
class AgentProfileAdmin(ModelAdmin):
    list_display = ["user", "role", "capacity", "on_duty", "last_assigned_at"]
    actions = ["go_on_duty", "go_off_duty"]
    shop_scope = "shops"

    def get_readonly_fields(self, request, obj=None):
        # Who is a supervisor is the superuser's decision, not something a supervisor grants.
        fields = list(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else [*fields, "role"]

    def has_change_permission(self, request, obj=None):
        # A supervisor manages their team, not their own shops, cap or role.
        if obj is not None and obj.user_id == request.user.pk and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    # Duty changes go through the service so waiting tickets are pulled from the pool at once.
    def save_model(self, request, obj, form, change):
        duty_changed = "on_duty" in form.changed_data
        on_duty = obj.on_duty
        if duty_changed and change:
            obj.on_duty = not on_duty  # saved as it was; the service flips it and queues work
        super().save_model(request, obj, form, change)
        if duty_changed and change:
            agent_set_duty(obj.user, on_duty)
            obj.refresh_from_db()

    @admin.action(description=_("Put the selected agents on duty"))
    def go_on_duty(self, request, queryset):
        for profile in queryset.select_related("user"):
            agent_set_duty(profile.user, True)

    @admin.action(description=_("Take the selected agents off duty"))
    def go_off_duty(self, request, queryset):
        for profile in queryset.select_related("user"):
            agent_set_duty(profile.user, False)

    list_filter = ["role", "on_duty", "shops"]
    filter_horizontal = ["shops"]
    list_select_related = ["user"]


class TimelineInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "actor_label", "from_status", "to_status", "message"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    shop_scope = "ticket__shop"
    list_display = ["created_at", "ticket", "kind", "actor_label", "from_status", "to_status"]
    list_filter = ["kind"]
    list_select_related = ["ticket"]
    search_fields = ["actor_label", "message"]
    raw_id_fields = ["ticket", "actor"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(Ticket)
class TicketAdmin(ModelAdmin):
    shop_scope = "shop"
    list_display = [
        "id",
        "shop",
        "tier",
        "status",
        "assignee",
        "sla_state",
        "outcome",
        "outcome_verified",
        "created_at",
    ]
    list_filter = ["status", "tier", "platform", "sla_state", "outcome_verified", "shop"]
    list_select_related = ["shop", "assignee"]
    search_fields = ["review__order_id", "review__content"]
    inlines = [TimelineInline]
    # Status, outcome and assignment change only through the ticket services.
    readonly_fields = [f.name for f in Ticket._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # deleting a ticket would delete its timeline, the audit trail


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 1
    formfield_overrides = STRICT_JSON
    fields = ["date", "kind", "name", "hours"]


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(ModelAdmin):
    list_display = ["name", "timezone"]
    inlines = [CalendarDayInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ModelAdmin):
    shop_scope = "shop"
    list_display = [
        "shop",
        "tier",
        "first_contact_minutes",
        "resolution_minutes",
        "resolution_margin_hours",
        "warning_ratio",
        "breach_action",
        "calendar",
    ]
    list_filter = ["shop", "tier", "breach_action"]
    list_select_related = ["shop", "calendar"]


@admin.register(Notification)
class NotificationAdmin(ModelAdmin):
    list_display = ["created_at", "recipient", "kind", "ticket", "message", "read_at"]
    list_filter = ["kind", "read_at"]
    list_select_related = ["recipient", "ticket"]
    readonly_fields = ["recipient", "ticket", "kind", "message", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(ContactAttempt)
class ContactAttemptAdmin(ReadOnlyAdmin):
    """Logged in the workspace or the API (they stop SLA clocks); never edited here."""

    shop_scope = "ticket__shop"

    list_display = ["id", "ticket", "channel", "result", "agent", "created_at"]
    list_select_related = ["ticket", "agent"]
    raw_id_fields = ["ticket", "agent"]


@admin.register(Remedy)
class RemedyAdmin(ModelAdmin):
    """Remedies are recorded in the workspace; here supervisors approve or reject pending ones."""

    shop_scope = "ticket__shop"

    list_display = ["id", "ticket", "kind", "amount", "status", "requested_status", "offered_by", "decided_by"]
    list_filter = ["status", "kind"]
    list_select_related = ["ticket", "offered_by", "decided_by"]
    readonly_fields = [f.name for f in Remedy._meta.fields]
    actions = ["approve", "reject"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a remedy is part of the audit trail

    def _decide(self, request, queryset, *, approve, reason=""):
        done = 0
        for remedy in queryset.filter(status=RemedyStatus.PENDING_APPROVAL).select_related("ticket"):
            if not can_approve_remedy(request.user, remedy):
                self.message_user(
                    request, _("Not a supervisor of the shop of remedy %(id)s.") % {"id": remedy.pk}, messages.ERROR
                )
                continue
            try:
                remedy_decide(remedy.pk, request.user, approve=approve, reason=reason)
            except TicketActionRefused as exc:
                self.message_user(request, f"#{remedy.pk}: {exc}", messages.ERROR)
                continue
            done += 1
        self.message_user(request, _("%(n)d remedies decided.") % {"n": done})

    @admin.action(description=_("Approve the selected pending remedies"))
    def approve(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("Reject the selected pending remedies"))
    def reject(self, request, queryset):
        # An admin action cannot ask for a reason; the workspace and the API do.
        self._decide(request, queryset, approve=False, reason=str(_("Rejected in the admin.")))


class CauseKeywordRuleInline(admin.TabularInline):
    model = CauseKeywordRule
    extra = 0
    fields = ["keywords", "platform", "priority", "active"]


@admin.register(Cause)
class CauseAdmin(ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "group", "position", "active"]
    list_filter = ["group", "active"]
    list_editable = ["position", "active"]
    search_fields = ["code", "name_zh", "name_en"]
    inlines = [CauseKeywordRuleInline]


@admin.register(CauseKeywordRule)
class CauseKeywordRuleAdmin(ModelAdmin):
    list_display = ["cause", "priority", "platform", "active"]
    list_filter = ["active", "platform", "cause"]
    list_select_related = ["cause"]


@admin.register(CallScript)
class CallScriptAdmin(ModelAdmin):
    """The model's clean() refuses a body that ties a reward to a review."""

    list_display = ["name", "platform", "cause", "active", "updated_at"]
    list_filter = ["active", "platform", "cause"]
    search_fields = ["name", "body"]


@admin.register(CompliancePhrase)
class CompliancePhraseAdmin(ModelAdmin):
    list_display = ["text", "kind", "reason", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["text", "reason"]


@admin.register(FollowUpVisit)
class FollowUpVisitAdmin(ModelAdmin):
    shop_scope = "ticket__shop"
    list_display = ["ticket", "agent", "due_on", "done_at", "reminded_at"]
    list_filter = ["due_on", "done_at"]
    list_select_related = ["ticket", "agent"]
    raw_id_fields = ["ticket", "agent"]

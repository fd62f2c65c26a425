from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .assignment import agent_set_duty
from .models import (
    AgentProfile,
    BusinessCalendar,
    CalendarDay,
    ContactAttempt,
    Notification,
    Remedy,
    SlaPolicy,
    Ticket,
    TicketEvent,
)


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "capacity", "on_duty", "last_assigned_at"]
    actions = ["go_on_duty", "go_off_duty"]

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


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
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


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 1
    fields = ["date", "kind", "name", "hours"]


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone"]
    inlines = [CalendarDayInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
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
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "kind", "ticket", "message", "read_at"]
    list_filter = ["kind", "read_at"]
    list_select_related = ["recipient", "ticket"]
    readonly_fields = ["recipient", "ticket", "kind", "message", "created_at"]

    def has_add_permission(self, request):
        return False


admin.site.register(ContactAttempt)
admin.site.register(Remedy)

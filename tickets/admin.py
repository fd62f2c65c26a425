from django.contrib import admin

from .models import AgentProfile, ContactAttempt, Remedy, Ticket, TicketEvent


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "capacity", "on_duty", "last_assigned_at"]
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


admin.site.register(ContactAttempt)
admin.site.register(Remedy)

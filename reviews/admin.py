from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import ApiKey, Connector, InboundEvent, PersonalToken, Review, Shop


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["name", "external_id", "platform", "ticket_tiers", "dsr_ticket_threshold", "is_active"]
    list_filter = ["platform", "is_active"]
    search_fields = ["name", "external_id"]


class _SecretAdmin(admin.ModelAdmin):
    """Shows a new secret once, right after it is created; only its hash is kept."""

    readonly_fields = ["key_prefix", "created_at", "last_used_at"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        raw = obj.set_new_key() if not change else None
        super().save_model(request, obj, form, change)
        if raw:
            messages.warning(request, _("Copy the key now, it will not be shown again: %(key)s") % {"key": raw})

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, _("%(count)d keys revoked.") % {"count": count})

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the audit trail keeps which key pushed what


@admin.register(ApiKey)
class ApiKeyAdmin(_SecretAdmin):
    list_display = ["name", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["shops"]
    filter_horizontal = ["shops"]
    fields = ["name", "shops", "key_prefix", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(PersonalToken)
class PersonalTokenAdmin(_SecretAdmin):
    list_display = ["name", "user", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    fields = ["name", "user", "key_prefix", "created_at", "last_used_at", "revoked_at"]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["review_id", "shop", "tier", "stars", "state", "rated_at", "order_id"]
    list_filter = ["tier", "state", "platform", "shop"]
    search_fields = ["review_id", "order_id", "content"]
    list_select_related = ["shop"]
    raw_id_fields = ["buyer"]
    date_hierarchy = "rated_at"

    def has_add_permission(self, request):
        return False  # reviews arrive as events so idempotency and tickets stay right


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "event_type", "platform_review_id", "shop", "status", "source", "ticket_id"]
    list_filter = ["status", "event_type", "source", "shop"]
    search_fields = ["platform_review_id", "event_id"]
    list_select_related = ["shop"]
    readonly_fields = [f.name for f in InboundEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ConnectorForm(forms.ModelForm):
    # A stored token is never shown again: the box is always empty; leave it so to keep it.
    token = forms.CharField(
        label=_("access token"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted. Leave empty to keep the current token."),
    )

    class Meta:
        model = Connector
        fields = "__all__"


@admin.register(Connector)
class ConnectorAdmin(admin.ModelAdmin):
    form = ConnectorForm
    list_display = [
        "name",
        "shop",
        "kind",
        "is_enabled",
        "last_success_at",
        "last_fetched_count",
        "fetched_total",
        "consecutive_failures",
        "next_run_at",
    ]
    list_filter = ["kind", "is_enabled"]
    list_select_related = ["shop"]
    readonly_fields = [
        "cursor",
        "last_run_at",
        "last_success_at",
        "last_error",
        "last_error_at",
        "consecutive_failures",
        "last_fetched_count",
        "fetched_total",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "shop",
                    "kind",
                    "feed_url",
                    "token",
                    "page_size",
                    "poll_interval_seconds",
                    "is_enabled",
                    "next_run_at",
                ]
            },
        ),
        (
            _("Status"),
            {
                "fields": [
                    "cursor",
                    "last_run_at",
                    "last_success_at",
                    "last_fetched_count",
                    "fetched_total",
                    "consecutive_failures",
                    "last_error",
                    "last_error_at",
                ]
            },
        ),
    ]

    def save_model(self, request, obj, form, change):
        if change and not form.cleaned_data.get("token"):
            obj.token = Connector.objects.get(pk=obj.pk).token
        super().save_model(request, obj, form, change)

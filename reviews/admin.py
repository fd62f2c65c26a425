from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext_lazy as _

from .connectors.services import connector_test, connectors_pull_now
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
    feed_url = forms.URLField(label=_("feed URL"), max_length=500, assume_scheme="https")
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
        "status",
        "last_success_at",
        "last_fetched_count",
        "fetched_total",
        "consecutive_failures",
        "next_run_at",
    ]
    list_filter = ["kind", "is_enabled"]
    list_select_related = ["shop"]
    actions = ["test_connection", "pull_now"]
    readonly_fields = [
        "status_panel",
        "cursor",
        "last_run_at",
        "last_success_at",
        "last_error",
        "last_error_at",
        "consecutive_failures",
        "last_fetched_count",
        "fetched_total",
    ]
    # What a person configures; status columns belong to the pull service and are never saved from here.
    config_fields = [
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
    fieldsets = [
        (None, {"fields": config_fields}),
        (_("Status"), {"fields": ["status_panel"]}),
        (
            _("Status details"),
            {
                "classes": ["collapse"],
                "fields": [
                    "cursor",
                    "last_run_at",
                    "last_success_at",
                    "last_fetched_count",
                    "fetched_total",
                    "consecutive_failures",
                    "last_error",
                    "last_error_at",
                ],
            },
        ),
    ]
    max_tested_at_once = 10  # each test is a live request that may wait for its timeout

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Saving every column would write back the cursor, lease and counters as they were when the
        # form opened, undoing a pull that ran meanwhile; an empty token box keeps the stored token.
        fields = [name for name in self.config_fields if name != "token" or form.cleaned_data.get("token")]
        obj.save(update_fields=fields)

    @admin.display(description=_("status"))
    def status(self, obj):
        return _connector_state(obj, timezone.now())

    @admin.display(description=_("status"))
    def status_panel(self, obj):
        if obj.pk is None:
            return _("Not run yet.")
        now = timezone.now()
        rows = [
            (_("State"), _connector_state(obj, now)),
            (_("Last run"), _when(obj.last_run_at, now)),
            (_("Last success"), _when(obj.last_success_at, now)),
            (
                _("Items fetched"),
                _("%(last)d in the last run, %(total)d in total")
                % {"last": obj.last_fetched_count, "total": obj.fetched_total},
            ),
            (_("Next run"), _when(obj.next_run_at, now) if obj.is_enabled else _("— (disabled)")),
            (
                _("Last error"),
                _("%(when)s: %(error)s") % {"when": _when(obj.last_error_at, now), "error": obj.last_error}
                if obj.last_error
                else _("none"),
            ),
            (_("Cursor"), obj.cursor or _("(start of the feed)")),
        ]
        body = format_html_join(
            "", '<tr><th style="padding-right:1em">{}</th><td style="white-space:pre-wrap">{}</td></tr>', rows
        )
        return format_html("<table>{}</table>", body)

    @admin.action(description=_("Test connection"), permissions=["change"])
    def test_connection(self, request, queryset):
        connectors = list(queryset.select_related("shop")[: self.max_tested_at_once + 1])
        if len(connectors) > self.max_tested_at_once:
            self.message_user(
                request,
                _("Select at most %(count)d connectors to test at once.") % {"count": self.max_tested_at_once},
                messages.ERROR,
            )
            return
        for connector in connectors:
            check = connector_test(connector.pk)
            level = messages.SUCCESS if check.ok else messages.ERROR
            self.message_user(request, f"{connector}: {check.message}", level)

    @admin.action(description=_("Pull now"), permissions=["change"])
    def pull_now(self, request, queryset):
        selected = list(queryset.values_list("pk", flat=True))
        queued = connectors_pull_now(selected)
        if queued:
            self.message_user(
                request,
                _("Pull queued for %(count)d connectors; the status panel shows the result when it has run.")
                % {"count": len(queued)},
                messages.SUCCESS,
            )
        if len(queued) < len(selected):
            self.message_user(
                request,
                _("%(count)d disabled connectors were skipped; enable them first.")
                % {"count": len(selected) - len(queued)},
                messages.WARNING,
            )


def _connector_state(connector, now):
    if not connector.is_enabled:
        return _("Disabled")
    if connector.lease_until is not None and connector.lease_until > now:
        return _("Running")
    if connector.consecutive_failures:
        return _("Failing: %(count)d failures in a row, backing off") % {"count": connector.consecutive_failures}
    if connector.last_success_at is None:
        return _("Not run yet")
    return _("OK")


def _when(moment, now):
    if moment is None:
        return _("never")
    local = date_format(timezone.localtime(moment), "Y-m-d H:i:s")
    if moment <= now:
        return _("%(time)s (%(ago)s ago)") % {"time": local, "ago": timesince(moment, now, depth=1)}
    return _("%(time)s (in %(left)s)") % {"time": local, "left": timeuntil(moment, now, depth=1)}

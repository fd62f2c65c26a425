from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext_lazy as _

from reviewdesk.admin import ModelAdmin, ReadOnlyAdmin

from .choices import SignMethod
from .connectors.base import ConnectorError
from .connectors.services import connector_test, connectors_pull_now
from .connectors.windowed import WindowCursor
from .models import ApiKey, Connector, InboundEvent, PersonalToken, Review, Shop


@admin.register(Shop)
class ShopAdmin(ModelAdmin):
    shop_scope = "pk"
    list_display = ["name", "external_id", "platform", "ticket_tiers", "dsr_ticket_threshold", "is_active"]
    list_filter = ["platform", "is_active"]
    search_fields = ["name", "external_id"]

    def has_add_permission(self, request):
        return request.user.is_superuser  # a new shop is nobody's until a superuser staffs it


class _SecretAdmin(ModelAdmin):
    """Shows a new secret once, right after it is created; only its hash is kept."""

    # revoked_at is read-only: a revoked key stays revoked (the action revokes).
    readonly_fields = ["key_prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        raw = obj.set_new_key() if not change else None
        super().save_model(request, obj, form, change)
        if raw:
            messages.warning(request, _("Copy the key now, it will not be shown again: %(key)s") % {"key": raw})

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        # Saved one by one, not with update(): saving clears the key from the authentication
        # cache at once (reviews.authentication), where update() left it working for seconds.
        now, count = timezone.now(), 0
        for key in queryset.filter(revoked_at__isnull=True):
            key.revoked_at = now
            key.save(update_fields=["revoked_at"])
            count += 1
        self.message_user(request, _("%(count)d keys revoked.") % {"count": count})

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the audit trail keeps which key pushed what


@admin.register(ApiKey)
class ApiKeyAdmin(_SecretAdmin):
    list_display = ["name", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    shop_scope = "shops"

    def get_queryset(self, request):
        # A key that can also push for a shop outside the person's scope is not theirs to rename
        # or revoke: only keys all of whose shops they work are listed.
        queryset = super().get_queryset(request)
        if not self._scoped(request):
            return queryset
        from reviews.selectors import shop_ids_visible_to

        return queryset.exclude(shops__in=Shop.objects.exclude(pk__in=shop_ids_visible_to(request.user)))

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
class ReviewAdmin(ModelAdmin):
    shop_scope = "shop"
    list_display = ["review_id", "shop", "tier", "stars", "state", "rated_at", "order_id"]
    list_filter = ["tier", "state", "platform", "shop"]
    search_fields = ["review_id", "order_id", "content"]
    list_select_related = ["shop"]
    raw_id_fields = ["buyer"]
    date_hierarchy = "rated_at"

    def has_add_permission(self, request):
        return False  # reviews arrive as events so idempotency and tickets stay right


@admin.register(InboundEvent)
class InboundEventAdmin(ReadOnlyAdmin):
    shop_scope = "shop"
    list_display = ["received_at", "event_type", "platform_review_id", "shop", "status", "source", "ticket_id"]
    list_filter = ["status", "event_type", "source", "shop"]
    search_fields = ["platform_review_id", "event_id"]
    list_select_related = ["shop"]
    readonly_fields = [f.name for f in InboundEvent._meta.fields]


def _write_only(label, help_text):
    # A stored secret is never shown again: the box is always empty; leave it so to keep the secret.
    # Platform keys and tokens are tens of characters; the bound keeps a pasted file out of the row.
    return forms.CharField(
        label=label,
        required=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False),
        help_text=help_text,
    )


class ConnectorForm(forms.ModelForm):
    SECRET_FIELDS = ("token", "app_secret", "message_secret")

    feed_url = forms.URLField(
        label=_("feed or gateway URL"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_("JSON feed: the feed's address. Taobao and JD: leave empty for the platform's gateway."),
    )
    token = _write_only(
        _("access token"), _("Taobao: the session key; JD: the access token. Stored encrypted; leave empty to keep it.")
    )
    sign_method = forms.ChoiceField(
        label=_("signature method"),
        choices=SignMethod.choices,
        required=False,
        initial=SignMethod.MD5,
        help_text=_("Taobao: as set for the app on the open platform (JD always uses MD5)."),
    )
    app_secret = _write_only(_("app secret"), _("Stored encrypted. Leave empty to keep the current secret."))
    message_secret = _write_only(
        _("message secret"),
        _("Signs the rating messages Taobao pushes to ReviewDesk. Stored encrypted; leave empty to keep it."),
    )

    class Meta:
        model = Connector
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in self.SECRET_FIELDS:
                self.initial.pop(name, None)

    def clean_sign_method(self):
        return self.cleaned_data.get("sign_method") or SignMethod.MD5

    def clean(self):
        cleaned = super().clean()
        # An empty secret box keeps the stored secret, also for the model's validation.
        if self.instance.pk:
            stored = Connector.objects.filter(pk=self.instance.pk).values(*self.SECRET_FIELDS).first() or {}
            for name in self.SECRET_FIELDS:
                if not cleaned.get(name):
                    cleaned[name] = stored.get(name, "")
        return cleaned


@admin.register(Connector)
class ConnectorAdmin(ModelAdmin):
    shop_scope = "shop"
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
    change_form_template = "admin/reviews/connector/change_form.html"
    readonly_fields = [
        "test_connection_button",
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
        "app_key",
        "app_secret",
        "token",
        "sign_method",
        "message_secret",
        "page_size",
        "poll_interval_seconds",
        "is_enabled",
        "next_run_at",
    ]
    fieldsets = [
        (None, {"fields": config_fields}),
        (_("Status"), {"fields": ["test_connection_button", "status_panel"]}),
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
        secrets = ConnectorForm.SECRET_FIELDS
        fields = [name for name in self.config_fields if name not in secrets or form.data.get(name)]
        obj.save(update_fields=fields)

    def get_urls(self):
        custom = [
            path(
                "<int:object_id>/test-connection/",
                self.admin_site.admin_view(self.test_connection_view),
                name="reviews_connector_test_connection",
            )
        ]
        return custom + super().get_urls()

    def test_connection_view(self, request, object_id):
        """The change page's "Test connection" button: one live request, the answer as a message."""
        connector = self.get_object(request, object_id)
        if connector is None or not self.has_change_permission(request, connector):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        check = connector_test(connector.pk)
        self.message_user(request, f"{connector}: {check.message}", messages.SUCCESS if check.ok else messages.ERROR)
        return redirect(reverse("admin:reviews_connector_change", args=[connector.pk]))

    @admin.display(description=_("test connection"))
    def test_connection_button(self, obj):
        if obj.pk is None:
            return _("Save the connector first.")
        url = reverse("admin:reviews_connector_test_connection", args=[obj.pk])
        return format_html(
            '<button type="submit" form="connector-test-form" formaction="{}" formmethod="post" '
            'class="button">{}</button> <span class="help">{}</span>',
            url,
            _("Test connection"),
            _("Makes one signed request with the saved settings; stores nothing."),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if str(object_id).isdigit():
            extra_context["test_connection_url"] = reverse("admin:reviews_connector_test_connection", args=[object_id])
        return super().change_view(request, object_id, form_url, extra_context)

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
            (_("Cursor"), _cursor_text(obj)),
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


def _cursor_text(connector):
    if not connector.cursor:
        return _("(start of the feed)")
    if connector.kind == "json_feed":
        return connector.cursor
    try:
        state = WindowCursor.loads(connector.cursor)
    except ConnectorError:
        return connector.cursor
    text = _("Reviews created %(since)s … %(through)s are stored (window %(win)s s).") % {
        "since": date_format(timezone.localtime(state.since), "Y-m-d H:i:s"),
        "through": date_format(timezone.localtime(state.through), "Y-m-d H:i:s"),
        "win": state.win,
    }
    if state.backfill:
        text += " " + _("Backfilling %(start)s … %(until)s.") % {
            "start": date_format(timezone.localtime(state.backfill[0]), "Y-m-d H:i:s"),
            "until": date_format(timezone.localtime(state.backfill[1]), "Y-m-d H:i:s"),
        }
    if state.revised_at:
        text += " " + _("Revisions last checked %(when)s.") % {
            "when": date_format(timezone.localtime(state.revised_at), "Y-m-d H:i:s")
        }
    return text


def _when(moment, now):
    if moment is None:
        return _("never")
    local = date_format(timezone.localtime(moment), "Y-m-d H:i:s")
    if moment <= now:
        return _("%(time)s (%(ago)s ago)") % {"time": local, "ago": timesince(moment, now, depth=1)}
    return _("%(time)s (in %(left)s)") % {"time": local, "left": timeuntil(moment, now, depth=1)}

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from reviewdesk.admin import ModelAdmin, ReadOnlyAdmin

from .forms import tag_choices
from .models import Buyer, BuyerNote, BuyerStats, ContactEtiquette, PersonalDataReveal


class BuyerStatsInline(admin.StackedInline):
    model = BuyerStats
    can_delete = False
    readonly_fields = [f.name for f in BuyerStats._meta.fields if f.name != "buyer"]

    def has_add_permission(self, request, obj=None):
        return False


class BuyerNoteInline(admin.TabularInline):
    model = BuyerNote
    extra = 0
    fields = ["created_at", "author", "tags", "text"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Buyer)
class BuyerAdmin(ModelAdmin):
    shop_scope = "reviews__shop"

    def lookup_allowed(self, lookup, value, request=None):
        # A list takes lookups on the model's own fields from the URL: `?nick__regex=^王` would
        # reveal a masked nick a character at a time, without a reason or an audit row.
        if lookup.split("__")[0] in ("nick", "phone"):
            return False
        return super().lookup_allowed(lookup, value, request)

    list_display = [
        "open_id",
        "platform",
        "masked_nick",
        "masked_phone",
        "region",
        "risk_level",
        "risk_score",
        "list_mark",
        "last_seen_at",
    ]
    list_filter = ["platform", "risk_level", "list_mark"]
    search_fields = ["open_id"]
    # Personal data stays masked here as everywhere; revealing it is an audited action (buyer page).
    # List marks go through the buyer page so the risk is re-assessed and the supervisor recorded.
    exclude = ["nick", "phone", "risk_reasons"]
    readonly_fields = [
        "masked_nick",
        "masked_phone",
        "first_seen_at",
        "last_seen_at",
        "risk_level",
        "risk_score",
        "risk_reason_list",
        "risk_assessed_at",
        "list_mark",
        "list_mark_reason",
        "list_mark_by",
        "list_mark_at",
    ]
    inlines = [BuyerStatsInline, BuyerNoteInline]

    @admin.display(description=_("risk reasons"))
    def risk_reason_list(self, obj):
        return "; ".join(obj.risk_reason_texts)


class BuyerNoteAdminForm(forms.ModelForm):
    # Tags are codes from the temperament list (as on the buyer page), not free JSON.
    tags = forms.MultipleChoiceField(
        label=_("tags"), required=False, choices=tag_choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = BuyerNote
        fields = "__all__"


@admin.register(BuyerNote)
class BuyerNoteAdmin(ModelAdmin):
    shop_scope = "buyer__reviews__shop"
    form = BuyerNoteAdminForm
    list_display = ["buyer", "author", "tags", "created_at"]
    list_select_related = ["buyer", "author"]
    raw_id_fields = ["buyer", "author"]
    date_hierarchy = "created_at"


@admin.register(PersonalDataReveal)
class PersonalDataRevealAdmin(ReadOnlyAdmin):
    """The audit trail: read-only, never edited or deleted here."""

    shop_scope = "buyer__reviews__shop"

    list_display = ["created_at", "user_label", "buyer", "field", "reason", "ticket_id"]
    list_filter = ["field"]
    list_select_related = ["buyer"]
    search_fields = ["user_label", "buyer__open_id", "reason"]
    date_hierarchy = "created_at"


@admin.register(ContactEtiquette)
class ContactEtiquetteAdmin(ModelAdmin):
    shop_scope = "shop"
    list_display = [
        "shop",
        "max_attempts_per_day",
        "min_minutes_between_calls",
        "quiet_hours_start",
        "quiet_hours_end",
        "default_time_zone",
    ]
    list_select_related = ["shop"]

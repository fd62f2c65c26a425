"""Admin pieces shared by the apps."""

import json
import math
import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import DataError, models, transaction
from django.forms.fields import InvalidJSONInput
from django.utils.translation import gettext_lazy as _

_SURROGATE = re.compile("[\ud800-\udfff]")


def _unstorable(value):
    """Why PostgreSQL's jsonb would refuse `value` (an error code), or None. Iterative: the
    parser allows nesting deeper than a recursive walk would."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return "null_characters_not_allowed"
            if _SURROGATE.search(item):
                return "surrogate"
        elif isinstance(item, float) and not math.isfinite(item):
            return "invalid"  # NaN and Infinity are not JSON
    return None


class StrictJSONField(forms.JSONField):
    """The admin's JSON box for a jsonb column: what PostgreSQL cannot store (NUL, an unpaired
    surrogate, NaN, Infinity) and nesting too deep for the parser are form errors, not a 500."""

    default_error_messages = {
        "null_characters_not_allowed": ProhibitNullCharactersValidator.message,
        "surrogate": _("Text must not contain unpaired surrogate characters."),
    }

    def to_python(self, value):
        try:
            converted = super().to_python(value)
        except RecursionError:
            raise ValidationError(self.error_messages["invalid"], code="invalid", params={"value": value}) from None
        problem = _unstorable(converted)
        if problem:
            raise ValidationError(self.error_messages[problem], code=problem, params={"value": value})
        return converted

    def bound_data(self, data, initial):
        # The form shown again keeps the text as typed: decoded, a surrogate could not be rendered.
        if self.disabled:
            return initial
        if data is None:
            return None
        try:
            value = json.loads(data, cls=self.decoder)
        except (json.JSONDecodeError, RecursionError):
            return InvalidJSONInput(data)
        return InvalidJSONInput(data) if _unstorable(value) else value


# formfield_overrides of the ModelAdmin below; an inline with a JSON column needs it too.
STRICT_JSON = {models.JSONField: {"form_class": StrictJSONField}}


class _ChangeList(ChangeList):
    def get_filters(self, request):
        # Django refuses a drill-down date that does not exist (ValueError) but not one past
        # 9999-12-31 or a year too large for a C long (OverflowError): both are bad parameters.
        try:
            return super().get_filters(request)
        except OverflowError as exc:
            raise IncorrectLookupParameters(exc) from exc

    def get_results(self, request):
        # A list takes any lookup on its own fields from the query string and Django only builds
        # the query from it: `?created_at__year=99999` fails when the bounds are computed, and
        # `?id__regex=(` when PostgreSQL runs it. Both are bad parameters (?e=1), not a 500.
        try:
            with transaction.atomic():  # a savepoint: the failed query must not end the request's transaction
                super().get_results(request)
        except (ValueError, OverflowError, DataError) as exc:
            raise IncorrectLookupParameters(exc) from exc


def _is_shop(field):
    return field.related_model is not None and field.related_model._meta.label == "reviews.Shop"


class ModelAdmin(admin.ModelAdmin):
    """The apps' ModelAdmin: bad input (in a JSON box, a list's date drill-down, the selection an
    action runs on) is refused with a message, never a 500.

    Shop scoping, as on every page and endpoint: for anyone but a superuser a list and its change
    pages hold only the rows of the shops the person works (`shop_scope`: the lookup from the
    model to its shop, e.g. "shop", "ticket__shop", "shops"), and a shop picked in a form is one
    they supervise. A row that also belongs to shops outside their scope keeps those shops when
    they save it. Models without `shop_scope` are the superuser's configuration, and no group
    gets permissions on them."""

    formfield_overrides = STRICT_JSON
    shop_scope = None

    def _scoped(self, request):
        return self.shop_scope is not None and not request.user.is_superuser

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not self._scoped(request):
            return queryset
        from reviews.selectors import shop_ids_visible_to

        visible = shop_ids_visible_to(request.user)
        if self.shop_scope == "pk":
            return queryset.filter(pk__in=visible)
        # An id subquery rather than .distinct(): a many-to-many or reverse lookup repeats rows.
        matching = self.model._default_manager.filter(**{f"{self.shop_scope}__in": visible}).values("pk")
        return queryset.filter(pk__in=matching)

    def _pickable_shops(self, request):
        """The shops the person may pick in a form: those they supervise (read once a request)."""
        if not hasattr(request, "_pickable_shop_ids"):
            from tickets.selectors import supervised_shop_ids

            request._pickable_shop_ids = supervised_shop_ids(request.user)
        return request._pickable_shop_ids

    def _shop_choices(self, db_field, request, kwargs):
        if self._scoped(request) and _is_shop(db_field):
            from reviews.models import Shop

            kwargs["queryset"] = Shop.objects.filter(pk__in=self._pickable_shops(request))
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, **self._shop_choices(db_field, request, kwargs))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return super().formfield_for_manytomany(db_field, request, **self._shop_choices(db_field, request, kwargs))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        names = [f.name for f in self.model._meta.many_to_many if _is_shop(f)]
        if not names or not self._scoped(request):
            return form
        pickable = self._pickable_shops(request)

        class ShopScopedForm(form):
            # The row's shops outside the person's scope are not shown as chosen (they are not
            # choices either); save_related keeps them.
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                for name in names:
                    if name in self.initial:
                        self.initial[name] = [s for s in self.initial[name] if getattr(s, "pk", s) in pickable]

        return ShopScopedForm

    def save_related(self, request, form, formsets, change):
        # The form offered only the person's own shops: the row's other shops are kept, not dropped.
        kept = {}
        if change and self._scoped(request):
            pickable = self._pickable_shops(request)
            for field in self.model._meta.many_to_many:
                if _is_shop(field) and field.name in form.cleaned_data:
                    current = getattr(form.instance, field.name).values_list("pk", flat=True)
                    kept[field.name] = [pk for pk in current if pk not in pickable]
        super().save_related(request, form, formsets, change)
        for name, pks in kept.items():
            getattr(form.instance, name).add(*pks)

    def get_changelist(self, request, **kwargs):
        return _ChangeList

    def response_action(self, request, queryset):
        # Django filters on the posted ids as they are: one that is not an id (a forged form)
        # would raise in the query instead of being refused.
        to_python = self.model._meta.pk.to_python
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                to_python(value)
        except ValidationError:
            self.message_user(request, _("The selection is not valid; no items have been changed."), messages.ERROR)
            return None
        return super().response_action(request, queryset)


class ReadOnlyAdmin(ModelAdmin):
    """Audit records (the event log, timelines, contact attempts, personal-data reveals): viewable,
    never added, changed or deleted in the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

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


class ModelAdmin(admin.ModelAdmin):
    """The apps' ModelAdmin: bad input (in a JSON box, a list's date drill-down, the selection an
    action runs on) is refused with a message, never a 500."""

    formfield_overrides = STRICT_JSON

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

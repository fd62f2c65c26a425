"""One FilterSet for tickets, shared by the API list and (later) the HTML queue."""

import datetime as dt

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from contacts.models import Buyer
from reviews.choices import Platform, Tier
from reviews.models import Review

from .choices import Outcome, SlaState, TicketStatus
from .models import Ticket


class DateOrDateTimeField(forms.Field):
    """An ISO date (a whole day in the installation's time zone) or an ISO date-time."""

    default_error_messages = {"invalid": "Enter an ISO date (2026-03-02) or date-time (2026-03-02T10:15:00+08:00)."}

    def to_python(self, value):
        if value in (None, ""):
            return None
        value = value.strip()
        # A date first: parse_datetime also reads "2026-03-02" (as midnight), which would make a
        # date bound a point in time instead of the whole day.
        try:
            day = parse_date(value)
        except ValueError:
            day = None
        if day is not None:
            return ("date", day)
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        try:
            # PostgreSQL refuses offsets beyond ±15:59 that Python accepts; compare in UTC.
            return ("datetime", parsed.astimezone(dt.UTC))
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


@extend_schema_field(OpenApiTypes.STR)
class DateOrDateTimeFilter(django_filters.Filter):
    field_class = DateOrDateTimeField

    def __init__(self, *args, bound, **kwargs):
        self.bound = bound  # "after" or "before"; a date bound covers its whole day
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        kind, when = value
        if kind == "date":
            start = timezone.make_aware(dt.datetime.combine(when, dt.time.min))
            if self.bound == "after":
                return qs.filter(created_at__gte=start)
            if when == dt.date.max:
                return qs  # the day after cannot be represented; nothing is later anyway
            return qs.filter(created_at__lt=start + dt.timedelta(days=1))
        return qs.filter(created_at__gte=when) if self.bound == "after" else qs.filter(created_at__lte=when)


class AssigneeFilter(django_filters.CharFilter):
    """`me`, `none`, or a user id."""

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        if value == "none":
            return qs.filter(assignee__isnull=True)
        if value == "me":
            user = getattr(self.parent.request, "user", None)
            return qs.filter(assignee_id=user.pk) if user is not None and user.pk else qs.none()
        return qs.filter(assignee_id=int(value))


def _assignee_valid(value):
    # isascii: str.isdigit() is also true for "²", which int() refuses.
    if value not in ("me", "none") and not (value.isascii() and value.isdigit()):
        raise forms.ValidationError(_("Use a user id, “me” or “none”."))


def labelled_errors(errors, labels):
    """[(parameter, its label in the reader's language, problem)] of {parameter: [problems]}:
    pages name a bad filter as their form names it, not by its query parameter."""
    return [(name, labels.get(name, name), problem) for name, problems in errors.items() for problem in problems]


def filterset_errors(filterset):
    """labelled_errors of a bound filterset (none when it is unbound)."""
    if not filterset.is_bound:
        return []
    labels = {name: field.label for name, field in filterset.form.fields.items()}
    return labelled_errors(filterset.errors, labels)


class _BlankTolerantMultipleChoiceField(django_filters.fields.MultipleChoiceField):
    """`?status=` with no value means no status filter, as an empty `?tier=` means no tier filter
    (clients that send every parameter send the unused ones blank)."""

    def clean(self, value):
        return super().clean([v for v in value or [] if v != ""])


class _StatusFilter(django_filters.MultipleChoiceFilter):
    field_class = _BlankTolerantMultipleChoiceField


class TicketFilter(django_filters.FilterSet):
    # distinct=False: a status is a column of the ticket itself, so no join can repeat a row.
    # Labels set here: django-filter derives a missing one from the model once, and a derivation
    # before the model was bound left "None" beside a bad value on the list pages.
    status = _StatusFilter(choices=TicketStatus.choices, distinct=False, label=gettext_lazy("Status"))
    assignee = AssigneeFilter(validators=[_assignee_valid], label=gettext_lazy("Assignee"))
    shop = django_filters.CharFilter(field_name="shop__external_id", label=gettext_lazy("Shop"))
    platform = django_filters.ChoiceFilter(choices=Platform.choices, label=gettext_lazy("Platform"))
    tier = django_filters.ChoiceFilter(choices=Tier.choices, label=gettext_lazy("Tier"))
    cause = django_filters.CharFilter(label=gettext_lazy("Cause"))
    sla = django_filters.ChoiceFilter(field_name="sla_state", choices=SlaState.choices, label=gettext_lazy("SLA"))
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices, label=gettext_lazy("Outcome"))
    verified = django_filters.TypedChoiceFilter(
        label=gettext_lazy("Verified"),
        field_name="outcome_verified",
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda v: v == "true",
    )
    created_after = DateOrDateTimeFilter(bound="after", label=gettext_lazy("Created after"))
    created_before = DateOrDateTimeFilter(bound="before", label=gettext_lazy("Created before"))
    q = django_filters.CharFilter(method="search", max_length=200, label=gettext_lazy("Search"))

    class Meta:
        model = Ticket
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # Each table is searched on its own, in a correlated EXISTS rather than `IN (…)`: for an
        # EXISTS inside an OR PostgreSQL plans both a probe per ticket row and one hashed scan
        # of the matching ids (where the trigram indexes serve) and keeps the cheaper for the
        # row count. An agent's queue of ~30 tickets then probes 30 reviews by primary key
        # (0.4 ms) instead of scanning every review (over 300 ms at 200,000; bench/pages.py).
        reviews = Review.objects.filter(pk=OuterRef("review_id")).filter(
            Q(order_id__icontains=value) | Q(content__icontains=value)
        )
        buyers = Buyer.objects.filter(pk=OuterRef("review__buyer_id"), nick__icontains=value)
        return queryset.filter(Exists(reviews) | Exists(buyers))

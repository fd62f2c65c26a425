"""The supervisor's audit log (issue 7): one read-only, filterable, paginated list of who did what,
scoped to the shops the caller supervises.

Three sources, merged in the database with UNION ALL and sorted by time, so a page costs the
same few queries whatever the number of rows:
- ticket changes: every TicketEvent (status changes, assignments, remedies and their approvals,
  outcome claims and verifications, notes…), actor and time as the timeline recorded them;
- personal-data reveals (contacts.PersonalDataReveal) of buyers who reviewed a supervised shop;
- API key use: accepted push events (reviews.InboundEvent, which records the key) per key, shop
  and day, with the count and the last event's time.

The page is GET only; nothing here writes, and the admin shows these models read-only.
"""

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Concat, TruncDate
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from contacts.models import PersonalDataReveal, RevealField
from reviews.models import InboundEvent, Review, Shop

from .choices import TicketStatus, TimelineKind
from .models import AgentProfile, Ticket, TicketEvent
from .phrases import actor_name
from .phrases import render as render_phrase
from .selectors import supervised_shop_ids

PAGE_SIZE = 50
DEFAULT_DAYS = 30
SOURCE_TICKET, SOURCE_REVEAL, SOURCE_KEY_USE = "ticket", "reveal", "api_key"
KIND_REVEAL, KIND_KEY_USE = "personal_data_reveal", "api_key_use"
# Annotation names (prefixed so they cannot clash with a model field) and the keys a page row uses.
COLUMNS = (
    "entry_at",
    "entry_source",
    "entry_kind",
    "entry_actor",
    "shop_ref",
    "ticket_ref",
    "entry_detail",
    "entry_extra",
    "entry_ref",
    "entry_count",
)
ROW_KEYS = ("at", "source", "kind", "actor", "shop_ref", "ticket_ref", "detail", "extra", "ref", "n")


def kind_choices():
    return [
        ("", gettext_lazy("All")),
        (KIND_REVEAL, gettext_lazy("Personal data reveal")),
        (KIND_KEY_USE, gettext_lazy("API key use")),
        *TimelineKind.choices,
    ]


class AuditFilterForm(forms.Form):
    date_from = forms.DateField(label=gettext_lazy("From"), required=False)
    date_to = forms.DateField(label=gettext_lazy("To"), required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False)
    actor = forms.CharField(label=gettext_lazy("Actor"), required=False, max_length=150)
    shop = forms.TypedChoiceField(label=gettext_lazy("Shop"), required=False, coerce=int, empty_value=None)
    ticket = forms.IntegerField(label=gettext_lazy("Ticket"), required=False, min_value=1)

    def __init__(self, *args, shops, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kind_choices()
        self.fields["shop"].choices = [("", _("All shops"))] + [(shop.pk, shop.name) for shop in shops]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if end == dt.date.max:  # the list runs up to the start of the next day, which would not exist
            self.add_error("date_to", _("Enter a date before 9999-12-31."))
        elif start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


def _text(value):
    return Value(value, output_field=CharField())


def _null_int():
    return Value(None, output_field=BigIntegerField())


def _ticket_changes(shop_ids, f, start, end):
    qs = TicketEvent.objects.filter(ticket__shop_id__in=shop_ids, created_at__gte=start, created_at__lt=end)
    if f["kind"] and f["kind"] not in (KIND_REVEAL, KIND_KEY_USE):
        qs = qs.filter(kind=f["kind"])
    if f["actor"]:
        qs = qs.filter(actor_label__icontains=f["actor"])
    if f["shop"]:
        qs = qs.filter(ticket__shop_id=f["shop"])
    if f["ticket"]:
        qs = qs.filter(ticket_id=f["ticket"])
    return (
        qs.annotate(
            entry_at=F("created_at"),
            entry_source=_text(SOURCE_TICKET),
            entry_kind=Cast("kind", CharField()),
            entry_actor=F("actor_label"),
            shop_ref=F("ticket__shop_id"),
            ticket_ref=F("ticket_id"),
            entry_detail=F("message"),
            entry_extra=Concat(F("from_status"), _text("→"), F("to_status"), output_field=CharField()),
            entry_ref=F("id"),
            entry_count=Value(1, output_field=IntegerField()),
        )
        .order_by()
        .values_list(*COLUMNS)
    )


def _reveals(shop_ids, f, start, end):
    reviewed_in = Review.objects.filter(
        buyer_id=OuterRef("buyer_id"), shop_id__in=[f["shop"]] if f["shop"] else shop_ids
    )
    # A buyer can review several desks' shops: a reveal is this desk's business when it was made
    # on one of its tickets, by someone who works one of its shops, or by a superuser, not when
    # another shop's supervisor looked (their reason is theirs).
    by_colleague = AgentProfile.objects.filter(user_id=OuterRef("user_id"), shops__in=shop_ids)
    on_our_ticket = Ticket.objects.filter(pk=OuterRef("ticket_id"), shop_id__in=shop_ids)
    qs = PersonalDataReveal.objects.filter(
        Exists(reviewed_in),
        Exists(by_colleague) | Exists(on_our_ticket) | Q(user__is_superuser=True),
        created_at__gte=start,
        created_at__lt=end,
    )
    if f["actor"]:
        qs = qs.filter(user_label__icontains=f["actor"])
    if f["ticket"]:
        qs = qs.filter(ticket_id=f["ticket"])
    ticket_shop = Ticket.objects.filter(pk=OuterRef("ticket_id")).values("shop_id")[:1]
    return (
        qs.annotate(
            entry_at=F("created_at"),
            entry_source=_text(SOURCE_REVEAL),
            entry_kind=_text(KIND_REVEAL),
            entry_actor=F("user_label"),
            shop_ref=Subquery(ticket_shop, output_field=BigIntegerField()),
            ticket_ref=F("ticket_id"),
            entry_detail=F("reason"),
            entry_extra=Cast("field", CharField()),
            entry_ref=F("buyer_id"),
            entry_count=Value(1, output_field=IntegerField()),
        )
        .order_by()
        .values_list(*COLUMNS)
    )


def _api_key_use(shop_ids, f, start, end):
    qs = InboundEvent.objects.filter(
        api_key__isnull=False, shop_id__in=shop_ids, received_at__gte=start, received_at__lt=end
    )
    if f["actor"]:
        qs = qs.filter(api_key__name__icontains=f["actor"])
    if f["shop"]:
        qs = qs.filter(shop_id=f["shop"])
    return (
        qs.annotate(day=TruncDate("received_at", tzinfo=timezone.get_current_timezone()))
        .values("api_key_id", "shop_id", "day", "api_key__name")
        .annotate(
            entry_at=Max("received_at"),
            entry_source=_text(SOURCE_KEY_USE),
            entry_kind=_text(KIND_KEY_USE),
            entry_actor=F("api_key__name"),
            shop_ref=F("shop_id"),
            ticket_ref=_null_int(),
            entry_detail=_text(""),
            entry_extra=_text(""),
            entry_ref=F("api_key_id"),
            entry_count=Count("id"),
        )
        .order_by()
        .values_list(*COLUMNS)
    )


def audit_entries(shop_ids, filters, start, end):
    """The merged, newest-first entries as tuples of COLUMNS (a lazy queryset)."""
    kind = filters["kind"]
    parts = []
    if kind not in (KIND_REVEAL, KIND_KEY_USE):
        parts.append(_ticket_changes(shop_ids, filters, start, end))
    if kind in ("", KIND_REVEAL):
        parts.append(_reveals(shop_ids, filters, start, end))
    if kind in ("", KIND_KEY_USE) and not filters["ticket"]:
        parts.append(_api_key_use(shop_ids, filters, start, end))
    first, *rest = parts
    # Each part drops its model's default ordering: only the merged list is sorted.
    merged = first.union(*rest, all=True) if rest else first
    return merged.order_by("-entry_at", "-entry_ref")


def _day_start(day):
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@require_safe
@login_required
def audit_log(request):
    """Supervisors only; an agent gets 403."""
    shop_ids = supervised_shop_ids(request.user)
    if not shop_ids:
        raise PermissionDenied(_("This page is for supervisors."))
    shops = list(Shop.objects.filter(pk__in=shop_ids).order_by("name").only("pk", "name"))
    today = timezone.localdate()
    form = AuditFilterForm(request.GET or None, shops=shops)
    filters = {"date_from": None, "date_to": None, "kind": "", "actor": "", "shop": None, "ticket": None}
    if form.is_bound and form.is_valid():
        filters.update({k: v for k, v in form.cleaned_data.items() if v not in (None, "")})
    date_from = filters["date_from"] or today - dt.timedelta(days=DEFAULT_DAYS)
    date_to = filters["date_to"] or today
    page = None
    if not form.is_bound or form.is_valid():
        entries = audit_entries(shop_ids, filters, _day_start(date_from), _day_start(date_to + dt.timedelta(days=1)))
        page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
        shop_names = {shop.pk: shop.name for shop in shops}
        kind_labels = dict(kind_choices())
        field_labels = dict(RevealField.choices)
        status_labels = dict(TicketStatus.choices)
        page.object_list = [
            _entry(row, shop_names, kind_labels, field_labels, status_labels) for row in page.object_list
        ]
        _say_in_readers_language(page.object_list)
    return render(
        request,
        "audit/audit_log.html",
        {
            "form": form,
            "page": page,
            "date_from": date_from,
            "date_to": date_to,
        },
    )


def _say_in_readers_language(entries):
    """Ticket changes are listed with their message as written; print each again in the reader's
    language from its phrase (one query for the page)."""
    ticket_entries = [entry for entry in entries if entry["source"] == SOURCE_TICKET]
    if not ticket_entries:
        return
    phrases = dict(
        TicketEvent.objects.filter(pk__in=[entry["ref"] for entry in ticket_entries], phrase__isnull=False).values_list(
            "pk", "phrase"
        )
    )
    for entry in ticket_entries:
        entry["detail"] = render_phrase(phrases.get(entry["ref"]), entry["detail"])
        entry["actor"] = actor_name(entry["actor"])


def _entry(row, shop_names, kind_labels, field_labels, status_labels):
    entry = dict(zip(ROW_KEYS, row, strict=True))
    entry["kind_label"] = kind_labels.get(entry["kind"], entry["kind"])
    entry["shop_name"] = shop_names.get(entry["shop_ref"], "")
    if entry["source"] == SOURCE_REVEAL:
        entry["field_label"] = field_labels.get(entry["extra"], entry["extra"])
    if entry["source"] == SOURCE_TICKET:
        # "from→to" status codes, shown as the reader's labels; empty when the status did not change.
        before, _arrow, after = entry["extra"].partition("→")
        entry["extra"] = f"{status_labels.get(before, before)} → {status_labels.get(after, after)}" if after else ""
    return entry

"""Streaming CSV exports: any statistics breakdown, and the filtered ticket list.

UTF-8 with a byte-order mark, so Excel opens Chinese text correctly. Rows are written as they
are read: tickets come through a server-side cursor (`iterator(chunk_size=…)`), never the whole
set in memory, so 200,000 rows stream in constant memory. A breakdown's figures are the same
values the API returns and the dashboard shows (tickets.stats)."""

import csv

from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import RemedyStatus
from .models import Remedy

BOM = "\ufeff"
TICKET_CHUNK = 2000


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value):
        return value


def csv_response(filename, header, rows):
    """A StreamingHttpResponse of `header` then `rows` (any iterable), UTF-8 with BOM."""
    writer = csv.writer(_Echo())

    def stream():
        yield BOM + writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


# Breakdowns --------------------------------------------------------------------------------

BREAKDOWN_COLUMNS = (
    ("key", "key"),
    ("label", "label"),
    ("opened", "opened"),
    ("closed", "closed"),
    ("first_contact_sla_met_rate", "first_contact_sla_met_rate"),
    ("median_minutes_to_first_contact", "median_minutes_to_first_contact"),
    ("p90_minutes_to_first_contact", "p90_minutes_to_first_contact"),
    ("resolution_rate", "resolution_rate"),
    ("verified_resolution_rate", "verified_resolution_rate"),
    ("remedy_cost_total", "remedy_cost_total"),
    ("remedy_cost_per_revision", "remedy_cost_per_revision"),
    ("first_contact_due", "first_contact_due"),
    ("first_contact_met", "first_contact_met"),
    ("resolved", "resolved"),
    ("verified_resolved", "verified_resolved"),
    ("revised", "revised"),
)
BACKLOG_COLUMNS = ("open", "breached", "<4h", "4-24h", "1-3d", ">3d")


def breakdown_csv(query, by, rows):
    """The rows of tickets.stats.breakdown(query, by) as CSV: the API's keys as column names (so a
    spreadsheet and a script read the same file), rates as fractions, money with two decimals."""
    with_backlog = by != "day"
    header = [name for name, _key in BREAKDOWN_COLUMNS]
    if with_backlog:
        header += [f"backlog_{name}" for name in BACKLOG_COLUMNS]

    def lines():
        for row in rows:
            line = [_cell(row[key]) for _name, key in BREAKDOWN_COLUMNS]
            if with_backlog:
                backlog = row["backlog"]
                line += [backlog["open"], backlog["breached"], *(backlog["by_age"][b] for b in BACKLOG_COLUMNS[2:])]
            yield line

    filename = f"reviewdesk-{by}-{query.date_from.isoformat()}-{query.date_to.isoformat()}.csv"
    return csv_response(filename, header, lines())


# Tickets -----------------------------------------------------------------------------------


def ticket_export_columns():
    """(header, value of a row dict) of the ticket list export."""
    return (
        (_("Ticket"), "id"),
        (_("Opened"), "created_at"),
        (_("Status"), "status"),
        (_("Shop"), "shop__external_id"),
        (_("Shop name"), "shop__name"),
        (_("Platform"), "platform"),
        (_("Tier"), "tier"),
        (_("Assignee"), "assignee__username"),
        (_("Cause"), "cause"),
        (_("Outcome"), "outcome"),
        (_("Verified"), "outcome_verified"),
        (_("SLA"), "sla_state"),
        (_("First contact due"), "first_contact_due_at"),
        (_("First contact"), "first_contact_at"),
        (_("Business minutes to first contact"), "first_contact_business_minutes"),
        (_("First reached"), "first_reached_at"),
        (_("Closed"), "closed_at"),
        (_("Review id"), "review__review_id"),
        (_("Order id"), "review__order_id"),
        (_("SKU"), "review__item_sku"),
        (_("Item"), "review__item_title"),
        (_("Stars"), "review__stars"),
        (_("Accepted remedies"), "accepted_remedy_total"),
    )


def tickets_csv(queryset, filename="reviewdesk-tickets.csv"):
    """Stream the tickets of `queryset` (already scoped and filtered) as CSV, newest first."""
    columns = ticket_export_columns()
    accepted = (
        Remedy.objects.filter(ticket=OuterRef("pk"), status=RemedyStatus.ACCEPTED)
        .order_by()
        .values("ticket")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money = DecimalField(max_digits=12, decimal_places=2)
    rows = (
        queryset.order_by("-id")
        .annotate(accepted_remedy_total=Coalesce(Subquery(accepted, output_field=money), Value(0, money)))
        .values(*[key for _header, key in columns])
    )
    tz = timezone.get_current_timezone()

    def lines():
        for row in rows.iterator(chunk_size=TICKET_CHUNK):
            line = []
            for _header, key in columns:
                value = row[key]
                if hasattr(value, "astimezone"):
                    value = value.astimezone(tz).isoformat(timespec="seconds")
                elif key == "accepted_remedy_total":
                    value = f"{value:.2f}"
                line.append(_cell(value))
            yield line

    return csv_response(filename, [header for header, _key in columns], lines())

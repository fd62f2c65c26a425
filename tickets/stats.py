"""Supervisor statistics (DESIGN.md § Metrics, docs/metrics.md): one definition, computed in SQL,
read by the dashboard, the statistics API and the CSV exports, so the three always agree.

Every figure is a handful of grouped aggregate queries whatever the number of tickets: counts with
FILTER clauses, percentile_cont on PostgreSQL (SQLite, the local desk, computes the percentiles of
the already-filtered minutes in Python), and rates, rounding and money formatting on the grouped
rows only. Time to first contact is read from `Ticket.first_contact_business_minutes`, stored
when the first attempt is logged, so no calendar math runs here.
"""

import datetime as dt
import math
import operator
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property, reduce
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import Aggregate, Avg, Count, F, FloatField, Max, Q, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from reviews.choices import Platform, ReviewState, Tier
from reviews.models import Review, Shop

from .calendars import CalendarHasNoHours, business_minutes_between
from .choices import OPEN_STATUSES, RESOLVING_OUTCOMES, Outcome, RemedyStatus, SlaState
from .models import Cause, Remedy, Ticket, TicketDayCount
from .rollup import rollup_ready

BREAKDOWNS = ("agent", "shop", "platform", "cause", "sku", "day")
AGE_BUCKETS = ("<4h", "4-24h", "1-3d", ">3d")
# A period longer than this is refused: two years of days is already a long chart.
MAX_PERIOD_DAYS = 731
RATE_DIGITS = 4
MINUTE_DIGITS = 1
CENT = Decimal("0.01")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# Filters -------------------------------------------------------------------------------------


class StatsFilterInvalid(ValueError):
    """Bad statistics parameters; `fields` maps parameter names to problems (API.md invalid_filter)."""

    def __init__(self, fields):
        super().__init__("Invalid statistics filter.")
        self.fields = fields


@dataclass(frozen=True)
class StatsQuery:
    """What a figure is computed over: the caller's shops (already narrowed by `?shop=`), an
    optional platform, and the inclusive local dates of the period."""

    shop_ids: frozenset
    date_from: dt.date
    date_to: dt.date
    platform: str = ""
    now: dt.datetime = field(default_factory=timezone.now)
    # Read the counts from the rollup (tickets.rollup): None decides by the database (PostgreSQL
    # with the rollup built for TIME_ZONE); False reads the tickets, the reference it is tested to.
    use_rollup: bool | None = None

    @cached_property
    def rollup(self):
        return rollup_ready() if self.use_rollup is None else self.use_rollup

    @property
    def tz(self):
        return ZoneInfo(settings.TIME_ZONE)

    @property
    def start(self):
        return dt.datetime.combine(self.date_from, dt.time.min, tzinfo=self.tz)

    @property
    def end(self):
        """The first instant after the period (exclusive bound)."""
        return dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=self.tz)

    @property
    def days(self):
        return (self.date_to - self.date_from).days + 1

    def day_list(self):
        return [self.date_from + dt.timedelta(days=i) for i in range(self.days)]


def parse_stats_params(params, visible_shop_ids, *, require_dates=True, default_days=30, now=None):
    """Validate `from`, `to`, `shop` and `platform` of a query string into a StatsQuery.

    `from`/`to` are inclusive dates in the installation's time zone. A `shop` the caller may not
    see (or that does not exist) narrows the scope to nothing: empty figures, never a 404 that
    would tell a key which shops exist. Raises StatsFilterInvalid."""
    now = now or timezone.now()
    errors = {}
    dates = {}
    for name in ("from", "to"):
        raw = (params.get(name) or "").strip()
        if not raw:
            if require_dates:
                errors[name] = [_("This parameter is required (YYYY-MM-DD).")]
            continue
        try:
            value = dt.date.fromisoformat(raw) if _ISO_DATE.fullmatch(raw) else None
        except ValueError:
            value = None
        if value is None:
            errors[name] = [_("Enter a date as YYYY-MM-DD.")]
        else:
            dates[name] = value
    if not require_dates:
        dates.setdefault("to", timezone.localdate(now))
        if "from" not in dates:
            # A `to` in the first days of year 1 has no 30 days before it: the period starts there.
            days = min(default_days - 1, (dates["to"] - dt.date.min).days)
            dates["from"] = dates["to"] - dt.timedelta(days=days)
    if "from" in dates and "to" in dates:
        if dates["from"] > dates["to"]:
            errors["to"] = [_("Must be on or after from.")]
        elif (dates["to"] - dates["from"]).days + 1 > MAX_PERIOD_DAYS:
            errors["to"] = [_("A period is at most %(days)s days.") % {"days": MAX_PERIOD_DAYS}]
        elif dates["to"] >= dt.date.max - dt.timedelta(days=1):
            errors["to"] = [_("Enter a date as YYYY-MM-DD.")]
    platform = (params.get("platform") or "").strip()
    if platform and platform not in Platform.values:
        errors["platform"] = [_("Unknown platform.")]
    if errors:
        raise StatsFilterInvalid(errors)
    shop_ids = frozenset(visible_shop_ids)
    external_id = (params.get("shop") or "").strip()
    if "\x00" in external_id:  # no shop's id has one (and PostgreSQL refuses them in a query)
        shop_ids = frozenset()
    elif external_id:
        found = Shop.objects.filter(external_id=external_id, pk__in=shop_ids).values_list("pk", flat=True).first()
        shop_ids = frozenset([found]) if found is not None else frozenset()
    return StatsQuery(shop_ids, dates["from"], dates["to"], platform, now)


def parse_breakdown(params):
    by = (params.get("by") or "").strip()
    if by not in BREAKDOWNS:
        raise StatsFilterInvalid({"by": [_("One of: %(choices)s.") % {"choices": ", ".join(BREAKDOWNS)}]})
    return by


# SQL building blocks ---------------------------------------------------------------------------


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expr): nulls are skipped."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction, **extra):
        # The fraction is one of our constants, never input: safe to put in the SQL text.
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def percentile_cont(values, fraction):
    """percentile_cont in Python (linear interpolation), for databases without it."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _tickets(query):
    qs = Ticket.objects.filter(shop_id__in=query.shop_ids)
    if query.platform:
        qs = qs.filter(platform=query.platform)
    return qs


def _between(prefix, name, query):
    return Q(**{f"{prefix}{name}__gte": query.start, f"{prefix}{name}__lt": query.end})


def _group_key(by, query, timestamp, prefix=""):
    """The expression a metric is grouped by; `timestamp` is the field that puts a row in a day."""
    if by is None:
        return None
    if by == "day":
        return TruncDate(f"{prefix}{timestamp}", tzinfo=query.tz)
    column = {
        "agent": "assignee_id",
        "shop": "shop_id",
        "platform": "platform",
        "cause": "cause",
        "sku": "item_sku",
    }[by]
    return F(f"{prefix}{column}")


def _grouped(qs, key, aggregates):
    """{group key: {aggregate: value}} (key None when not grouped), in one query."""
    if key is None:
        return {None: qs.aggregate(**aggregates)}
    return {row["k"]: row for row in qs.annotate(k=key).values("k").annotate(**aggregates).order_by()}


# Metric families ---------------------------------------------------------------------------
#
# Each family is (the timestamp that puts a ticket in a day, the condition that puts it in the
# figure, its aggregates). A summary or a breakdown by anything but day reads all families in one
# pass over the tickets; a breakdown by day runs one query per family, grouped by the day of its
# own timestamp (served by the index on that timestamp when the period is short).


def _families(query):
    now = query.now
    resolving = Q(outcome__in=sorted(RESOLVING_OUTCOMES))
    four, day, three_days = (now - dt.timedelta(hours=h) for h in (4, 24, 72))
    sla_due = _between("", "first_contact_due_at", query) & (
        # A clock that has not run out yet is neither met nor missed: it joins the divisor once it is.
        Q(first_contact_at__isnull=False) | Q(first_contact_due_at__lte=now)
    )
    return {
        # Tickets opened in the period; minutes to first contact and reach of those contacted so far.
        "opened": (
            "created_at",
            _between("", "created_at", query),
            {"opened": (Count, "id", None)},
        ),
        # Tickets closed in the period; resolved = revised to positive or deleted.
        "closed": (
            "closed_at",
            _between("", "closed_at", query),
            {
                "closed": (Count, "id", None),
                "resolved": (Count, "id", resolving),
                "verified_resolved": (Count, "id", resolving & Q(outcome_verified=True)),
                "revised": (Count, "id", Q(outcome=Outcome.REVISED_POSITIVE)),
            },
        ),
        # Tickets whose first-contact due time fell in the period (and has come, or was met).
        "sla": (
            "first_contact_due_at",
            sla_due,
            {
                "sla_due": (Count, "id", None),
                "sla_met": (Count, "id", Q(first_contact_at__lte=F("first_contact_due_at"))),
            },
        ),
        # Open tickets now, by SLA state and age: a snapshot, whatever the period.
        "backlog": (
            "created_at",
            Q(status__in=sorted(OPEN_STATUSES)),
            {
                "open": (Count, "id", None),
                **{f"sla_{state}": (Count, "id", Q(sla_state=state)) for state in SlaState.values},
                "<4h": (Count, "id", Q(created_at__gt=four)),
                "4-24h": (Count, "id", Q(created_at__gt=day, created_at__lte=four)),
                "1-3d": (Count, "id", Q(created_at__gt=three_days, created_at__lte=day)),
                ">3d": (Count, "id", Q(created_at__lte=three_days)),
            },
        ),
    }


def _aggregates(spec):
    """A family's aggregates; its condition is the query's WHERE, so only inner filters remain."""
    return {
        name: function(column, filter=inner) if inner is not None else function(column)
        for name, (function, column, inner) in spec.items()
    }


def _minute_aggregates(condition=None):
    """percentile_cont of the stored minutes (PostgreSQL; SQLite: _python_percentiles)."""
    if connection.vendor != "postgresql":
        return {}
    return {
        f"{label}_{name}": PercentileCont(column, fraction, filter=condition)
        for name, column in _MINUTE_COLUMNS
        for label, fraction in (("median", 0.5), ("p90", 0.9))
    }


_MINUTE_COLUMNS = (("contact", "first_contact_business_minutes"), ("reach", "first_reach_business_minutes"))


def _python_percentiles(qs, key, rows):
    """SQLite (the local desk) has no percentile_cont: the minutes of the period's opened
    tickets, grouped, then interpolated as PostgreSQL does."""
    listing = qs.annotate(k=key) if key is not None else qs.annotate(k=F("pk") * 0)
    values = {}
    for group, *minutes in listing.values_list("k", *[c for _n, c in _MINUTE_COLUMNS]):
        group = None if key is None else group
        for (name, _column), value in zip(_MINUTE_COLUMNS, minutes, strict=True):
            values.setdefault((group, name), []).append(value)
    for group, row in rows.items():
        for name, _column in _MINUTE_COLUMNS:
            row[f"median_{name}"] = percentile_cont(values.get((group, name), []), 0.5)
            row[f"p90_{name}"] = percentile_cont(values.get((group, name), []), 0.9)


def _ticket_figures(query, by):
    """{group key: row of every ticket family} (not for `day`), in one pass over the tickets: a
    ticket in several families is read once, each aggregate carrying its family's condition as a
    FILTER (over a 90-day period a fifth faster than a query per family)."""
    if _uses_rollup(query, by):
        return _rollup_figures(query, by)
    families = _families(query)
    key = _group_key(by, query, "created_at")
    anywhere = Q()
    aggregates = {}
    for _timestamp, condition, spec in families.values():
        anywhere |= condition
        for name, (function, column, inner) in spec.items():
            aggregates[name] = function(column, filter=condition if inner is None else condition & inner)
    opened = families["opened"][1]
    aggregates.update(_minute_aggregates(opened))
    if by == "sku":
        aggregates["sku_title"] = Max("item_title")
    rows = _grouped(_tickets(query).filter(anywhere), key, aggregates)
    if connection.vendor != "postgresql":
        _python_percentiles(_tickets(query).filter(opened), key, rows)
    return rows


def _ticket_figures_by_day(query, *, minutes=True):
    """{family: {day: row}}: one query per family, each grouped by the day of its own timestamp."""
    if query.rollup:
        rows = _rollup_figures(query, "day", minutes=minutes, backlog=False)
        return {"opened": rows, "closed": rows, "sla": rows}
    out = {}
    for name, (timestamp, condition, spec) in _families(query).items():
        if name == "backlog":
            continue
        key = _group_key("day", query, timestamp)
        aggregates = _aggregates(spec)
        if name == "opened" and minutes:
            aggregates.update(_minute_aggregates())
        qs = _tickets(query).filter(condition)
        rows = _grouped(qs, key, aggregates)
        if name == "opened" and minutes and connection.vendor != "postgresql":
            _python_percentiles(qs, key, rows)
        out[name] = rows
    return out


# The rollup --------------------------------------------------------------------------------
#
# On PostgreSQL the opened, closed and SLA counts come from TicketDayCount: the same definitions,
# counted per day by the trigger in tickets.rollup. What depends on the moment of reading (the
# backlog, the clocks that ran out today) and the percentiles still read the tickets, through
# indexes. Breakdowns by cause and SKU read the tickets too: per day, they would be nearly as many
# rows as tickets.

ROLLUP_KEYS = {"agent": "assignee_id", "shop": "shop_id", "platform": "platform", "day": "day"}
_COUNTS = ("opened", "closed", "resolved", "verified_resolved", "revised", "sla_due", "sla_met")


def _uses_rollup(query, by):
    return query.rollup and (by is None or by in ROLLUP_KEYS)


def _rollup_figures(query, by, *, minutes=True, backlog=True):
    """{group key: row} as _ticket_figures gives it, for no grouping or a key of ROLLUP_KEYS."""
    today = timezone.localdate(query.now, query.tz)
    counts = TicketDayCount.objects.filter(
        shop_id__in=query.shop_ids,
        day__gte=query.date_from,
        day__lte=query.date_to,
        kind__in=["opened", "closed", "sla"],
    )
    if query.platform:
        counts = counts.filter(platform=query.platform)
    closed, sla = Q(kind="closed"), Q(kind="sla")
    resolving = Q(outcome__in=sorted(RESOLVING_OUTCOMES))
    rows = _grouped(
        counts,
        F(ROLLUP_KEYS[by]) if by else None,
        {
            "opened": Sum("n", filter=Q(kind="opened")),
            "closed": Sum("n", filter=closed),
            "resolved": Sum("n", filter=closed & resolving),
            "verified_resolved": Sum("n", filter=closed & resolving & Q(verified=True)),
            "revised": Sum("n", filter=closed & Q(outcome=Outcome.REVISED_POSITIVE)),
            "sla_met": Sum("met", filter=sla),
            "sla_contacted": Sum("contacted", filter=sla),
            # Every clock of a day gone by has run out: not contacted, it was missed.
            "sla_ran_out": Sum(F("n") - F("contacted"), filter=sla & Q(day__lt=today)),
        },
    )
    for row in rows.values():
        for name in _COUNTS:
            row[name] = row.get(name) or 0
        row["sla_due"] = (row.pop("sla_contacted") or 0) + (row.pop("sla_ran_out") or 0)
    # Clocks of today (or a later day) not contacted count once they have run out: read them live.
    since = max(query.start, dt.datetime.combine(today, dt.time.min, tzinfo=query.tz))
    if since < query.end and since <= query.now:
        ran_out_today = _tickets(query).filter(
            first_contact_at__isnull=True,
            first_contact_due_at__gte=since,
            first_contact_due_at__lt=query.end,
            first_contact_due_at__lte=query.now,
        )
        key = _group_key(by, query, "first_contact_due_at")
        for k, row in _grouped(ran_out_today, key, {"ran_out": Count("id")}).items():
            rows.setdefault(k, dict.fromkeys(_COUNTS, 0))["sla_due"] += row["ran_out"]
    key, families = _group_key(by, query, "created_at"), _families(query)
    if backlog:
        _timestamp, condition, spec = families["backlog"]
        for k, row in _grouped(_tickets(query).filter(condition), key, _aggregates(spec)).items():
            rows.setdefault(k, dict.fromkeys(_COUNTS, 0)).update(row)
    if minutes:
        opened = _tickets(query).filter(families["opened"][1])
        for k, row in _grouped(opened, key, _minute_aggregates()).items():
            rows.setdefault(k, dict.fromkeys(_COUNTS, 0)).update(row)
    # A group whose differences add up to nothing (a ticket moved to another agent) is no group.
    return {
        k: row
        for k, row in rows.items()
        if by is None or by == "day" or any(row.get(name) for name in (*_COUNTS, "open"))
    }


def _remedy_rows(query):
    """Accepted remedies recorded in the period."""
    qs = Remedy.objects.filter(
        status=RemedyStatus.ACCEPTED,
        ticket__shop_id__in=query.shop_ids,
        created_at__gte=query.start,
        created_at__lt=query.end,
    )
    if query.platform:
        qs = qs.filter(ticket__platform=query.platform)
    return qs


def _remedies(query, by):
    """Accepted remedies recorded in the period: their sum."""
    qs = _remedy_rows(query)
    key = TruncDate("created_at", tzinfo=query.tz) if by == "day" else _group_key(by, query, "", prefix="ticket__")
    return _grouped(qs, key, {"remedy_cost": Sum("amount"), "remedies": Count("id")})


# Assembling rows ---------------------------------------------------------------------------


def rate(numerator, divisor):
    return round(numerator / divisor, RATE_DIGITS) if divisor else None


def money(value):
    return str((value or Decimal("0")).quantize(CENT, rounding=ROUND_HALF_UP))


def _minutes(value):
    return None if value is None else round(float(value), MINUTE_DIGITS)


def _empty_backlog():
    return {
        "open": 0,
        "breached": 0,
        "by_age": dict.fromkeys(AGE_BUCKETS, 0),
        "by_sla": dict.fromkeys(SlaState.values, 0),
    }


def _backlog_of(row):
    if not row:
        return _empty_backlog()
    return {
        "open": row.get("open") or 0,
        "breached": row.get(f"sla_{SlaState.BREACHED}") or 0,
        "by_age": {bucket: row.get(bucket) or 0 for bucket in AGE_BUCKETS},
        "by_sla": {state: row.get(f"sla_{state}") or 0 for state in SlaState.values},
    }


def _figures(opened, closed, sla, remedy, backlog):
    opened, closed, sla, remedy = opened or {}, closed or {}, sla or {}, remedy or {}
    n_closed = closed.get("closed") or 0
    cost = remedy.get("remedy_cost") or Decimal("0")
    revised = closed.get("revised") or 0
    figures = {
        "opened": opened.get("opened") or 0,
        "closed": n_closed,
        "first_contact_sla_met_rate": rate(sla.get("sla_met") or 0, sla.get("sla_due") or 0),
        "median_minutes_to_first_contact": _minutes(opened.get("median_contact")),
        "p90_minutes_to_first_contact": _minutes(opened.get("p90_contact")),
        "resolution_rate": rate(closed.get("resolved") or 0, n_closed),
        "verified_resolution_rate": rate(closed.get("verified_resolved") or 0, n_closed),
        "remedy_cost_total": money(cost),
        "remedy_cost_per_revision": money(cost / revised) if revised else None,
        # Beyond API.md's keys: the counts behind the rates, so a reader can check them.
        "first_contact_due": sla.get("sla_due") or 0,
        "first_contact_met": sla.get("sla_met") or 0,
        "resolved": closed.get("resolved") or 0,
        "verified_resolved": closed.get("verified_resolved") or 0,
        "revised": revised,
        "median_minutes_to_first_reach": _minutes(opened.get("median_reach")),
        "p90_minutes_to_first_reach": _minutes(opened.get("p90_reach")),
    }
    if backlog is not None:
        figures["backlog"] = backlog
    return figures


def summary(query):
    """The API.md summary object for `query`: two queries (tickets, remedies)."""
    row = _ticket_figures(query, None).get(None) or {}
    return _figures(row, row, row, _remedies(query, None).get(None), _backlog_of(row))


def breakdown(query, by, *, minutes=True):
    """API.md's breakdown: [{"key", "label", …summary keys that apply}], one row per group.
    `minutes=False` leaves the percentiles of a day breakdown out (null), for charts that do not
    show them."""
    return _breakdown(query, by, minutes=minutes)[0]


def dashboard_figures(query):
    """(agent rows, summary, day rows without minutes) for the dashboard: the accepted remedies
    are read once, grouped by agent and day, and added up both ways."""
    agent_key = _group_key("agent", query, "", prefix="ticket__")
    day_key = TruncDate("created_at", tzinfo=query.tz)
    by_agent, by_day = {}, {}
    rows = (
        _remedy_rows(query)
        .annotate(a=agent_key, d=day_key)
        .values("a", "d")
        .annotate(remedy_cost=Sum("amount"), remedies=Count("id"))
        .order_by()
    )
    for row in rows:
        for target, key in ((by_agent, row["a"]), (by_day, row["d"])):
            entry = target.setdefault(key, {"remedy_cost": Decimal("0"), "remedies": 0})
            entry["remedy_cost"] += row["remedy_cost"] or Decimal("0")
            entry["remedies"] += row["remedies"]
    agents, summary = breakdown_and_summary(query, "agent", remedy=by_agent)
    days = _breakdown(query, "day", minutes=False, remedy=by_day)[0]
    return agents, summary, days


def breakdown_and_summary(query, by, *, remedy=None):
    """(breakdown rows, summary) for a page showing both (not by day): the summary's counts and
    sums add up the groups' (every ticket and remedy is in exactly one group), so only the
    percentiles of the whole period need a query of their own. Equal to summary(query)."""
    rows, tickets, remedy = _breakdown(query, by, remedy=remedy)
    total, cost = {}, Decimal("0")
    for row in tickets.values():
        for name, value in row.items():
            if name != "k" and isinstance(value, int):
                total[name] = total.get(name, 0) + value
    for row in remedy.values():
        cost += row.get("remedy_cost") or Decimal("0")
    opened = _families(query)["opened"][1]
    qs = _tickets(query).filter(opened)
    if connection.vendor == "postgresql":
        total.update(qs.aggregate(**_minute_aggregates()))
    else:
        holder = {None: total}
        _python_percentiles(qs, None, holder)
    return rows, _figures(total, total, total, {"remedy_cost": cost}, _backlog_of(total))


def _breakdown(query, by, *, minutes=True, remedy=None):
    remedy = _remedies(query, by) if remedy is None else remedy
    if by == "day":
        families = _ticket_figures_by_day(query, minutes=minutes)
        keys = query.day_list()
        labels = _labels(by, keys, query)
        return (
            [
                {
                    "key": labels[day][0],
                    "label": labels[day][1],
                    **_figures(
                        families["opened"].get(day),
                        families["closed"].get(day),
                        families["sla"].get(day),
                        remedy.get(day),
                        None,
                    ),
                }
                for day in keys
            ],
            None,
            remedy,
        )
    tickets = _ticket_figures(query, by)
    keys = set(tickets) | set(remedy)
    titles = {k: row.get("sku_title") or "" for k, row in tickets.items()} if by == "sku" else None
    labels = _labels(by, keys, query, titles=titles)
    rows = []
    for key in keys:
        row = tickets.get(key) or {}
        public_key, label = labels.get(key, (key, key))
        rows.append({"key": public_key, "label": label, **_figures(row, row, row, remedy.get(key), _backlog_of(row))})
    rows.sort(key=lambda r: (-r["opened"], -r["closed"], str(r["label"]), str(r["key"])))
    return rows, tickets, remedy


def _labels(by, keys, query, titles=None):
    """{group key: (public key, label)}: one query at most."""
    keys = list(keys)
    if by == "day":
        return {k: (k.isoformat(), k.isoformat()) for k in keys}
    if by == "agent":
        users = {
            u.pk: u.get_full_name() or u.get_username()
            for u in get_user_model().objects.filter(pk__in=[k for k in keys if k is not None])
        }
        return {k: (k, users.get(k, str(k)) if k is not None else _("Unassigned")) for k in keys}
    if by == "shop":
        shops = {s.pk: s for s in Shop.objects.filter(pk__in=keys)}
        return {k: (shops[k].external_id, shops[k].name) if k in shops else (k, str(k)) for k in keys}
    if by == "platform":
        return {k: (k, Platform(k).label if k in Platform.values else k) for k in keys}
    if by == "cause":
        causes = {c.code: c.label for c in Cause.objects.filter(code__in=[k for k in keys if k])}
        return {k: (k or None, causes.get(k, k) if k else _("Not set")) for k in keys}
    if titles is None:
        titles = _sku_titles(query, keys)
    return {k: (k or None, f"{k} {titles.get(k, '')}".strip() if k else _("No SKU")) for k in keys}


def _sku_titles(query, skus):
    """{sku: the item title of one of its tickets in the period}, read apart from the grouped
    counts (which then scan the index on created_at alone; titles are not in it): one ticket per
    SKU, the first the index finds, instead of every ticket of every SKU shown."""
    skus = [k for k in skus if k]
    if not skus:
        return {}
    period = _tickets(query).filter(_between("", "created_at", query)).order_by()
    first_of_each = reduce(operator.or_, (Q(pk=Subquery(period.filter(item_sku=sku).values("pk")[:1])) for sku in skus))
    return dict(Ticket.objects.filter(first_of_each).order_by().values_list("item_sku", "item_title"))


# Dashboard extras --------------------------------------------------------------------------


def cause_outcome_matrix(query):
    """Tickets closed in the period by cause and outcome: ([cause rows], [outcomes])."""
    if query.rollup:
        counts = TicketDayCount.objects.filter(
            kind="closed_cause", shop_id__in=query.shop_ids, day__gte=query.date_from, day__lte=query.date_to
        )
        if query.platform:
            counts = counts.filter(platform=query.platform)
        rows = counts.values("cause", "outcome").annotate(n=Sum("n")).filter(n__gt=0).order_by()
    else:
        rows = (
            _tickets(query)
            .filter(_between("", "closed_at", query))
            .values("cause", "outcome")
            .annotate(n=Count("id"))
            .order_by()
        )
    matrix, outcomes = {}, set()
    for row in rows:
        matrix.setdefault(row["cause"], {})[row["outcome"]] = row["n"]
        outcomes.add(row["outcome"])
    labels = _labels("cause", list(matrix), query)
    ordered_outcomes = [o for o in [*Outcome.values, ""] if o in outcomes]
    result = []
    for cause, counts in matrix.items():
        result.append(
            {
                "key": labels[cause][0],
                "label": labels[cause][1],
                "counts": [counts.get(o, 0) for o in ordered_outcomes],
                "total": sum(counts.values()),
            }
        )
    result.sort(key=lambda r: (-r["total"], str(r["key"] or "")))
    outcome_labels = [(o, Outcome(o).label if o else _("No outcome")) for o in ordered_outcomes]
    return result, outcome_labels


def top_skus(query, limit=10):
    """SKUs with the most neutral/negative reviews (tickets opened) in the period, with their
    cause mix: [{"sku", "title", "count", "causes": [(label, n, share)]}]. One grouped query (by
    SKU and cause, from the index on created_at alone); the top is picked from its rows, then the
    titles of those few SKUs are read."""
    base = _tickets(query).filter(_between("", "created_at", query), tier__in=[Tier.NEUTRAL, Tier.NEGATIVE])
    by_sku = {}
    for row in base.values("item_sku", "cause").annotate(n=Count("id")).order_by():
        entry = by_sku.setdefault(row["item_sku"], {"count": 0, "causes": []})
        entry["count"] += row["n"]
        entry["causes"].append((row["cause"], row["n"]))
    top = sorted(by_sku.items(), key=lambda item: (-item[1]["count"], item[0]))[:limit]
    titles = _sku_titles(query, [sku for sku, _entry in top]) if top else {}
    labels = _labels("cause", list({c for _sku, e in top for c, _n in e["causes"]}), query)
    return [
        {
            "sku": sku,
            "title": titles.get(sku) or "",
            "count": entry["count"],
            "causes": [
                (labels[c][1], n, rate(n, entry["count"]))
                for c, n in sorted(entry["causes"], key=lambda p: (-p[1], p[0]))
            ],
        }
        for sku, entry in top
    ]


SHOP_REVIEW_CACHE_SECONDS = 600


def shop_review_figures(query, windows=(30, 180)):
    """Per shop, over the last 30 and 180 days of reviews (all ingested reviews, deleted ones
    excluded): review count, positive rate (好评率) and DSR averages.

    One query, but over every review of half a year (a million rows in a large desk), for figures
    that move slowly: the result is cached for ten minutes, with the windows ending at the start
    of the ten minutes so every reader of the cache sees the same figures."""
    bucket = int(query.now.timestamp() // SHOP_REVIEW_CACHE_SECONDS)
    # The newest review in the key: a review that arrives shows at once (a revision within ten minutes).
    newest = Review.objects.filter(shop_id__in=query.shop_ids).aggregate(m=Max("id"))["m"]
    key = "stats:shop-reviews:{}:{}:{}:{}:{}".format(
        ",".join(map(str, sorted(query.shop_ids))), query.platform, bucket, newest, "-".join(map(str, windows))
    )
    cached = cache.get(key)
    if cached is None:
        end = dt.datetime.fromtimestamp(bucket * SHOP_REVIEW_CACHE_SECONDS, tz=dt.UTC)
        cached = _shop_review_figures(query, windows, end)
        cache.set(key, cached, SHOP_REVIEW_CACHE_SECONDS)
    # Cached with the platform's code: readers of either language share the figures.
    labels = dict(Platform.choices)
    return [{**row, "platform": str(labels.get(row["platform"], row["platform"]))} for row in cached]


def _shop_review_figures(query, windows, end):
    since = {days: end - dt.timedelta(days=days) for days in windows}
    qs = Review.objects.filter(
        shop_id__in=query.shop_ids, rated_at__gte=since[max(windows)], rated_at__lte=end
    ).exclude(state=ReviewState.DELETED)
    if query.platform:
        qs = qs.filter(platform=query.platform)
    aggregates = {}
    for days in windows:
        window = Q(rated_at__gte=since[days])
        aggregates[f"reviews_{days}"] = Count("id", filter=window & ~Q(tier=""))
        aggregates[f"positive_{days}"] = Count("id", filter=window & Q(tier=Tier.POSITIVE))
        for dsr in ("description", "service", "logistics"):
            aggregates[f"dsr_{dsr}_{days}"] = Avg(f"dsr_{dsr}", filter=window)
    rows = qs.values("shop_id").annotate(**aggregates).order_by()
    shops = {s.pk: s for s in Shop.objects.filter(pk__in=query.shop_ids)}
    by_shop = {row["shop_id"]: row for row in rows}
    result = []
    for shop_id, shop in sorted(shops.items(), key=lambda item: item[1].name):
        row = by_shop.get(shop_id, {})
        figures = {"shop": shop.external_id, "name": shop.name, "platform": shop.platform}
        for days in windows:
            figures[f"reviews_{days}"] = row.get(f"reviews_{days}") or 0
            figures[f"positive_rate_{days}"] = rate(row.get(f"positive_{days}") or 0, figures[f"reviews_{days}"])
            for dsr in ("description", "service", "logistics"):
                value = row.get(f"dsr_{dsr}_{days}")
                figures[f"dsr_{dsr}_{days}"] = None if value is None else round(float(value), 2)
        result.append(figures)
    return result


# Stored facts ------------------------------------------------------------------------------


def stamp_first_contact_minutes(ticket):
    """Set the business minutes from opening to the first contact and the first reach, once each,
    on a ticket whose first_contact_at / first_reached_at were just set (not saved here)."""
    if ticket.first_contact_at is None or (
        ticket.first_contact_business_minutes is not None
        and (ticket.first_reached_at is None or ticket.first_reach_business_minutes is not None)
    ):
        return
    from .sla import SlaPlanner

    schedule = SlaPlanner().plan(ticket.shop_id, ticket.tier).schedule
    if ticket.first_contact_business_minutes is None:
        ticket.first_contact_business_minutes = _business_minutes(ticket.created_at, ticket.first_contact_at, schedule)
    if ticket.first_reached_at is not None and ticket.first_reach_business_minutes is None:
        ticket.first_reach_business_minutes = _business_minutes(ticket.created_at, ticket.first_reached_at, schedule)


def _business_minutes(start, end, schedule):
    try:
        return round(business_minutes_between(start, end, schedule), 2)
    except CalendarHasNoHours:
        return round(business_minutes_between(start, end), 2)

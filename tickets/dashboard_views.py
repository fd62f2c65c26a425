"""Supervisor dashboard, CSV exports and operations feedback (issue 6), server-rendered.

Every figure comes from tickets.stats, the definitions the statistics API and the CSV exports
use, over the shops the caller supervises. Charts are SVG drawn here (no JavaScript), so they
render the same in both languages and are testable as markup. Agents get 403.
"""

import math
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from reviews.choices import Platform

from . import exports, feedback, selectors, stats
from .choices import SlaState
from .filters import TicketFilter, filterset_errors, labelled_errors

CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 640, 180, 28


def _supervised(request):
    shop_ids = selectors.supervised_shop_ids(request.user)
    if not (request.user.is_superuser or _is_supervisor(request.user)):
        raise PermissionDenied(_("This page is for supervisors."))
    return shop_ids


def _is_supervisor(user):
    profile = getattr(user, "agent_profile", None)
    return bool(profile and profile.is_supervisor)


def _query(request, shop_ids):
    """The dashboard's filters (default: the last 30 days); (query, errors)."""
    try:
        return stats.parse_stats_params(request.GET, shop_ids, require_dates=False), {}
    except stats.StatsFilterInvalid as exc:
        labels = {"from": _("From"), "to": _("To"), "shop": _("Shop"), "platform": _("Platform")}
        return None, labelled_errors(exc.fields, labels)


# Charts ------------------------------------------------------------------------------------


@dataclass
class Series:
    label: str
    css: str
    points: str
    values: list


def _line_chart(days, series_values, *, top=None):
    """[(label, css class, [value or None per day])] -> chart dict with SVG polyline points."""
    values = [v for _l, _c, vs in series_values for v in vs if v is not None]
    top = top if top is not None else max(values, default=0) or 1
    inner_w, inner_h = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD
    step = inner_w / max(len(days) - 1, 1)
    series = []
    for label, css, vs in series_values:
        points = " ".join(
            f"{CHART_PAD + i * step:.1f},{CHART_PAD + inner_h - (v / top) * inner_h:.1f}"
            for i, v in enumerate(vs)
            if v is not None
        )
        series.append(Series(label, css, points, vs))
    ticks = [days[0], days[len(days) // 2], days[-1]] if days else []
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "pad": CHART_PAD,
        "bottom": CHART_HEIGHT - CHART_PAD,
        "right": CHART_WIDTH - CHART_PAD,
        "top_value": top,
        "series": series,
        "ticks": [(CHART_PAD + (days.index(d)) * step, d.isoformat()) for d in dict.fromkeys(ticks)],
    }


def _bars(items):
    """[(label, value)] -> [(label, value, width %)] for horizontal bars."""
    top = max((v for _l, v in items), default=0) or 1
    return [(label, value, round(100 * value / top, 1)) for label, value in items]


# Pages -------------------------------------------------------------------------------------


def _age_label(bucket):
    """stats.AGE_BUCKETS are the API's keys (API.md); the dashboard says them in words."""
    return {
        "<4h": _("under 4 hours"),
        "4-24h": _("4 to 24 hours"),
        "1-3d": _("1 to 3 days"),
        ">3d": _("over 3 days"),
    }.get(bucket, bucket)


@login_required
def dashboard(request):
    """KPI tiles, daily trends, the agent leaderboard, cause × outcome, top SKUs, the backlog and
    the shops' review figures, for a period, a shop and a platform."""
    shop_ids = _supervised(request)
    query, errors = _query(request, shop_ids)
    context = {
        "errors": errors,
        "params": request.GET,
        "shop_choices": selectors.shop_choices(request.user),
        "platform_choices": Platform.choices,
        "query": query,
    }
    if query is None:
        return render(request, "dashboard/dashboard.html", context, status=400)
    # The leaderboard's pass over the tickets also gives the KPI tiles (stats.dashboard_figures).
    agents, summary, days = stats.dashboard_figures(query)
    matrix, outcomes = stats.cause_outcome_matrix(query)
    day_list = query.day_list()
    for row in agents:
        row["handled_per_day"] = round(row["closed"] / query.days, 1)
    backlog = summary["backlog"]
    context.update(
        {
            "summary": summary,
            "days": days,
            "agents": agents,
            "matrix": matrix,
            "outcomes": outcomes,
            "top_skus": stats.top_skus(query),
            "shops": stats.shop_review_figures(query),
            "backlog_age": _bars([(_age_label(bucket), backlog["by_age"][bucket]) for bucket in stats.AGE_BUCKETS]),
            "backlog_sla": [(SlaState(s).label, s, n) for s, n in backlog["by_sla"].items()],
            "volume_chart": _line_chart(
                day_list,
                [
                    (_("Opened"), "opened", [d["opened"] for d in days]),
                    (_("Closed"), "closed", [d["closed"] for d in days]),
                ],
            ),
            "rate_chart": _line_chart(
                day_list,
                [
                    (_("First-contact SLA met"), "sla", [d["first_contact_sla_met_rate"] for d in days]),
                    (_("Resolution rate"), "resolution", [d["resolution_rate"] for d in days]),
                    (_("Verified resolution rate"), "verified", [d["verified_resolution_rate"] for d in days]),
                ],
                top=1,
            ),
            "export_params": request.GET.urlencode(),
            "breakdowns": [
                ("agent", _("Agent")),
                ("shop", _("Shop")),
                ("platform", _("Platform")),
                ("cause", _("Cause")),
                ("sku", _("SKU")),
                ("day", _("Day")),
            ],
        }
    )
    return render(request, "dashboard/dashboard.html", context)


@login_required
def breakdown_export(request, by):
    """A breakdown of the dashboard's filters as CSV: the same numbers as the page and the API."""
    shop_ids = _supervised(request)
    if by not in stats.BREAKDOWNS:
        raise Http404(_("Unknown breakdown."))
    query, errors = _query(request, shop_ids)
    if query is None:
        return render(request, "dashboard/dashboard.html", {"errors": errors, "params": request.GET}, status=400)
    return exports.breakdown_csv(query, by, stats.breakdown(query, by))


@login_required
def tickets_export(request):
    """The supervisor's ticket list, filtered as the list page filters it (tickets.filters), as CSV."""
    _supervised(request)
    filterset = TicketFilter(request.GET or None, queryset=selectors.all_tickets(request.user), request=request)
    if filterset.is_bound and not filterset.is_valid():
        return render(
            request,
            "dashboard/dashboard.html",
            {"errors": filterset_errors(filterset), "params": request.GET},
            status=400,
        )
    return exports.tickets_csv(filterset.qs)


@login_required
def sku_feedback(request):
    """SKUs whose neutral/negative rate of the last 7 days runs above their 30-day baseline, with
    their dominant causes: what to send back to operations."""
    shop_ids = _supervised(request)
    factor, factor_error = feedback.alert_factor(), ""
    raw = (request.GET.get("factor") or "").strip()
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        # `not 1 <= value <= 100` also refuses nan, which every comparison answers False.
        if not 1.0 <= value <= 100.0:
            factor_error = _("Enter a number from 1 to 100. The list below uses the default factor.")
        else:
            factor = value
    rows = feedback.sku_alerts(shop_ids, factor=factor)
    return render(request, "dashboard/feedback.html", {"rows": rows, "factor": factor, "factor_error": factor_error})

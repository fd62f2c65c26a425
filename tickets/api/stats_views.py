"""Statistics endpoints (API.md § Statistics): thin views over tickets.stats, the definitions the
dashboard and the CSV exports use too. People and integration keys read the figures of the shops
they may see."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from reviewdesk.api import InvalidFilter
from reviews.choices import Platform
from reviews.selectors import shop_ids_visible_to

from .. import stats

_PERIOD = [
    OpenApiParameter(
        "from", OpenApiTypes.DATE, required=True, description="First day, inclusive, in the installation's time zone."
    ),
    OpenApiParameter(
        "to", OpenApiTypes.DATE, required=True, description="Last day, inclusive, in the installation's time zone."
    ),
    OpenApiParameter(
        "shop", str, description="A shop's external id. A shop the caller may not see gives empty figures."
    ),
    OpenApiParameter("platform", str, enum=Platform.values),
]


# Functions, not shared instances: a serializer field instance binds to one name, so sharing one
# across keys left all but the last out of the schema's `required`.
def _rate():
    return serializers.FloatField(allow_null=True, min_value=0, max_value=1)


def _minutes():
    return serializers.FloatField(allow_null=True)


def _figure_fields():
    return {
        "opened": serializers.IntegerField(),
        "closed": serializers.IntegerField(),
        "first_contact_sla_met_rate": _rate(),
        "median_minutes_to_first_contact": _minutes(),
        "p90_minutes_to_first_contact": _minutes(),
        "resolution_rate": _rate(),
        "verified_resolution_rate": _rate(),
        "remedy_cost_total": serializers.DecimalField(max_digits=14, decimal_places=2),
        "remedy_cost_per_revision": serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True),
        "first_contact_due": serializers.IntegerField(help_text="Divisor of the SLA met rate."),
        "first_contact_met": serializers.IntegerField(),
        "resolved": serializers.IntegerField(),
        "verified_resolved": serializers.IntegerField(),
        "revised": serializers.IntegerField(),
        "median_minutes_to_first_reach": _minutes(),
        "p90_minutes_to_first_reach": _minutes(),
    }


@extend_schema_field({"anyOf": [{"type": "integer"}, {"type": "string"}]})
class _GroupKeyField(serializers.Field):
    """A breakdown row's key: an agent's user id (an integer), else a string (or null)."""


# One class, instantiated where it is used (required in the summary, optional in a breakdown row).
_Backlog = inline_serializer(
    "StatsBacklog",
    {
        "open": serializers.IntegerField(),
        "breached": serializers.IntegerField(),
        "by_age": inline_serializer(
            "StatsBacklogByAge",
            {
                "<4h": serializers.IntegerField(),
                "4-24h": serializers.IntegerField(),
                "1-3d": serializers.IntegerField(),
                ">3d": serializers.IntegerField(),
            },
        ),
        "by_sla": serializers.DictField(child=serializers.IntegerField()),
    },
).__class__


SummarySchema = inline_serializer("StatsSummary", {**_figure_fields(), "backlog": _Backlog()})
BreakdownSchema = inline_serializer(
    "StatsBreakdown",
    {
        "by": serializers.ChoiceField(choices=stats.BREAKDOWNS),
        "results": inline_serializer(
            "StatsBreakdownRow",
            {
                "key": _GroupKeyField(allow_null=True, help_text="User id for agent; string otherwise."),
                "label": serializers.CharField(),
                **_figure_fields(),
                # A day has no backlog (the open tickets are a figure of now, not of a day).
                "backlog": _Backlog(required=False),
            },
            many=True,
        ),
    },
)


def stats_query(request):
    """The request's StatsQuery, or API.md's 400 invalid_filter."""
    try:
        return stats.parse_stats_params(request.query_params, shop_ids_visible_to(request.user))
    except stats.StatsFilterInvalid as exc:
        raise InvalidFilter(fields=exc.fields) from None


class StatsSummaryView(APIView):
    """Every figure of DESIGN.md § Metrics for a period, over the caller's shops."""

    @extend_schema(
        summary="Statistics summary",
        description="Rates are fractions 0–1, or null when nothing is in the divisor; minutes are business "
        "minutes; money is a decimal string. The backlog is the open tickets now.",
        tags=["statistics"],
        parameters=_PERIOD,
        responses={200: SummarySchema},
    )
    def get(self, request):
        return Response(stats.summary(stats_query(request)))


class StatsBreakdownView(APIView):
    """The summary figures per agent, shop, platform, cause, SKU or day."""

    @extend_schema(
        summary="Statistics by group",
        description="One row per group with the summary keys that apply (a day has no backlog). Each figure "
        "counts in the group of its own timestamp: opened by creation, closed by closing, SLA by due time, "
        "remedies by when they were recorded.",
        tags=["statistics"],
        parameters=[
            OpenApiParameter("by", str, required=True, enum=list(stats.BREAKDOWNS)),
            *_PERIOD,
        ],
        responses={200: BreakdownSchema},
    )
    def get(self, request):
        try:
            by = stats.parse_breakdown(request.query_params)
        except stats.StatsFilterInvalid as exc:
            fields = dict(exc.fields)
            try:
                stats_query(request)
            except InvalidFilter as period_error:
                fields.update(period_error.fields)
            raise InvalidFilter(fields=fields) from None
        query = stats_query(request)
        return Response({"by": by, "results": stats.breakdown(query, by)})

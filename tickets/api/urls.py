from django.urls import path
from rest_framework.routers import SimpleRouter

from .stats_views import StatsBreakdownView, StatsSummaryView
from .views import AgentDutyView, CauseListView, RemedyDecisionView, TicketViewSet

router = SimpleRouter()
router.register("tickets", TicketViewSet, basename="ticket")
urlpatterns = [
    *router.urls,
    path("agents/me/duty/", AgentDutyView.as_view(), name="agent-duty"),
    path("remedies/<int:pk>/decision/", RemedyDecisionView.as_view(), name="remedy-decision"),
    path("causes/", CauseListView.as_view(), name="cause-list"),
    path("stats/summary/", StatsSummaryView.as_view(), name="stats-summary"),
    path("stats/breakdown/", StatsBreakdownView.as_view(), name="stats-breakdown"),
]

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import AgentDutyView, CauseListView, RemedyDecisionView, TicketViewSet

router = SimpleRouter()
router.register("tickets", TicketViewSet, basename="ticket")
urlpatterns = [
    *router.urls,
    path("agents/me/duty/", AgentDutyView.as_view(), name="agent-duty"),
    path("remedies/<int:pk>/decision/", RemedyDecisionView.as_view(), name="remedy-decision"),
    path("causes/", CauseListView.as_view(), name="cause-list"),
]

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import AgentDutyView, TicketViewSet

router = SimpleRouter()
router.register("tickets", TicketViewSet, basename="ticket")
urlpatterns = [
    *router.urls,
    path("agents/me/duty/", AgentDutyView.as_view(), name="agent-duty"),
]

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets

from reviewdesk.api import NewestFirstCursorPagination

from ..filters import TicketFilter
from ..selectors import ticket_detail, ticket_list
from .serializers import TicketDetailSerializer, TicketSerializer


@extend_schema_view(
    list=extend_schema(
        summary="List tickets",
        tags=["tickets"],
        parameters=[OpenApiParameter("page_size", int, description="Default 50, at most 200.")],
    ),
    retrieve=extend_schema(summary="A ticket with its contact attempts, remedies and timeline", tags=["tickets"]),
)
class TicketViewSet(viewsets.ReadOnlyModelViewSet):
    filterset_class = TicketFilter
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self):
        if self.action == "retrieve":
            return ticket_detail(self.request.user)
        return ticket_list(self.request.user)

    def get_serializer_class(self):
        return TicketDetailSerializer if self.action == "retrieve" else TicketSerializer

    def filter_queryset(self, queryset):
        if self.action == "retrieve":
            return queryset  # filters narrow lists; a detail is found by id within the caller's shops
        return super().filter_queryset(queryset)

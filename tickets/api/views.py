from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from reviewdesk.api import ApiError, NewestFirstCursorPagination

from ..assignment import AssignmentRefused, agent_set_duty, open_loads, ticket_assign_manual, ticket_take
from ..filters import TicketFilter
from ..permissions import IsPerson, can_supervise, can_work, profile_of
from ..selectors import ticket_detail, ticket_list
from ..services import TicketActionRefused, contact_attempt_log
from .serializers import (
    AssignInSerializer,
    ContactAttemptInSerializer,
    ContactAttemptSerializer,
    DutyInSerializer,
    DutySerializer,
    TicketDetailSerializer,
    TicketSerializer,
)


def _validated(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _refused(exc):
    return ApiError(str(exc), code=exc.code, status_code=status.HTTP_409_CONFLICT)


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
        if self.action != "list":
            return queryset  # filters narrow lists; one ticket is found by id within the caller's shops
        return super().filter_queryset(queryset)

    def _fresh(self, ticket_id):
        return TicketSerializer(ticket_list(self.request.user).get(pk=ticket_id)).data

    @extend_schema(
        summary="Log a contact attempt",
        tags=["tickets"],
        request=ContactAttemptInSerializer,
        responses={201: ContactAttemptSerializer},
    )
    @action(detail=True, methods=["post"], url_path="contact-attempts", permission_classes=[IsPerson])
    def contact_attempts(self, request, pk=None):
        ticket = self.get_object()
        if not can_work(request.user, ticket):
            raise PermissionDenied("Only the assignee or a supervisor of this shop may log contact attempts.")
        data = _validated(ContactAttemptInSerializer, request.data)
        try:
            attempt = contact_attempt_log(ticket.pk, request.user, **data)
        except TicketActionRefused as exc:
            raise _refused(exc) from None
        return Response(ContactAttemptSerializer(attempt).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Assign to an agent (supervisors)",
        tags=["tickets"],
        request=AssignInSerializer,
        responses={200: TicketSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsPerson])
    def assign(self, request, pk=None):
        ticket = self.get_object()
        if not can_supervise(request.user, ticket.shop_id):
            raise PermissionDenied("Only a supervisor of this shop may assign tickets.")
        data = _validated(AssignInSerializer, request.data)
        try:
            ticket_assign_manual(ticket.pk, data["agent"], by=request.user, force=data["force"])
        except AssignmentRefused as exc:
            raise _refused(exc) from None
        return Response(self._fresh(ticket.pk))

    @extend_schema(
        summary="Take a ticket from the pool (agents)",
        tags=["tickets"],
        request=None,
        responses={200: TicketSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsPerson])
    def take(self, request, pk=None):
        ticket = self.get_object()
        try:
            ticket_take(ticket.pk, request.user)
        except AssignmentRefused as exc:
            raise _refused(exc) from None
        return Response(self._fresh(ticket.pk))


class AgentDutyView(APIView):
    """GET or set the caller's duty. Going on duty pulls waiting tickets from the pool."""

    permission_classes = [IsPerson]

    def _profile(self, request):
        profile = profile_of(request.user)
        if profile is None:
            raise PermissionDenied("You have no agent profile.")
        return profile

    def _body(self, profile, returned=()):
        return DutySerializer(
            {
                "on_duty": profile.on_duty,
                "capacity": profile.capacity,
                "open_tickets": open_loads([profile.user_id]).get(profile.user_id, 0),
                "returned_ticket_ids": list(returned),
            }
        ).data

    @extend_schema(summary="My duty", tags=["agents"], responses={200: DutySerializer})
    def get(self, request):
        return Response(self._body(self._profile(request)))

    @extend_schema(
        summary="Go on or off duty", tags=["agents"], request=DutyInSerializer, responses={200: DutySerializer}
    )
    def post(self, request):
        self._profile(request)
        data = _validated(DutyInSerializer, request.data)
        profile, returned = agent_set_duty(request.user, data["on_duty"], return_uncontacted=data["return_tickets"])
        return Response(self._body(profile, returned))

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from reviewdesk.api import ApiError, NewestFirstCursorPagination
from reviews.selectors import shop_ids_visible_to

from ..actions import cause_set, outcome_claim, remedy_decide, remedy_record
from ..assignment import AssignmentRefused, agent_set_duty, open_loads, ticket_assign_manual, ticket_take
from ..filters import TicketFilter
from ..models import Cause, Remedy
from ..permissions import IsPerson, can_approve_remedy, can_supervise, can_work, profile_of
from ..selectors import ticket_detail, ticket_list
from ..services import TicketActionRefused, contact_attempt_log
from .serializers import (
    AssignInSerializer,
    CauseInSerializer,
    CauseSerializer,
    ContactAttemptInSerializer,
    ContactAttemptSerializer,
    DutyInSerializer,
    DutySerializer,
    OutcomeInSerializer,
    RemedyDecisionInSerializer,
    RemedyInSerializer,
    RemedyResultSerializer,
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

    def _workable(self, request, what):
        ticket = self.get_object()
        if not can_work(request.user, ticket):
            raise PermissionDenied(f"Only the assignee or a supervisor of this shop may {what}.")
        return ticket

    @extend_schema(
        summary="Record a remedy",
        description="Over the caller's remedy cap the remedy is stored as `pending_approval` and the shop's "
        "supervisors are asked to approve it. `compliance` lists why the note ties the remedy to a review "
        "(the remedy is saved all the same, and the timeline row is flagged).",
        tags=["tickets"],
        request=RemedyInSerializer,
        responses={201: RemedyResultSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsPerson])
    def remedies(self, request, pk=None):
        ticket = self._workable(request, "record remedies")
        data = _validated(RemedyInSerializer, request.data)
        try:
            remedy = remedy_record(ticket.pk, request.user, **data)
        except TicketActionRefused as exc:
            raise _refused(exc) from None
        return Response(RemedyResultSerializer(remedy).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Set the cause", tags=["tickets"], request=CauseInSerializer, responses={200: TicketSerializer}
    )
    @action(detail=True, methods=["post"], permission_classes=[IsPerson])
    def cause(self, request, pk=None):
        ticket = self._workable(request, "set the cause")
        data = _validated(CauseInSerializer, request.data)
        try:
            cause_set(ticket.pk, request.user, **data)
        except TicketActionRefused as exc:
            raise _refused(exc) from None
        return Response(self._fresh(ticket.pk))

    @extend_schema(
        summary="Claim an outcome and close",
        description="revised_positive, deleted_by_buyer, followup_added, explained and no_action_needed close as "
        "resolved; buyer_refused, unreachable and abuse_reported as closed_unresolved. The outcome stays "
        "unverified until the platform reports it.",
        tags=["tickets"],
        request=OutcomeInSerializer,
        responses={200: TicketSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsPerson])
    def outcome(self, request, pk=None):
        ticket = self._workable(request, "claim an outcome")
        data = _validated(OutcomeInSerializer, request.data)
        try:
            outcome_claim(ticket.pk, request.user, **data)
        except TicketActionRefused as exc:
            raise _refused(exc) from None
        return Response(self._fresh(ticket.pk))

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


class RemedyDecisionView(APIView):
    """A supervisor of the ticket's shop approves or rejects a remedy waiting for approval."""

    permission_classes = [IsPerson]

    @extend_schema(
        summary="Approve or reject a remedy (supervisors)",
        description="Approving gives the remedy the status the agent recorded; rejecting needs a reason. "
        "The agent who offered it is notified.",
        tags=["tickets"],
        request=RemedyDecisionInSerializer,
        responses={200: RemedyResultSerializer},
    )
    def post(self, request, pk):
        remedy = (
            Remedy.objects.filter(ticket__shop_id__in=shop_ids_visible_to(request.user))
            .select_related("ticket")
            .filter(pk=pk)
            .first()
        )
        if remedy is None:
            raise NotFound()
        if not can_approve_remedy(request.user, remedy):
            raise PermissionDenied("Only a supervisor of this shop may approve or reject remedies.")
        data = _validated(RemedyDecisionInSerializer, request.data)
        try:
            remedy = remedy_decide(remedy.pk, request.user, **data)
        except TicketActionRefused as exc:
            raise _refused(exc) from None
        return Response(RemedyResultSerializer(remedy).data)


class CauseListView(APIView):
    """The active causes, in their order, for pickers and integrations."""

    @extend_schema(summary="Causes", tags=["tickets"], responses={200: CauseSerializer(many=True)})
    def get(self, request):
        return Response(CauseSerializer(Cause.objects.filter(active=True), many=True).data)


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

"""The buyer API: read a buyer's profile (masked) in the caller's shops; people reveal personal
data (audited), add notes and, as supervisors, blacklist or whitelist."""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from reviewdesk.api import ApiError
from tickets.permissions import IsPerson

from ..buyer_services import BuyerActionRefused, buyer_list_mark_set, buyer_note_add, buyer_reveal
from ..models import Buyer
from ..selectors import buyer_profile, buyer_visible
from .serializers import (
    BuyerNoteSerializer,
    BuyerSerializer,
    ListMarkInSerializer,
    NoteInSerializer,
    RevealInSerializer,
    RevealSerializer,
)


def _validated(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _refused(exc):
    if exc.code == "not_permitted":
        return PermissionDenied(str(exc))
    if exc.code == "not_found":
        return Http404()
    if exc.code == "invalid":
        return ApiError(str(exc), code="invalid_body", fields={exc.field: [str(exc)]} if exc.field else {})
    return ApiError(str(exc), code=exc.code, status_code=status.HTTP_409_CONFLICT)


class BuyerViewSet(viewsets.GenericViewSet):
    """A buyer is found by id among the buyers who reviewed the caller's shops; others are 404."""

    serializer_class = BuyerSerializer
    queryset = Buyer.objects.none()  # for the schema's path parameter type; get_object scopes the lookup
    lookup_value_regex = r"\d+"

    def get_object(self):
        buyer = buyer_visible(self.request.user, self.kwargs["pk"])
        if buyer is None:
            raise Http404
        return buyer

    @extend_schema(
        summary="A buyer's profile: masked personal data, counters, risk, best time to call, and their "
        "reviews, tickets, contact history and remedies in your shops",
        tags=["buyers"],
        responses={200: BuyerSerializer},
    )
    def retrieve(self, request, pk=None):
        return Response(BuyerSerializer(buyer_profile(request.user, self.get_object())).data)

    @extend_schema(
        summary="Reveal the raw nick or phone (audited; people with the right only)",
        tags=["buyers"],
        request=RevealInSerializer,
        responses={
            200: RevealSerializer,
            403: OpenApiResponse(description="Not allowed to reveal this field, or an integration key."),
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[IsPerson])
    def reveal(self, request, pk=None):
        buyer = self.get_object()
        data = _validated(RevealInSerializer, request.data)
        try:
            value = buyer_reveal(buyer.pk, request.user, field=data["field"], reason=data["reason"])
        except BuyerActionRefused as exc:
            raise _refused(exc) from None
        response = Response(RevealSerializer({"value": value}).data)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        summary="Add a note (temperament tags and text)",
        tags=["buyers"],
        request=NoteInSerializer,
        responses={201: BuyerNoteSerializer},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsPerson])
    def notes(self, request, pk=None):
        buyer = self.get_object()
        data = _validated(NoteInSerializer, request.data)
        try:
            note = buyer_note_add(buyer.pk, request.user, tags=data["tags"], text=data["text"])
        except BuyerActionRefused as exc:
            raise _refused(exc) from None
        return Response(BuyerNoteSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Blacklist, whitelist or unlist the buyer (supervisors)",
        tags=["buyers"],
        request=ListMarkInSerializer,
        responses={200: BuyerSerializer},
    )
    @action(detail=True, methods=["post"], url_path="list-mark", permission_classes=[IsPerson])
    def list_mark(self, request, pk=None):
        buyer = self.get_object()
        data = _validated(ListMarkInSerializer, request.data)
        try:
            buyer_list_mark_set(buyer.pk, request.user, mark=data["mark"], reason=data["reason"])
        except BuyerActionRefused as exc:
            raise _refused(exc) from None
        return Response(BuyerSerializer(buyer_profile(request.user, self.get_object())).data)

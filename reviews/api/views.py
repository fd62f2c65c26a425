"""POST /api/v1/review-events/ (API.md § Push review events)."""

import orjson
from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from reviewdesk.api import ApiError, error_body

from ..authentication import BearerKeyAuthentication, SessionLeavingTheBody
from ..choices import EventSource, EventStatus
from ..services import EventResult, review_events_ingest
from ..validation import EventInvalid, validate_event
from .schema import EVENT_EXAMPLE, PUSH_REQUEST_SCHEMA, PUSH_RESPONSE_SCHEMA


class IsIntegration(BasePermission):
    message = "Only an integration API key may push review events."

    def has_permission(self, request, view):
        return getattr(request.user, "is_integration", False)


def read_json_body(request, *, max_bytes):
    """The request body as JSON, or an ApiError with API.md's code (415, 413, 400)."""
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError("Send the body as application/json.", code="unsupported_media_type", status_code=415)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes:
        raise ApiError(f"The body is larger than {max_bytes} bytes.", code="body_too_large", status_code=413)
    body = _body_stream(request, declared).read(max_bytes + 1)
    if len(body) > max_bytes:
        raise ApiError(f"The body is larger than {max_bytes} bytes.", code="body_too_large", status_code=413)
    if not body.strip():
        raise ApiError("The body is empty.", code="invalid_json")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(f"The body is not valid UTF-8 JSON: {exc}", code="invalid_json") from None


def _body_stream(request, declared):
    """Where the body is read from. Django reads CONTENT_LENGTH bytes, so a body sent with
    `Transfer-Encoding: chunked` (no length; HTTP libraries that stream do this) looked empty. A
    server that de-chunks and ends the input stream at the body's end says so with
    `wsgi.input_terminated` (gunicorn does); then the body is read from that stream, still
    capped by the caller."""
    meta = request.META
    chunked = "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()
    if not declared and chunked and meta.get("wsgi.input_terminated"):
        return meta["wsgi.input"]
    return request._request


def events_from_body(data, *, max_batch):
    """One event or {"events": [...]} -> a list of raw events (API.md's 400/413 codes otherwise)."""
    if not isinstance(data, dict):
        raise ApiError('Send one event object or {"events": [...]}.', code="invalid_body")
    if "events" not in data:
        return [data]
    events = data["events"]
    if not isinstance(events, list):
        raise ApiError(
            '"events" must be an array of event objects.', code="invalid_body", fields={"events": ["Must be an array."]}
        )
    if not events:
        raise ApiError("The batch is empty.", code="empty_batch")
    if len(events) > max_batch:
        raise ApiError(
            f"At most {max_batch} events per request; this one has {len(events)}.",
            code="batch_too_large",
            status_code=413,
        )
    return events


def _rejected(index, raw, code, message, fields):
    raw = raw if isinstance(raw, dict) else {}
    event_id, review_id = raw.get("event_id"), raw.get("review_id")
    return EventResult(
        index=index,
        event_id=event_id if isinstance(event_id, str) and len(event_id) <= 128 else None,
        review_id=review_id if isinstance(review_id, str) and len(review_id) <= 128 else None,
        status=EventStatus.REJECTED,
        error={"code": code, "message": message, "fields": fields},
    )


def triage_events(raw_events, allowed_shops):
    """Validate and authorise each event in order: field problems first, then shop_not_allowed
    (also for unknown shops, so keys cannot probe), then platform_mismatch. `allowed_shops` maps
    external id to Shop for the key's active shops (loaded with the key, so no query here).
    Returns the results of rejected events by index, and (index, event, shop) for the rest."""
    rejected, valid = {}, []
    for index, raw in enumerate(raw_events):
        try:
            valid.append((index, validate_event(raw)))
        except EventInvalid as exc:
            rejected[index] = _rejected(index, raw, "invalid_event", "The event is not valid.", exc.fields)
    accepted = []
    for index, event in valid:
        shop = allowed_shops.get(event.shop)
        if shop is None:
            rejected[index] = _rejected(
                index,
                raw_events[index],
                "shop_not_allowed",
                "This key may not push events for that shop.",
                {"shop": ["Not one of this key's shops."]},
            )
        elif shop.platform != event.platform:
            rejected[index] = _rejected(
                index,
                raw_events[index],
                "platform_mismatch",
                f"The shop is on {shop.platform}, not {event.platform}.",
                {"platform": [f"Must be {shop.platform}."]},
            )
        else:
            accepted.append((index, event, shop))
    return rejected, accepted


class ReviewEventsView(APIView):
    # Session too, so a logged-in person is recognised and gets 403 (API.md), not 401; the 401
    # challenge stays "Bearer" because the key authentication comes first.
    authentication_classes = [BearerKeyAuthentication, SessionLeavingTheBody]
    permission_classes = [IsIntegration]
    parser_classes = []  # the body is read and parsed here, with API.md's limits and codes

    @extend_schema(
        operation_id="review_events_push",
        summary="Push review events",
        request={"application/json": PUSH_REQUEST_SCHEMA},
        responses={
            200: OpenApiResponse(PUSH_RESPONSE_SCHEMA, description="At least one event was accepted."),
            400: OpenApiResponse(PUSH_RESPONSE_SCHEMA, description="No event accepted, or a bad body."),
            401: OpenApiResponse(description="Missing or bad key."),
            413: OpenApiResponse(description="batch_too_large or body_too_large."),
            415: OpenApiResponse(description="Not application/json."),
        },
        examples=[OpenApiExample("One event", value=EVENT_EXAMPLE, request_only=True)],
        tags=["review events"],
    )
    def post(self, request):
        data = read_json_body(request, max_bytes=settings.REVIEW_EVENTS_MAX_BODY_BYTES)
        raw_events = events_from_body(data, max_batch=settings.REVIEW_EVENTS_MAX_BATCH)
        api_key = request.auth
        rejected, accepted = triage_events(raw_events, request.user.shops_by_external_id)
        ingested = review_events_ingest(
            accepted,
            source=EventSource.PUSH,
            api_key=api_key,
            actor_label=f"API key: {api_key.name}",
        )
        results = sorted([*rejected.values(), *ingested], key=lambda r: r.index)
        body = {
            "accepted": len(ingested),
            "rejected": len(rejected),
            "results": [result.as_dict() for result in results],
        }
        if not ingested:
            body.update(error_body("no_event_accepted", "No event in the request was accepted."))
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(body, status=status.HTTP_200_OK)

"""POST /api/v1/connectors/{id}/taobao-messages/: Taobao's rating-change message, pushed to ReviewDesk.

The platform's message `taobao_trade_TradeRated` says only that an order (tid, sub-order oid)
was rated and by whom; the review itself is fetched again from TOP by a Celery task queued after
commit, through the connector, so it lands exactly like a pulled one.

Body (JSON, the message service's envelope): {"topic": "taobao_trade_TradeRated", "content":
"{\"tid\": 3901234567890, \"oid\": 3901234567891, \"rater\": \"buyer\"}", "pub_time":
"2026-03-02 10:15:00", "pub_app_key": "…", "user_id": 57301234, "sign": "…"}. `sign` is the TOP
MD5 signature (signing.top_sign) of every other top-level field with the connector's message
secret, so only the platform (or a relay holding the secret) can make ReviewDesk fetch.
"""

from functools import partial

import orjson
from django.db import transaction
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from reviewdesk.api import ApiError

from ..choices import ConnectorKind
from ..connectors.signing import signatures_match, top_sign
from ..models import Connector
from ..tasks import refetch_connector_order_task

RATED_TOPIC = "taobao_trade_TradeRated"
MAX_MESSAGE_BYTES = 64 * 1024

MESSAGE_SCHEMA = {
    "type": "object",
    "required": ["topic", "content", "sign"],
    "properties": {
        "topic": {"type": "string", "example": RATED_TOPIC},
        "content": {"type": "string", "description": 'JSON text: {"tid", "oid", "rater"}.'},
        "pub_time": {"type": "string", "example": "2026-03-02 10:15:00"},
        "pub_app_key": {"type": "string"},
        "user_id": {"type": "integer"},
        "sign": {"type": "string", "description": "TOP MD5 signature of the other fields with the message secret."},
    },
}
RESULT_SCHEMA = {
    "type": "object",
    "properties": {
        "queued": {"type": "boolean"},
        "order_id": {"type": "string", "nullable": True},
        "detail": {"type": "string"},
    },
}
EXAMPLE = {
    "topic": RATED_TOPIC,
    "content": '{"tid": 3901234567890, "oid": 3901234567891, "rater": "buyer"}',
    "pub_time": "2026-03-02 10:15:00",
    "pub_app_key": "12345678",
    "user_id": 57301234,
    "sign": "8F3C…",
}


def _message(request):
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError("Send the message as application/json.", code="unsupported_media_type", status_code=415)
    body = request._request.read(MAX_MESSAGE_BYTES + 1)
    if len(body) > MAX_MESSAGE_BYTES:
        raise ApiError(f"The body is larger than {MAX_MESSAGE_BYTES} bytes.", code="body_too_large", status_code=413)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(f"The body is not valid UTF-8 JSON: {exc}", code="invalid_json") from None
    if not isinstance(data, dict):
        raise ApiError("The message must be a JSON object.", code="invalid_body")
    return data


def _signed_fields(data):
    """The message's fields as TOP signs them: every field but sign, values as text."""
    fields = {}
    for name, value in data.items():
        if name == "sign" or value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif not isinstance(value, str):
            value = orjson.dumps(value).decode() if isinstance(value, (dict, list)) else str(value)
        fields[name] = value
    return fields


def _rated_order(data):
    """(tid, oid, rater) from the message content, or ApiError naming the problem."""
    content = data.get("content")
    try:
        parsed = orjson.loads(content) if isinstance(content, str) else content
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ApiError(
            "content must be the message's JSON text.", code="invalid_body", fields={"content": ["Not JSON."]}
        )
    tid, oid = parsed.get("tid"), parsed.get("oid")
    if isinstance(tid, bool) or not isinstance(tid, (int, str)) or not str(tid).strip().isdigit():
        raise ApiError("The message names no order.", code="invalid_body", fields={"content.tid": ["Required."]})
    if oid is not None and (isinstance(oid, bool) or not str(oid).strip().isdigit()):
        raise ApiError("The sub-order id is not a number.", code="invalid_body", fields={"content.oid": ["Digits."]})
    return str(tid).strip(), (str(oid).strip() if oid is not None else None), parsed.get("rater")


class TaobaoMessagesView(APIView):
    """Accepts Taobao's rating messages for one connector, authenticated by the message signature."""

    authentication_classes = []  # the signature is the authentication
    permission_classes = [AllowAny]
    parser_classes = []

    @extend_schema(
        operation_id="connector_taobao_message",
        summary="Receive a Taobao rating message (taobao_trade_TradeRated)",
        description=(
            "Signed with the connector's message secret (TOP MD5 signature over every field but `sign`). "
            "Queues a re-fetch of the rated order's reviews through the connector; answers 202 at once."
        ),
        request={"application/json": MESSAGE_SCHEMA},
        responses={
            202: OpenApiResponse(RESULT_SCHEMA, description="The re-fetch was queued."),
            200: OpenApiResponse(
                RESULT_SCHEMA, description="A message that needs nothing (another topic, a seller's rating)."
            ),
            400: OpenApiResponse(description="invalid_json or invalid_body."),
            401: OpenApiResponse(description="not_authenticated: a missing or wrong signature."),
            404: OpenApiResponse(description="not_found: no enabled Taobao connector with this id."),
        },
        examples=[OpenApiExample("Rated", value=EXAMPLE, request_only=True)],
        tags=["connectors"],
    )
    def post(self, request, connector_id):
        connector = Connector.objects.filter(pk=connector_id, kind=ConnectorKind.TAOBAO, is_enabled=True).first()
        if connector is None:
            raise ApiError("No enabled Taobao connector has this id.", code="not_found", status_code=404)
        data = _message(request)
        secret = connector.message_secret
        expected = top_sign(_signed_fields(data), secret) if secret else None
        if expected is None or not signatures_match(expected, data.get("sign")):
            raise ApiError("The message signature is missing or wrong.", code="not_authenticated", status_code=401)
        if data.get("topic") != RATED_TOPIC:
            return Response(
                {"queued": False, "order_id": None, "detail": f"Topic {data.get('topic')!r} is not handled."}
            )
        tid, oid, rater = _rated_order(data)
        if rater == "seller":
            return Response(
                {"queued": False, "order_id": tid, "detail": "The seller rated the buyer; nothing to fetch."}
            )
        transaction.on_commit(partial(refetch_connector_order_task.delay, connector.pk, tid, oid))
        return Response(
            {"queued": True, "order_id": tid, "detail": "The order's reviews will be fetched again."},
            status=status.HTTP_202_ACCEPTED,
        )

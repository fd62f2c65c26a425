"""OpenAPI shapes of the push endpoint, written out because the view parses its body itself."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from ..choices import EventType, Platform, Tier
from ..validation import CONTENT_MAX, ID_MAX, IMAGE_COUNT_MAX

_ID = {"type": "string", "minLength": 1, "maxLength": ID_MAX}
_SCORE = {"type": "integer", "minimum": 1, "maximum": 5, "nullable": True}

EVENT_SCHEMA = {
    "type": "object",
    "required": ["type", "occurred_at", "platform", "shop", "review_id"],
    "properties": {
        "event_id": {**_ID, "nullable": True, "description": "Idempotency key, unique per shop."},
        "type": {"type": "string", "enum": EventType.values},
        "occurred_at": {"type": "string", "format": "date-time", "description": "With an offset."},
        "platform": {"type": "string", "enum": Platform.values},
        "shop": {**_ID, "description": "The shop's external id."},
        "review_id": _ID,
        "order_id": {**_ID, "nullable": True, "description": "Required for review.created."},
        "sub_order_id": {**_ID, "nullable": True},
        "buyer": {
            "type": "object",
            "nullable": True,
            "required": ["id"],
            "properties": {
                "id": _ID,
                "nick": {"type": "string", "maxLength": 64, "nullable": True},
                "phone": {"type": "string", "maxLength": 32, "nullable": True},
                "region": {"type": "string", "maxLength": 64, "nullable": True},
            },
        },
        "item": {
            "type": "object",
            "nullable": True,
            "properties": {
                "id": {**_ID, "nullable": True},
                "sku": {**_ID, "nullable": True},
                "title": {"type": "string", "maxLength": 255, "nullable": True},
                "sku_text": {"type": "string", "maxLength": 255, "nullable": True},
                "price": {"type": "string", "pattern": r"^\d{1,8}(\.\d{1,2})?$", "nullable": True},
            },
        },
        "rating": {
            "type": "object",
            "nullable": True,
            "properties": {
                "tier": {"type": "string", "enum": Tier.values, "nullable": True},
                "stars": _SCORE,
                "dsr": {
                    "type": "object",
                    "nullable": True,
                    "properties": {"description": _SCORE, "service": _SCORE, "logistics": _SCORE},
                },
            },
        },
        "content": {"type": "string", "maxLength": CONTENT_MAX, "nullable": True},
        "image_count": {"type": "integer", "minimum": 0, "maximum": IMAGE_COUNT_MAX, "nullable": True},
        "followup": {
            "type": "object",
            "nullable": True,
            "properties": {
                "content": {"type": "string", "maxLength": CONTENT_MAX, "nullable": True},
                "image_count": {"type": "integer", "minimum": 0, "maximum": IMAGE_COUNT_MAX, "nullable": True},
                "negative": {"type": "boolean", "nullable": True},
            },
        },
        "reply": {
            "type": "object",
            "nullable": True,
            "required": ["content"],
            "properties": {"content": {"type": "string", "minLength": 1, "maxLength": CONTENT_MAX}},
        },
    },
}

PUSH_REQUEST_SCHEMA = {
    "oneOf": [
        EVENT_SCHEMA,
        {
            "type": "object",
            "required": ["events"],
            "properties": {"events": {"type": "array", "minItems": 1, "maxItems": 500, "items": EVENT_SCHEMA}},
        },
    ]
}

_ERROR = {
    "type": "object",
    "required": ["code", "message", "fields"],
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
}

PUSH_RESPONSE_SCHEMA = {
    "type": "object",
    "required": ["accepted", "rejected", "results"],
    "properties": {
        "accepted": {"type": "integer"},
        "rejected": {"type": "integer"},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["index", "event_id", "review_id", "status"],
                "properties": {
                    "index": {"type": "integer"},
                    "event_id": {"type": "string", "nullable": True},
                    "review_id": {"type": "string", "nullable": True},
                    "status": {"type": "string", "enum": ["created", "updated", "duplicate", "ignored", "rejected"]},
                    "ticket_id": {"type": "integer", "nullable": True},
                    "error": _ERROR,
                },
            },
        },
        "error": _ERROR,
    },
}

EVENT_EXAMPLE = {
    "event_id": "tb-evt-000123",
    "type": "review.created",
    "occurred_at": "2026-03-02T10:15:00+08:00",
    "platform": "taobao",
    "shop": "tb-57301234",
    "review_id": "r-9",
    "order_id": "3901234567890",
    "buyer": {"id": "AAHk5d-FQBkNnQ3Yx0b", "nick": "t**o", "region": "浙江 杭州"},
    "item": {"id": "6523", "sku": "6523-BLK-M", "title": "加厚保暖羽绒服", "price": "399.00"},
    "rating": {"tier": "negative", "stars": 1, "dsr": {"description": 2, "service": 3, "logistics": 1}},
    "content": "快递太慢了，衣服有线头",
    "image_count": 2,
}


class BearerKeyScheme(OpenApiAuthenticationExtension):
    """Describes BearerKeyAuthentication in the schema (API.md § Authentication)."""

    target_class = "reviews.authentication.BearerKeyAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An integration API key (rdk_…) or a personal token (rdp_…).",
        }


class SessionLeavingTheBodyScheme(OpenApiAuthenticationExtension):
    """The push API recognises a browser session only to answer it 403: it is not a way to push,
    so the schema names no scheme for it (the operation's security is the bearer key)."""

    target_class = "reviews.authentication.SessionLeavingTheBody"
    name = []

    def get_security_requirement(self, auto_schema):
        return None

    def get_security_definition(self, auto_schema):
        return []

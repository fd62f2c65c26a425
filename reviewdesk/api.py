"""API plumbing shared by every app: the error shape of API.md and pagination. The renderer and
filter backend live in their own modules because DRF settings import them while loading."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import set_rollback


class ApiError(exceptions.APIException):
    """An error with an API.md code; `fields` maps field paths to lists of problems."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_body"
    default_detail = "The request body is not valid."

    def __init__(self, message=None, *, code=None, fields=None, status_code=None):
        super().__init__(message or self.default_detail, code or self.default_code)
        self.error_code = code or self.default_code
        self.fields = fields or {}
        if status_code is not None:
            self.status_code = status_code


class InvalidFilter(ApiError):
    default_code = "invalid_filter"
    default_detail = "A filter value is not valid."


def error_body(code, message, fields=None):
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


_DRF_CODES = [
    (exceptions.NotAuthenticated, 401, "not_authenticated"),
    (exceptions.AuthenticationFailed, 401, "not_authenticated"),
    (exceptions.PermissionDenied, 403, "permission_denied"),
    (exceptions.NotFound, 404, "not_found"),
    (exceptions.MethodNotAllowed, 405, "method_not_allowed"),
    (exceptions.NotAcceptable, 406, "not_acceptable"),
    (exceptions.UnsupportedMediaType, 415, "unsupported_media_type"),
    (exceptions.Throttled, 429, "throttled"),
    (exceptions.ParseError, 400, "invalid_json"),
]


def _flatten(detail, prefix=""):
    """DRF's nested ValidationError detail -> {"a.b": ["problem"]}."""
    out = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors" and not prefix:
                path = ""
            out.update(_flatten(value, path))
    elif isinstance(detail, list) and detail and not all(isinstance(d, (str, exceptions.ErrorDetail)) for d in detail):
        for index, value in enumerate(detail):
            out.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        items = detail if isinstance(detail, list) else [detail]
        out.setdefault(prefix, []).extend(str(item) for item in items)
    return out


def exception_handler(exc, context):
    """Render every API error as API.md's `{"error": {"code", "message", "fields"}}`."""
    if isinstance(exc, RequestDataTooBig):  # over DATA_UPLOAD_MAX_MEMORY_SIZE, read by the parser
        exc = ApiError("The body is too large.", code="body_too_large", status_code=413)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    headers = {}
    if isinstance(exc, exceptions.APIException):
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = f"{int(exc.wait)}"

    if isinstance(exc, ApiError):
        body, code = error_body(exc.error_code, exc.detail, exc.fields), exc.status_code
    elif isinstance(exc, exceptions.ValidationError):
        body, code = error_body("invalid_body", "The request is not valid.", _flatten(exc.detail)), 400
    elif isinstance(exc, exceptions.APIException):
        for cls, status_code, error_code in _DRF_CODES:
            if isinstance(exc, cls):
                body, code = error_body(error_code, exc.detail), status_code
                break
        else:
            body, code = error_body(exc.default_code, exc.detail), exc.status_code
    else:
        return None
    set_rollback()
    return Response(body, status=code, headers=headers)


class NewestFirstCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        # API.md: page_size is clamped to 200; a value that is not a positive integer is a bad filter.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            value = int(raw)
        except ValueError:
            raise InvalidFilter(fields={"page_size": ["Enter a whole number."]}) from None
        if value < 1:
            raise InvalidFilter(fields={"page_size": ["Must be at least 1."]})
        return min(value, self.max_page_size)

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise InvalidFilter(fields={"cursor": ["Invalid cursor."]}) from None


# The schema: API.md's error body on the statuses any operation may answer -----------------------

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "description": "snake_case, e.g. invalid_filter"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
        }
    },
}
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_ERRORS = {
    "400": "Bad input: invalid_json, invalid_body, invalid_filter (`fields` names the problems).",
    "401": "Missing or bad credentials.",
    "403": "Authenticated but not allowed.",
    "429": "Throttled; see Retry-After.",
    "503": "The database is unavailable; retry after Retry-After seconds.",
}
_PATH_ERRORS = {"404": "Not found, or not in the caller's shops."}
_PATH_WRITE_ERRORS = {"409": "Refused by the rules (the code says why)."}
_WRITE_ERRORS = {
    "413": "The body is too large.",
    "415": "Not application/json.",
}


def error_responses_hook(result, generator, request, public):
    """drf-spectacular postprocessing: every /api/ operation documents the error statuses it may
    answer, each with API.md's error body; a documented error response with its own body (the push
    API's 400 with per-event results) may also be the plain error body."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            errors = dict(_ERRORS)
            if "{" in path:
                errors.update(_PATH_ERRORS)
            if method != "get":
                errors.update(_WRITE_ERRORS)
                if "{" in path:
                    errors.update(_PATH_WRITE_ERRORS)
            responses = operation.setdefault("responses", {})
            for code, description in errors.items():
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if not code.startswith(("4", "5")):
                    continue
                content = response.setdefault("content", {})
                media = content.setdefault("application/json", {})
                schema = media.get("schema")
                if schema is None:
                    media["schema"] = _ERROR_REF
                elif schema != _ERROR_REF:
                    media["schema"] = {"anyOf": [schema, _ERROR_REF]}
    return result

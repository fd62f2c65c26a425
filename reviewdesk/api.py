"""API plumbing shared by every app: the error shape of API.md and pagination. The renderer and
filter backend live in their own modules because DRF settings import them while loading."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
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
    if isinstance(exc, Http404):
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

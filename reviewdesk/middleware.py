"""Turn a lost database connection into a clean 503 in API.md's error shape, never a 500 page."""

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

from .api import error_body


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)):
            response = JsonResponse(
                error_body("service_unavailable", "The database is unavailable; retry the request shortly."),
                status=503,
            )
            response["Retry-After"] = "5"
            return response
        return None

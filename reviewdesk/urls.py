from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .api import error_body
from .views import healthz

api_v1 = [
    path("", include("reviews.api.urls")),
    path("", include("tickets.api.urls")),
    path("", include("contacts.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file (?script=), so CSP needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("healthz/", healthz, name="healthz"),
    path("", include("contacts.urls")),
    path("", include("tickets.urls")),
    path("", include("tickets.dashboard_urls")),
    path("", include("tickets.audit_urls")),
]


def _api_or_html(status, code, message, fallback):
    def view(request, exception=None):
        if request.path.startswith("/api/"):
            return JsonResponse(error_body(code, message), status=status)
        return fallback(request, exception) if exception is not None else fallback(request)

    return view


from django.views import defaults  # noqa: E402

handler400 = _api_or_html(400, "invalid_body", "Bad request.", defaults.bad_request)
handler403 = _api_or_html(403, "permission_denied", "Not allowed.", defaults.permission_denied)
handler404 = _api_or_html(404, "not_found", "Not found.", defaults.page_not_found)
handler500 = _api_or_html(500, "server_error", "Internal error.", defaults.server_error)

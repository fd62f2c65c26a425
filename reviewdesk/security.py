"""Security headers (Content-Security-Policy and friends) and login lockout glue (issue 7).

Django 5.2 has no CSP of its own, so one small middleware sets the headers on every response. The
pages load scripts and styles only from our own origin: no inline scripts anywhere (the
workspace's behaviour lives in static/reviewdesk/*.js), no inline styles except where a page
needs them (see STYLE_SRC). The Swagger UI page gets a policy of its own.

Login lockout is django-axes (brute force per username + client IP for a cool-off period); this
module adds the backend wrapper, the client-IP reader and the page shown while locked out.
"""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils.translation import ngettext

# Styles: 'self' plus 'unsafe-inline'. Scripts stay strict; styles need the exception because
# the dashboard draws its backlog bars with a per-row `style="width: N%"` (server-computed data)
# and the Django admin uses inline style attributes in several widgets. An injected style can
# restyle a page but cannot run code or send data anywhere (img-src/connect-src stay 'self').
STYLE_SRC = "'self' 'unsafe-inline'"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        f"style-src {STYLE_SRC}",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

# Swagger UI (drf-spectacular-sidecar, served locally): the bundle's own stylesheet plus the
# inline <style> of drf-spectacular's template and the style attributes React sets; its init
# script is a separate file (SpectacularSwaggerSplitView), so scripts stay 'self' here too.
# Swagger UI renders its SVG icons from data: URIs, and "Try it out" calls our own API.
API_DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
    )
)


class SecurityHeadersMiddleware:
    """Content-Security-Policy, Permissions-Policy, Cross-Origin-Opener-Policy and
    Cross-Origin-Resource-Policy on every response; Referrer-Policy and nosniff come from
    Django's SecurityMiddleware (SECURE_REFERRER_POLICY, SECURE_CONTENT_TYPE_NOSNIFF)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.docs_prefix = "/api/docs/"

    def __call__(self, request):
        response = self.get_response(request)
        policy = API_DOCS_POLICY if request.path.startswith(self.docs_prefix) else CONTENT_SECURITY_POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY or "same-origin")
        return response


# Login lockout ---------------------------------------------------------------------------------


class LoginLockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, first in AUTHENTICATION_BACKENDS.

    Every login form (ours and the admin's) passes the request to authenticate(). A call without
    a request (the test client's login(), a management command) is not a login over HTTP and
    cannot be attributed to a client address, so it is not counted; axes would refuse it."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request):
    """The client's address: REMOTE_ADDR, or with NUM_PROXIES trusted proxies in front, the
    address the outermost of them saw (counted from the right of X-Forwarded-For, so a client
    cannot choose it by sending its own header)."""
    proxies = settings.NUM_PROXIES
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-min(proxies, len(forwarded))]
    return request.META.get("REMOTE_ADDR", "")


# The username columns of axes' records.
LOCKOUT_USERNAME_MAX_LENGTH = 255


def lockout_username(request, credentials=None):
    """The username failed logins are counted under (AXES_USERNAME_CALLABLE): the one typed, cut to
    what axes' columns hold. Django's login form does not check the username's length, so a
    longer one would make recording the failure crash: a 500 instead of a failed login."""
    source = credentials or getattr(request, "data", request.POST)
    username = source.get("username")
    return username[:LOCKOUT_USERNAME_MAX_LENGTH] if isinstance(username, str) else username


def login_locked_out(request, original_response=None, credentials=None):
    """The login page again, with the reason, as 429 (AXES_LOCKOUT_CALLABLE) - for the admin's
    login too, which posts to the same authenticate()."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    message = ngettext(
        "Too many failed logins for this user from your address. Try again in %(minutes)d minute, "
        "or ask an administrator to unlock the account.",
        "Too many failed logins for this user from your address. Try again in %(minutes)d minutes, "
        "or ask an administrator to unlock the account.",
        minutes,
    ) % {"minutes": minutes}
    form = AuthenticationForm(request, data=None)
    response = render(
        request,
        "registration/login.html",
        {"form": form, "locked_out_message": message, "next": request.POST.get("next", "")},
        status=429,
    )
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response

"""Security and operations (issue 7): login lockout, API rate limits per caller, CSRF on every form,
and the security headers (Content-Security-Policy among them) on pages, the API and the API docs."""

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from reviewdesk import throttling
from reviewdesk.security import API_DOCS_POLICY, CONTENT_SECURITY_POLICY, client_ip

from .conftest import event
from .factories import UserFactory, make_api_key

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


def directives(policy):
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part}


# Login lockout ---------------------------------------------------------------------------------


@pytest.fixture
def person(db):
    user = UserFactory(username="mei")
    user.set_password(PASSWORD)
    user.save()
    return user


def attempt(client, password, *, path="/login/", username="mei"):
    return client.post(path, {"username": username, "password": password, "next": ""})


@override_settings(AXES_FAILURE_LIMIT=3, AXES_COOLOFF_TIME=dt.timedelta(minutes=15))
def test_a_username_is_locked_out_from_an_address_after_the_failure_limit_even_with_the_right_password(person):
    client = Client()
    for _ in range(2):
        response = attempt(client, "wrong")
        assert response.status_code == 200  # the form again, with the usual error
    response = attempt(client, "wrong")
    assert response.status_code == 429
    response = attempt(client, PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    assert "Too many failed logins for this user from your address. Try again in 15 minutes" in response.text
    assert 'data-testid="login-locked-out"' in response.text
    assert "_auth_user_id" not in client.session


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_lockout_is_per_username_and_address(person):
    other = UserFactory(username="lan")
    other.set_password(PASSWORD)
    other.save()
    for _ in range(3):
        attempt(Client(), "wrong")
    assert attempt(Client(), PASSWORD).status_code == 429
    # The same user from another address, and another user from the same address, still log in.
    assert attempt(Client(REMOTE_ADDR="10.1.2.3"), PASSWORD).status_code == 302
    assert attempt(Client(), PASSWORD, username="lan").status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3, AXES_COOLOFF_TIME=dt.timedelta(minutes=15))
def test_the_lockout_ends_after_the_cool_off_period(person):
    import time_machine

    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=False):
        for _ in range(3):
            attempt(Client(), "wrong")
        assert attempt(Client(), PASSWORD).status_code == 429
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 16, tzinfo=dt.UTC), tick=False):
        assert attempt(Client(), PASSWORD).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_successful_login_resets_the_failure_count(person):
    client = Client()
    attempt(client, "wrong")
    attempt(client, "wrong")
    assert attempt(client, PASSWORD).status_code == 302
    client.logout()
    attempt(client, "wrong")
    attempt(client, "wrong")
    assert attempt(client, PASSWORD).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_admin_login_counts_and_is_locked_out_too(person):
    person.is_staff = True
    person.save()
    client = Client()
    for _ in range(3):
        attempt(client, "wrong", path="/admin/login/")
    response = attempt(client, PASSWORD, path="/admin/login/")
    assert response.status_code == 429
    assert "Too many failed logins" in response.text
    # The lock is on the user and address, whichever form the next attempt comes through.
    assert attempt(client, PASSWORD).status_code == 429


def test_the_client_address_comes_from_the_trusted_proxy_hop_only(rf):
    request = rf.get("/", REMOTE_ADDR="172.18.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    with override_settings(NUM_PROXIES=0):
        assert client_ip(request) == "172.18.0.5"
    with override_settings(NUM_PROXIES=1):
        # The proxy appended the address it saw; whatever the client sent before it is ignored.
        assert client_ip(request) == "203.0.113.9"


# API rate limits ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_rate_counters():
    """Counters live in Redis for a minute, and ids restart with each test database: start clean."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client(write=True)
        stale = list(client.scan_iter(match="*throttle:*"))
        if stale:
            client.delete(*stale)
    else:
        backend.clear()


def with_rates(**rates):
    base = settings.REST_FRAMEWORK
    return override_settings(
        REST_FRAMEWORK={**base, "DEFAULT_THROTTLE_RATES": {**base["DEFAULT_THROTTLE_RATES"], **rates}}
    )


def test_the_default_rates_leave_room_for_the_ingest_benchmark():
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    per_key, period = throttling.parse_rate(rates["api_key"])
    # bench/ingest.py: 8 clients of single events at ~300/s on one key, plus headroom.
    assert per_key / period >= 600
    assert "reviewdesk.throttling.PrincipalRateThrottle" in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]


def test_an_api_key_over_its_rate_gets_429_throttled_with_retry_after(shop_a, shop_b):
    _, key = make_api_key(shop_a, name="fast")
    _, other_key = make_api_key(shop_a, name="other")
    api = APIClient()
    with with_rates(api_key="3/min"):
        for i in range(3):
            body = event(event_id=f"t-{i}", review_id=f"r-{i}")
            response = api.post("/api/v1/review-events/", body, format="json", HTTP_AUTHORIZATION=f"Bearer {key}")
            assert response.status_code == 200, response.content
        response = api.post(
            "/api/v1/review-events/", event(event_id="t-9"), format="json", HTTP_AUTHORIZATION=f"Bearer {key}"
        )
        assert response.status_code == 429
        body = response.json()
        assert body["error"]["code"] == "throttled"
        assert body["error"]["message"]
        assert body["error"]["fields"] == {}
        assert 1 <= int(response["Retry-After"]) <= 61
        # Reads count against the same key; another key has its own allowance.
        assert api.get("/api/v1/tickets/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 429
        assert api.get("/api/v1/tickets/", HTTP_AUTHORIZATION=f"Bearer {other_key}").status_code == 200


def test_a_throttled_push_changes_nothing(shop_a):
    from reviews.models import InboundEvent

    _, key = make_api_key(shop_a, name="fast")
    api = APIClient()
    with with_rates(api_key="1/min"):
        api.post("/api/v1/review-events/", event(event_id="a"), format="json", HTTP_AUTHORIZATION=f"Bearer {key}")
        before = InboundEvent.objects.count()
        response = api.post(
            "/api/v1/review-events/",
            event(event_id="b", review_id="r-b"),
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
    assert response.status_code == 429
    assert InboundEvent.objects.count() == before


def test_a_person_has_their_own_rate(agent, supervisor):
    api = APIClient()
    api.force_login(agent)
    other = APIClient()
    other.force_login(supervisor)
    with with_rates(person="2/min"):
        assert api.get("/api/v1/tickets/").status_code == 200
        assert api.get("/api/v1/tickets/").status_code == 200
        response = api.get("/api/v1/tickets/")
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "throttled"
        assert "Retry-After" in response
        assert other.get("/api/v1/tickets/").status_code == 200


def test_missing_credentials_are_401_not_counted_as_a_caller(db):
    with with_rates(anon="1/min"):
        for _ in range(3):
            assert APIClient().get("/api/v1/tickets/").status_code == 401


def test_the_throttle_costs_one_redis_round_trip_per_request(shop_a, monkeypatch):
    if not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        pytest.skip("needs the Redis cache")
    calls = {"commands": 0, "pipelines": 0}
    original_command = redis.Redis.execute_command
    original_pipeline = redis.client.Pipeline.execute

    def command(self, *args, **kwargs):
        calls["commands"] += 1
        return original_command(self, *args, **kwargs)

    def pipeline(self, *args, **kwargs):
        calls["pipelines"] += 1
        return original_pipeline(self, *args, **kwargs)

    throttle = throttling.PrincipalRateThrottle()

    class Caller:
        is_integration = True
        is_authenticated = True

        class api_key:  # noqa: N801
            pk = 424242

    class Request:
        user = Caller()
        META = {"REMOTE_ADDR": "127.0.0.1"}

    cache.delete_many([])  # connect before counting
    monkeypatch.setattr(redis.Redis, "execute_command", command)
    monkeypatch.setattr(redis.client.Pipeline, "execute", pipeline)
    assert throttle.allow_request(Request(), None)
    assert calls == {"commands": 0, "pipelines": 1}


def test_an_unavailable_cache_lets_requests_through_instead_of_failing_them(shop_a, monkeypatch):
    _, key = make_api_key(shop_a, name="no cache")

    def down(*args, **kwargs):
        raise redis.ConnectionError("Redis is down")

    monkeypatch.setattr(throttling, "_hit", down)
    with with_rates(api_key="1/min"):
        for _ in range(2):
            assert APIClient().get("/api/v1/tickets/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200


def test_a_bad_rate_is_refused_loudly():
    with pytest.raises(ValueError, match="Bad throttle rate"):
        throttling.parse_rate("lots")
    assert throttling.parse_rate("") == (None, None)
    assert throttling.parse_rate("6000/min") == (6000, 60)


# CSRF on every form ------------------------------------------------------------------------------

# Every route a workspace or buyer page posts to, with placeholder ids: the CSRF check runs before
# the view, so the ids need not exist.
FORM_ROUTES = {
    "login": {},
    "logout": {},
    "set_language": {},
    "duty": {},
    "notifications-read": {},
    "ticket-contact": {"ticket_id": 999999},
    "ticket-take": {"ticket_id": 999999},
    "ticket-assign": {"ticket_id": 999999},
    "ticket-cause": {"ticket_id": 999999},
    "ticket-remedy": {"ticket_id": 999999},
    "ticket-outcome": {"ticket_id": 999999},
    "ticket-explanation": {"ticket_id": 999999},
    "ticket-visit": {"ticket_id": 999999},
    "ticket-escalate": {"ticket_id": 999999},
    "ticket-note": {"ticket_id": 999999},
    "visit-done": {"visit_id": 999999},
    "remedy-decide": {"remedy_id": 999999},
    "remedy-status": {"remedy_id": 999999},
    "buyer-reveal": {"buyer_id": 999999},
    "buyer-note": {"buyer_id": 999999},
    "buyer-list-mark": {"buyer_id": 999999},
    "admin:login": {},
}
CSRF_FAILURE = "CSRF verification failed"


def routes_posted_to_by_templates():
    names = set()
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<form[^>]*>", text):
            if 'method="post"' in tag.lower():
                names.update(re.findall(r"\{%\s*url\s+'([\w:-]+)'", tag))
        # Forms rendered by tickets/_form.html get their action as `{% url 'name' … as action %}`.
        names.update(re.findall(r"\{%\s*url\s+'([\w:-]+)'[^%]*\bas action\s*%\}", text))
    return names


def test_every_form_in_the_templates_is_covered_here():
    found = routes_posted_to_by_templates()
    assert found, "the template scan found no forms"
    assert found <= set(FORM_ROUTES), found - set(FORM_ROUTES)


@pytest.mark.parametrize("name", sorted(FORM_ROUTES))
def test_a_post_without_the_csrf_token_is_refused(name, supervisor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)
    url = reverse(name, kwargs=FORM_ROUTES[name])
    response = client.post(url, {"note": "x", "reason": "x", "on_duty": "1"})
    assert response.status_code == 403
    assert CSRF_FAILURE in response.text
    # The same request with the token gets past the check (to whatever the view makes of it).
    client.get(reverse("queue"))
    token = client.cookies["csrftoken"].value
    response = client.post(url, {"csrfmiddlewaretoken": token, "note": "x", "reason": "x", "on_duty": "1"})
    assert CSRF_FAILURE not in response.content.decode(errors="replace")


def test_an_api_write_with_a_session_needs_the_csrf_token(agent):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(agent)
    response = client.post("/api/v1/tickets/999999/cause/", {"cause": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "CSRF" in response.json()["error"]["message"]


# Security headers ----------------------------------------------------------------------------------


class ScriptCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts = []
        self.handlers = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes)
        self.handlers.extend(name for name, _ in attrs if name.startswith("on"))


def assert_common_headers(response):
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_pages_carry_a_strict_content_security_policy(supervisor):
    client = Client()
    client.force_login(supervisor)
    for url in ["/login/", "/", "/tickets/", "/audit/"]:
        response = Client().get(url) if url == "/login/" else client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert_common_headers(response)
        parser = ScriptCollector()
        parser.feed(response.text)
        assert parser.scripts and all(script.get("src") for script in parser.scripts), url
        assert parser.handlers == [], url
    policy = directives(CONTENT_SECURITY_POLICY)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]


def test_api_responses_carry_the_headers_too(key_a):
    response = APIClient().get("/api/v1/tickets/", HTTP_AUTHORIZATION=f"Bearer {key_a}")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert_common_headers(response)


def test_the_api_docs_load_their_script_from_a_file_under_their_own_policy(db):
    client = Client()
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == API_DOCS_POLICY
    assert_common_headers(response)
    parser = ScriptCollector()
    parser.feed(response.text)
    sources = [script.get("src") for script in parser.scripts]
    assert sources and all(sources), "an inline script would be blocked by script-src 'self'"
    assert all(src.startswith("/") for src in sources), "no external assets"
    init = [src for src in sources if "script=" in src]
    assert init, sources
    script = client.get(init[0])
    assert script.status_code == 200
    assert b"SwaggerUIBundle" in script.content
    assert directives(API_DOCS_POLICY)["script-src"] == ["'self'"]


def test_no_template_has_an_inline_script_or_event_handler():
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, f"{template}: inline <script>"
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", text), f"{template}: inline event handler"
        assert "javascript:" not in text, f"{template}: javascript: URL"


def test_the_evidence_pack_print_button_needs_no_inline_script():
    text = (ROOT / "templates/contacts/evidence_pack.html").read_text(encoding="utf-8")
    assert "data-print" in text
    assert "reviewdesk/print.js" in text
    assert "window.print()" in (ROOT / "static/reviewdesk/print.js").read_text(encoding="utf-8")


# Settings and their documentation ------------------------------------------------------------------

NEW_VARIABLES = [
    "NUM_PROXIES",
    "LOGIN_LOCKOUT_ENABLED",
    "LOGIN_FAILURE_LIMIT",
    "LOGIN_COOLOFF_MINUTES",
    "API_RATE_PER_KEY",
    "API_RATE_PER_PERSON",
    "API_RATE_ANONYMOUS",
]


def settings_variables():
    text = (ROOT / "reviewdesk/settings.py").read_text(encoding="utf-8")
    return set(re.findall(r"env_(?:str|bool|int|list|rate)\(\s*\"([A-Z][A-Z0-9_]*)\"", text))


def test_every_setting_is_in_the_operations_guide_and_the_new_ones_everywhere():
    names = settings_variables()
    assert set(NEW_VARIABLES) <= names
    operations = (ROOT / "docs/operations.md").read_text(encoding="utf-8")
    assert [name for name in sorted(names) if f"`{name}`" not in operations] == []
    configuration = (ROOT / "docs/configuration.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    env_example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in NEW_VARIABLES:
        assert f"`{name}`" in configuration, name
        assert f"`{name}`" in readme, name
        assert re.search(rf"^#? ?{name}=", env_example, re.MULTILINE), name


def test_a_rate_is_read_strictly(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from reviewdesk.env import env_rate

    monkeypatch.setenv("SOME_RATE", "120/minute")
    assert env_rate("SOME_RATE", "1/s") == "120/minute"
    monkeypatch.setenv("SOME_RATE", "")
    assert env_rate("SOME_RATE", "1/s") is None
    monkeypatch.delenv("SOME_RATE")
    assert env_rate("SOME_RATE", "1/s") == "1/s"
    for bad in ("lots", "10/fortnight", "-1/min", "ten/min"):
        monkeypatch.setenv("SOME_RATE", bad)
        with pytest.raises(ImproperlyConfigured, match="SOME_RATE must be a rate"):
            env_rate("SOME_RATE", "1/s")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("API_RATE_PER_KEY", "fast", "API_RATE_PER_KEY must be a rate"),
        ("LOGIN_FAILURE_LIMIT", "five", "LOGIN_FAILURE_LIMIT must be an integer"),
        ("LOGIN_LOCKOUT_ENABLED", "maybe", "LOGIN_LOCKOUT_ENABLED must be a boolean"),
    ],
)
def test_a_malformed_security_setting_stops_start_up(tmp_path, name, value, message):
    from .test_deploy_check import manage

    env = {
        "DEBUG": "0",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "reviewdesk.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "REVIEWDESK_VAR_DIR": str(tmp_path / "var"),
        name: value,
    }
    result = manage("check", env=env)
    assert result.returncode != 0
    assert message in result.stderr

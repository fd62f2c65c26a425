"""Every role against every page and endpoint (issue 7).

The routes come from the URL resolver, so a new URL without an entry in MATRIX (or a rule for
its namespace) fails `test_every_route_has_an_expectation`. Each route is requested by every
role inside a savepoint that is rolled back afterwards, so the roles see the same world; a
write that is refused must leave every table's row count and the target rows as they were.

Roles: anonymous, an outsider with no shop, an agent of shop A (the assignee of the target
ticket), an agent of shop B, a supervisor of shop A, and shop A's integration key.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from reviews.models import Connector
from tickets.actions import followup_visit_schedule, remedy_record
from tickets.assignment import assign_ticket
from tickets.choices import Role
from tickets.models import AgentProfile, Notification

from .conftest import event
from .factories import make_agent

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "outsider", "agent_a", "agent_b", "supervisor_a", "key_a"]
LOGIN = "login"  # a redirect to the workspace login page
ADMIN_LOGIN = "admin_login"  # a redirect to the admin login page


# The world every role is tried against ----------------------------------------------------------


@dataclass
class World:
    clients: dict
    ticket: object  # shop A, assigned to agent_a
    pool_ticket: object  # shop A, nobody holds it
    remedy: object  # on `ticket`, waiting for a supervisor's approval
    visit: object  # a follow-up visit of agent_a on `ticket`
    buyer: object
    connector: object
    colleague: object  # a second agent of shop A, target of a reassignment
    notification: object
    ids: dict = field(default_factory=dict)


def _client(user=None, key=None):
    client = Client(headers={"authorization": f"Bearer {key}"} if key else None)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def world(shop_a, shop_b, key_a, agent, agent_b, supervisor, outsider, push):
    AgentProfile.objects.filter(user=agent).update(on_duty=True, capacity=5)
    colleague = make_agent(shop_a, username="colleague_a")
    pushed = push(
        {
            "events": [
                event(event_id="e-1", review_id="r-1", buyer={"id": "buyer-1", "nick": "tony", "phone": "13812345678"}),
                event(event_id="e-2", review_id="r-2", buyer={"id": "buyer-2", "nick": "amy"}),
            ]
        }
    )
    assert pushed.status_code == 200, pushed.content
    ticket_id, pool_id = (r["ticket_id"] for r in pushed.json()["results"])
    ticket = assign_ticket(ticket_id)
    assert ticket.assignee_id == agent.pk
    remedy = remedy_record(ticket.pk, agent, kind="full_refund", amount=Decimal("399.00"), status="offered")
    assert remedy.status == "pending_approval"
    visit = followup_visit_schedule(ticket.pk, agent, due_on=timezone.localdate() + dt.timedelta(days=1))
    notification = Notification.objects.create(
        recipient=agent, ticket=ticket, kind=Notification.Kind.ASSIGNED, message="x", created_at=timezone.now()
    )
    connector = Connector.objects.create(
        shop=shop_a, kind="taobao", name="tb-a TOP", feed_url="http://127.0.0.1:9/", message_secret="s3cret"
    )
    ticket.refresh_from_db()
    clients = {
        "anonymous": _client(),
        "outsider": _client(outsider),
        "agent_a": _client(agent),
        "agent_b": _client(agent_b),
        "supervisor_a": _client(supervisor),
        "key_a": _client(key=key_a),
    }
    return World(
        clients=clients,
        ticket=ticket,
        pool_ticket=ticket.__class__.objects.get(pk=pool_id),
        remedy=remedy,
        visit=visit,
        buyer=ticket.review.buyer,
        connector=connector,
        colleague=colleague,
        notification=notification,
    )


# What each route is asked and what each role gets -----------------------------------------------


@dataclass
class Call:
    method: str
    path: callable  # World -> URL
    expect: dict  # role -> status code, LOGIN or ADMIN_LOGIN
    body: callable = None  # World -> body (form data for pages, JSON for /api/)
    targets: callable = None  # World -> [model instances a refused write must leave as they were]
    refused_redirects: tuple = ()  # roles refused by the rules with a message and a redirect


def _all(status, **overrides):
    return {role: overrides.get(role, status) for role in ROLES}


def page(status_agent_a, **overrides):
    """A login-required page: anonymous and the key (no session) go to the login page."""
    return {"anonymous": LOGIN, "key_a": LOGIN, "agent_a": status_agent_a, **overrides}


def api(**overrides):
    return {"anonymous": 401, **overrides}


def t(w):
    return [w.ticket]


def ticket_url(suffix):
    return lambda w: f"/tickets/{w.ticket.pk}/{suffix}"


def api_ticket_url(suffix):
    return lambda w: f"/api/v1/tickets/{w.ticket.pk}/{suffix}"


# Ticket of shop A seen by: agent_a (assignee), supervisor_a; agent_b and the outsider get 404.
HIDDEN = {"agent_b": 404, "outsider": 404}
PERIOD = "?from=2026-01-01&to=2026-12-31"

MATRIX = {
    # Root pages, docs, health ----------------------------------------------------------------
    "i18n/setlang/": [
        Call("POST", lambda w: "/i18n/setlang/", _all(302), body=lambda w: {"language": "en", "next": "/"}),
    ],
    "api/schema/": [Call("GET", lambda w: "/api/schema/", _all(200))],
    "api/docs/": [Call("GET", lambda w: "/api/docs/", _all(200))],
    "healthz/": [Call("GET", lambda w: "/healthz/", _all(200))],
    "login/": [
        Call(
            "GET",
            lambda w: "/login/",
            # Someone logged in is sent on to their queue.
            _all(302, anonymous=200, key_a=200),
        )
    ],
    "logout/": [Call("POST", lambda w: "/logout/", _all(302))],
    # Push API ----------------------------------------------------------------------------------
    "api/v1/review-events/": [
        Call(
            "POST",
            lambda w: "/api/v1/review-events/",
            # People get 403 (API.md); only an integration key may push.
            api(outsider=403, agent_a=403, agent_b=403, supervisor_a=403, key_a=200),
            body=lambda w: event(event_id="matrix-1", review_id="matrix-r1"),
        )
    ],
    "api/v1/connectors/<connector_id>/taobao-messages/": [
        # The signature is the authentication: no session or key makes an unsigned message valid.
        Call(
            "POST",
            lambda w: f"/api/v1/connectors/{w.connector.pk}/taobao-messages/",
            _all(401),
            body=lambda w: {"topic": "taobao_trade_TradeRated", "content": '{"tid": 1, "oid": 2}', "sign": "bad"},
        )
    ],
    # Tickets API -------------------------------------------------------------------------------
    "api/v1/tickets/": [
        Call(
            "GET",
            lambda w: "/api/v1/tickets/",
            api(outsider=200, agent_a=200, agent_b=200, supervisor_a=200, key_a=200),
        )
    ],
    "api/v1/tickets/<pk>/": [
        Call("GET", api_ticket_url(""), api(**HIDDEN, agent_a=200, supervisor_a=200, key_a=200)),
    ],
    "api/v1/tickets/<pk>/contact-attempts/": [
        Call(
            "POST",
            api_ticket_url("contact-attempts/"),
            api(**HIDDEN, agent_a=201, supervisor_a=201, key_a=403),
            body=lambda w: {"channel": "im", "result": "message_sent"},
            targets=t,
        )
    ],
    "api/v1/tickets/<pk>/remedies/": [
        Call(
            "POST",
            api_ticket_url("remedies/"),
            api(**HIDDEN, agent_a=201, supervisor_a=201, key_a=403),
            body=lambda w: {"kind": "coupon", "amount": "5.00", "status": "offered"},
            targets=t,
        )
    ],
    "api/v1/tickets/<pk>/cause/": [
        Call(
            "POST",
            api_ticket_url("cause/"),
            api(**HIDDEN, agent_a=200, supervisor_a=200, key_a=403),
            body=lambda w: {"cause": "slow_delivery"},
            targets=t,
        )
    ],
    "api/v1/tickets/<pk>/outcome/": [
        Call(
            "POST",
            api_ticket_url("outcome/"),
            api(**HIDDEN, agent_a=200, supervisor_a=200, key_a=403),
            body=lambda w: {"outcome": "buyer_refused"},
            targets=t,
        )
    ],
    "api/v1/tickets/<pk>/assign/": [
        Call(
            "POST",
            api_ticket_url("assign/"),
            api(**HIDDEN, agent_a=403, supervisor_a=200, key_a=403),
            body=lambda w: {"agent": w.colleague.pk},
            targets=t,
        )
    ],
    "api/v1/tickets/<pk>/take/": [
        Call(
            "POST",
            lambda w: f"/api/v1/tickets/{w.pool_ticket.pk}/take/",
            api(**HIDDEN, agent_a=200, supervisor_a=200, key_a=403),
            body=lambda w: {},
            targets=lambda w: [w.pool_ticket],
        )
    ],
    "api/v1/agents/me/duty/": [
        Call(
            "GET",
            lambda w: "/api/v1/agents/me/duty/",
            api(outsider=403, agent_a=200, agent_b=200, supervisor_a=200, key_a=403),
        ),
        Call(
            "POST",
            lambda w: "/api/v1/agents/me/duty/",
            api(outsider=403, agent_a=200, agent_b=200, supervisor_a=200, key_a=403),
            body=lambda w: {"on_duty": False, "return_tickets": True},
            targets=lambda w: [w.ticket, *AgentProfile.objects.all()],
        ),
    ],
    "api/v1/remedies/<pk>/decision/": [
        Call(
            "POST",
            lambda w: f"/api/v1/remedies/{w.remedy.pk}/decision/",
            api(**HIDDEN, agent_a=403, supervisor_a=200, key_a=403),
            body=lambda w: {"approve": True},
            targets=lambda w: [w.remedy, w.ticket],
        )
    ],
    "api/v1/causes/": [
        Call(
            "GET", lambda w: "/api/v1/causes/", api(outsider=200, agent_a=200, agent_b=200, supervisor_a=200, key_a=200)
        )
    ],
    "api/v1/stats/summary/": [
        Call(
            "GET",
            lambda w: f"/api/v1/stats/summary/{PERIOD}",
            api(outsider=200, agent_a=200, agent_b=200, supervisor_a=200, key_a=200),
        )
    ],
    "api/v1/stats/breakdown/": [
        Call(
            "GET",
            lambda w: f"/api/v1/stats/breakdown/{PERIOD}&by=agent",
            api(outsider=200, agent_a=200, agent_b=200, supervisor_a=200, key_a=200),
        )
    ],
    # Buyers API --------------------------------------------------------------------------------
    "api/v1/buyers/<pk>/": [
        Call("GET", lambda w: f"/api/v1/buyers/{w.buyer.pk}/", api(**HIDDEN, agent_a=200, supervisor_a=200, key_a=200))
    ],
    "api/v1/buyers/<pk>/reveal/": [
        Call(
            "POST",
            lambda w: f"/api/v1/buyers/{w.buyer.pk}/reveal/",
            # Revealing the nick is for supervisors (docs/buyers.md); an agent is refused.
            api(**HIDDEN, agent_a=403, supervisor_a=200, key_a=403),
            body=lambda w: {"field": "nick", "reason": "平台投诉"},
            targets=lambda w: [w.buyer],
        )
    ],
    "api/v1/buyers/<pk>/notes/": [
        Call(
            "POST",
            lambda w: f"/api/v1/buyers/{w.buyer.pk}/notes/",
            api(**HIDDEN, agent_a=201, supervisor_a=201, key_a=403),
            body=lambda w: {"tags": [], "text": "难沟通"},
            targets=lambda w: [w.buyer],
        )
    ],
    "api/v1/buyers/<pk>/list-mark/": [
        Call(
            "POST",
            lambda w: f"/api/v1/buyers/{w.buyer.pk}/list-mark/",
            api(**HIDDEN, agent_a=403, supervisor_a=200, key_a=403),
            body=lambda w: {"mark": "blacklist", "reason": "多次勒索"},
            targets=lambda w: [w.buyer],
        )
    ],
    # Workspace pages ---------------------------------------------------------------------------
    "": [Call("GET", lambda w: "/", page(200, outsider=200, agent_b=200, supervisor_a=200))],
    "pool/": [Call("GET", lambda w: "/pool/", page(200, outsider=200, agent_b=200, supervisor_a=200))],
    "tickets/": [Call("GET", lambda w: "/tickets/", page(403, outsider=403, agent_b=403, supervisor_a=200))],
    "tickets/<ticket_id>/": [Call("GET", ticket_url(""), page(200, **HIDDEN, supervisor_a=200))],
    "tickets/<ticket_id>/contact-attempts/": [
        Call(
            "POST",
            ticket_url("contact-attempts/"),
            page(302, **HIDDEN, supervisor_a=302),
            body=lambda w: {"channel": "im", "result": "message_sent"},
            targets=t,
        )
    ],
    "tickets/<ticket_id>/take/": [
        Call(
            "POST",
            lambda w: f"/tickets/{w.pool_ticket.pk}/take/",
            page(302, **HIDDEN, supervisor_a=302),
            targets=lambda w: [w.pool_ticket],
        )
    ],
    "tickets/<ticket_id>/assign/": [
        Call(
            "POST",
            ticket_url("assign/"),
            page(403, **HIDDEN, supervisor_a=302),
            body=lambda w: {"agent": w.colleague.pk},
            targets=t,
        )
    ],
    "tickets/<ticket_id>/cause/": [
        Call(
            "POST",
            ticket_url("cause/"),
            page(302, **HIDDEN, supervisor_a=302),
            body=lambda w: {"cause": "slow_delivery"},
            targets=t,
        )
    ],
    "tickets/<ticket_id>/remedies/": [
        Call(
            "POST",
            ticket_url("remedies/"),
            page(302, **HIDDEN, supervisor_a=302),
            body=lambda w: {"kind": "coupon", "amount": "5.00", "status": "offered"},
            targets=t,
        )
    ],
    "tickets/<ticket_id>/outcome/": [
        Call(
            "POST",
            ticket_url("outcome/"),
            page(302, **HIDDEN, supervisor_a=302),
            body=lambda w: {"outcome": "buyer_refused"},
            targets=t,
        )
    ],
    "tickets/<ticket_id>/explanation/": [
        Call(
            "POST",
            ticket_url("explanation/"),
            page(302, **HIDDEN, supervisor_a=302),
            body=lambda w: {"content": "给您添麻烦了"},
            targets=t,
        )
    ],
    "tickets/<ticket_id>/visits/": [
        Call(
            "POST",
            ticket_url("visits/"),
            page(302, **HIDDEN, supervisor_a=302),
            body=lambda w: {"due_on": (timezone.localdate() + dt.timedelta(days=2)).isoformat()},
            targets=t,
        )
    ],
    "tickets/<ticket_id>/escalate/": [
        Call(
            "POST",
            ticket_url("escalate/"),
            page(302, **HIDDEN, supervisor_a=302),
            body=lambda w: {"reason": "买家威胁投诉"},
            targets=t,
        )
    ],
    "tickets/<ticket_id>/notes/": [
        Call(
            "POST",
            ticket_url("notes/"),
            page(302, **HIDDEN, supervisor_a=302),
            body=lambda w: {"text": "已留言"},
            targets=t,
        )
    ],
    "visits/<visit_id>/done/": [
        Call(
            "POST",
            lambda w: f"/visits/{w.visit.pk}/done/",
            page(302, **HIDDEN, supervisor_a=302),
            targets=lambda w: [w.visit, w.ticket],
        )
    ],
    "remedies/<remedy_id>/decide/": [
        Call(
            "POST",
            lambda w: f"/remedies/{w.remedy.pk}/decide/",
            page(403, **HIDDEN, supervisor_a=302),
            body=lambda w: {"approve": "1"},
            targets=lambda w: [w.remedy, w.ticket],
        )
    ],
    "remedies/<remedy_id>/status/": [
        Call(
            "POST",
            lambda w: f"/remedies/{w.remedy.pk}/status/",
            # A remedy waiting for approval cannot take the buyer's answer yet: those who may act
            # are refused with a message and a redirect, the others with 403/404; nothing changes.
            page(302, **HIDDEN, supervisor_a=302),
            body=lambda w: {"status": "accepted"},
            targets=lambda w: [w.remedy, w.ticket],
            refused_redirects=("agent_a", "supervisor_a"),
        )
    ],
    "approvals/": [Call("GET", lambda w: "/approvals/", page(403, outsider=403, agent_b=403, supervisor_a=200))],
    "team/": [Call("GET", lambda w: "/team/", page(403, outsider=403, agent_b=403, supervisor_a=200))],
    "duty/": [
        Call(
            "POST",
            lambda w: "/duty/",
            page(302, outsider=403, agent_b=302, supervisor_a=302),
            body=lambda w: {"on_duty": "0", "return_uncontacted": "1"},
            targets=lambda w: [w.ticket, *AgentProfile.objects.all()],
        )
    ],
    "notifications/": [
        Call("GET", lambda w: "/notifications/", page(200, outsider=200, agent_b=200, supervisor_a=200))
    ],
    "notifications/read/": [
        Call(
            "POST",
            lambda w: "/notifications/read/",
            # Everyone marks their own; agent_a's notification is the target the others must not touch.
            page(302, outsider=302, agent_b=302, supervisor_a=302),
            body=lambda w: {"id": w.notification.pk},
            targets=lambda w: [w.notification],
            refused_redirects=("outsider", "agent_b", "supervisor_a"),
        )
    ],
    # Buyer pages -------------------------------------------------------------------------------
    "buyers/<buyer_id>/": [Call("GET", lambda w: f"/buyers/{w.buyer.pk}/", page(200, **HIDDEN, supervisor_a=200))],
    "buyers/<buyer_id>/reveal/": [
        Call(
            "POST",
            lambda w: f"/buyers/{w.buyer.pk}/reveal/",
            page(403, **HIDDEN, supervisor_a=200),
            body=lambda w: {"field": "nick", "reason": "平台投诉"},
            targets=lambda w: [w.buyer],
        )
    ],
    "buyers/<buyer_id>/notes/": [
        Call(
            "POST",
            lambda w: f"/buyers/{w.buyer.pk}/notes/",
            page(302, **HIDDEN, supervisor_a=302),
            body=lambda w: {"text": "难沟通"},
            targets=lambda w: [w.buyer],
        )
    ],
    "buyers/<buyer_id>/list-mark/": [
        Call(
            "POST",
            lambda w: f"/buyers/{w.buyer.pk}/list-mark/",
            page(403, **HIDDEN, supervisor_a=302),
            body=lambda w: {"mark": "blacklist", "reason": "多次勒索"},
            targets=lambda w: [w.buyer],
        )
    ],
    "buyers/<buyer_id>/evidence/": [
        Call(
            "GET",
            lambda w: f"/buyers/{w.buyer.pk}/evidence/?ticket={w.ticket.pk}",
            page(200, **HIDDEN, supervisor_a=200),
        )
    ],
    "audit/": [Call("GET", lambda w: "/audit/", page(403, outsider=403, agent_b=403, supervisor_a=200))],
    # Supervisor dashboard and exports ----------------------------------------------------------
    "dashboard/": [Call("GET", lambda w: "/dashboard/", page(403, outsider=403, agent_b=403, supervisor_a=200))],
    "dashboard/export/<by>.csv": [
        Call("GET", lambda w: "/dashboard/export/agent.csv", page(403, outsider=403, agent_b=403, supervisor_a=200))
    ],
    "dashboard/tickets.csv": [
        Call("GET", lambda w: "/dashboard/tickets.csv", page(403, outsider=403, agent_b=403, supervisor_a=200))
    ],
    "dashboard/feedback/": [
        Call("GET", lambda w: "/dashboard/feedback/", page(403, outsider=403, agent_b=403, supervisor_a=200))
    ],
}

# Namespaces covered by a rule instead of one entry per route: the admin is for staff only, and
# every route of it is tried by every role in test_the_admin_is_closed_to_every_non_staff_role.
RULE_NAMESPACES = {"admin"}


# Enumerating the routes -------------------------------------------------------------------------


def _normalise(route):
    """`api/v1/^tickets/(?P<pk>[^/.]+)/$` and `tickets/<int:ticket_id>/` -> `.../<pk>/`, `.../<ticket_id>/`."""
    route = route.replace("^", "").replace("$", "")
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", route)
    return re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", route)


def _walk(patterns, prefix="", namespace=None):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route, pattern.namespace or namespace)
        else:
            yield _normalise(route), namespace, pattern


def all_routes():
    return list(_walk(get_resolver().url_patterns))


def test_every_route_has_an_expectation():
    routes = {route for route, namespace, _pattern in all_routes() if namespace not in RULE_NAMESPACES}
    assert sorted(routes - set(MATRIX)) == [], "new routes: add them to MATRIX with every role's status"
    assert sorted(set(MATRIX) - routes) == [], "MATRIX lists routes that no longer exist"
    for route, calls in MATRIX.items():
        for call in calls:
            assert set(call.expect) == set(ROLES), f"{call.method} {route}: give every role a status"


# Checking one route -----------------------------------------------------------------------------


def _tables():
    models = [m for label in ("reviews", "contacts", "tickets") for m in apps.get_app_config(label).get_models()]
    return [*models, get_user_model()]


def snapshot(targets):
    """Row counts of every table of the apps, and the target rows themselves."""
    counts = {m._meta.label: m.objects.count() for m in _tables()}
    rows = {(t._meta.label, t.pk): type(t).objects.filter(pk=t.pk).values().first() for t in targets}
    return counts, rows


def _request(client, call, world):
    url = call.path(world)
    method = getattr(client, call.method.lower())
    body = call.body(world) if call.body else None
    if call.method == "GET":
        return method(url)
    if url.startswith("/api/"):
        return method(url, body if body is not None else {}, content_type="application/json")
    return method(url, body or {})


def _check_status(response, expected, role, call, route):
    where = f"{call.method} {route} as {role}"
    if expected == LOGIN:
        assert response.status_code == 302, (where, response.status_code)
        assert response["Location"].startswith("/login/?next="), (where, response["Location"])
        return False
    if expected == ADMIN_LOGIN:
        assert response.status_code == 302, (where, response.status_code)
        assert response["Location"].startswith("/admin/login/"), (where, response["Location"])
        return False
    assert response.status_code == expected, (where, response.status_code, response.content[:300])
    if route.startswith("api/v1/") and response.status_code >= 400:
        error = response.json()["error"]  # API.md's error shape on every refusal
        assert set(error) == {"code", "message", "fields"}, where
    assert response.status_code < 500, where
    return response.status_code < 400


def _refused(call, role, expected, response):
    """Whether this role's write was refused (and so must have changed nothing)."""
    return expected in (LOGIN, ADMIN_LOGIN) or response.status_code >= 400 or role in call.refused_redirects


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: r or "(root)")
def test_each_role_gets_the_expected_status_and_refused_writes_change_nothing(world, route):
    for call in MATRIX[route]:
        for role in ROLES:
            expected = call.expect[role]
            with transaction.atomic():
                targets = call.targets(world) if call.targets else []
                before = snapshot(targets) if call.method != "GET" else None
                response = _request(world.clients[role], call, world)
                _check_status(response, expected, role, call, route)
                if before is not None and _refused(call, role, expected, response):
                    assert snapshot(targets) == before, f"{call.method} {route} as {role} changed data"
                transaction.set_rollback(True)


# The admin -----------------------------------------------------------------------------------------


def _admin_url(pattern, route):
    kwargs = {}
    for name in pattern.pattern.regex.groupindex:
        kwargs[name] = {"app_label": "tickets", "content_type_id": 1}.get(name, "1")
    return reverse(f"admin:{pattern.name}", kwargs=kwargs)


ADMIN_EXCEPTIONS = {
    # role-independent answers of the admin's own login and logout
    "login": _all(200),
    "logout": _all(302),  # a GET logs nobody out (a POST does since Django 5): back to the admin index
}


def test_the_admin_is_closed_to_every_non_staff_role(world):
    # The unnamed catch-all answers like the named routes (a redirect to the admin login).
    admin_routes = [(route, p) for route, ns, p in all_routes() if ns == "admin" and p.name]
    assert len(admin_routes) > 20
    failures = []
    for route, pattern in admin_routes:
        url = _admin_url(pattern, route)
        for role in ROLES:
            expected = ADMIN_EXCEPTIONS.get(pattern.name, {}).get(role, ADMIN_LOGIN)
            response = world.clients[role].get(url)
            if expected == ADMIN_LOGIN:
                ok = response.status_code == 302 and response["Location"].startswith("/admin/login/")
            else:
                ok = response.status_code == expected
            if not ok:
                failures.append((url, role, response.status_code, response.get("Location")))
    assert failures == []


def test_the_outsider_and_agent_b_have_no_profile_in_shop_a(world, outsider, agent_b, shop_a):
    """The roles are what their names say."""
    assert not AgentProfile.objects.filter(user=outsider).exists()
    assert not AgentProfile.objects.filter(user=agent_b, shops=shop_a).exists()
    assert AgentProfile.objects.get(user__username="supervisor_a").role == Role.SUPERVISOR

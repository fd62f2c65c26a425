"""Property-based API tests (issue 7): schemathesis generates requests from the OpenAPI schema
served at /api/schema/ and sends them to the real WSGI application in this process, as a person
(a personal `rdp_` token of shop A's supervisor) and as shop A's integration key.

Checks on every response: no 5xx, a status the schema documents, its content type, and a body
that conforms to the documented schema. Bounded to MAX_EXAMPLES per operation so CI stays quick.
"""

import orjson
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from reviews.models import PersonalToken
from tickets.assignment import assign_ticket
from tickets.choices import Role
from tickets.models import AgentProfile

from .conftest import event
from .factories import make_agent

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
PUSH = "/api/v1/review-events/"


def _served_schema():
    """The document /api/schema/?format=json serves, built without a request or the database."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return orjson.loads(OpenApiJsonRenderer().render(document, renderer_context={}))


SCHEMA = schemathesis.openapi.from_dict(_served_schema())
APP = get_wsgi_application()
HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests on every run: a CI failure reproduces locally
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def world(shop_a, shop_b, key_a, agent, push):
    """Shop A with tickets in several states, a supervisor with a personal token, a buyer."""
    supervisor = make_agent(shop_a, role=Role.SUPERVISOR, username="st_supervisor")
    AgentProfile.objects.filter(user=agent).update(on_duty=True)
    events = [
        event(event_id=f"st-{n}", review_id=f"st-r{n}", buyer={"id": f"st-b{n}", "nick": "tony"}) for n in range(3)
    ]
    response = push({"events": events})
    assert response.status_code == 200, response.content
    ticket_ids = [r["ticket_id"] for r in response.json()["results"]]
    assign_ticket(ticket_ids[0])
    token = PersonalToken(user=supervisor, name="schemathesis")
    raw_token = token.set_new_key()
    token.save()
    return {"person": f"Bearer {raw_token}", "key": f"Bearer {key_a}", "ticket_ids": ticket_ids}


@pytest.fixture
def api_world(world):
    """The world, with the test's connection kept across WSGI requests as Django's test client
    keeps it (after the world is built: the test client reconnects the signal when it is done);
    otherwise the start of the next request closes it inside the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield world
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _point_at_real_rows(case, world):
    """Half the generated ids become ids that exist, so the success paths are exercised too."""
    for name, value in list((case.path_parameters or {}).items()):
        if isinstance(value, int) and value % 2 == 0 and name in ("id", "pk"):
            case.path_parameters[name] = world["ticket_ids"][value % len(world["ticket_ids"])]


@SCHEMA.exclude(path=PUSH).parametrize()
@HYPOTHESIS
def test_every_endpoint_as_a_person_answers_within_its_schema(case, api_world):
    _point_at_real_rows(case, api_world)
    case.call_and_validate(app=APP, headers={"Authorization": api_world["person"]}, checks=CHECKS)


@SCHEMA.include(path=PUSH).parametrize()
@HYPOTHESIS
def test_the_push_endpoint_as_an_integration_answers_within_its_schema(case, api_world):
    case.call_and_validate(app=APP, headers={"Authorization": api_world["key"]}, checks=CHECKS)


@SCHEMA.include(method="GET").parametrize()
@HYPOTHESIS
def test_every_read_as_an_integration_answers_within_its_schema(case, api_world):
    _point_at_real_rows(case, api_world)
    case.call_and_validate(app=APP, headers={"Authorization": api_world["key"]}, checks=CHECKS)

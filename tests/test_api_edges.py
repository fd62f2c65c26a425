"""The API at its edges, as real clients reach them: a browser session on the push API, bodies
over Django's upload limit, a client that asks for HTML, blank filters, an agent id that names
nobody, and a push body streamed with chunked transfer encoding through gunicorn. Each answer
keeps API.md's statuses and error shape, and nothing is half-stored."""

# ruff: noqa: F811 - pytest finds the shared fixtures (tests/workspace.py) by the names imported here

import contextlib
import json

import pytest
import requests
from django.conf import settings
from rest_framework.test import APIClient

from bench.common import create_shop_and_key, fresh_database, gunicorn, manage, pg_connect, server_env
from reviews.models import InboundEvent, Review
from tickets.models import ContactAttempt

from .conftest import event
from .test_ticket_actions_api import as_person, assert_error, snapshot
from .workspace import pool_ticket, ticket  # noqa: F401

pytestmark = pytest.mark.django_db
PUSH = "/api/v1/review-events/"


@pytest.mark.parametrize("with_token", [False, True])
def test_a_logged_in_person_pushing_from_the_browser_gets_403_not_415(agent, with_token):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(agent)
    headers = {}
    if with_token:
        client.get("/")  # a page with forms sets the CSRF cookie, as the browser has it
        headers["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value

    response = client.post(PUSH, json.dumps(event()), content_type="application/json", **headers)

    assert_error(response, 403, "permission_denied")
    assert (Review.objects.count(), InboundEvent.objects.count()) == (0, 0)


def test_a_body_over_the_upload_limit_on_a_write_endpoint_is_413_body_too_large(ticket, agent):
    before = snapshot(ticket)
    note = "字" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 3 + 1)  # three bytes each in UTF-8

    response = as_person(agent).post(
        f"/api/v1/tickets/{ticket.pk}/contact-attempts/",
        json.dumps({"channel": "im", "result": "reached", "note": note}),
        content_type="application/json",
    )

    assert_error(response, 413, "body_too_large")
    assert snapshot(ticket) == before and ContactAttempt.objects.count() == 0


def test_a_bad_request_outside_a_view_answers_an_api_client_in_the_error_shape(client):
    response = client.get("/api/v1/tickets/", HTTP_HOST="evil.example")  # not in ALLOWED_HOSTS

    assert_error(response, 400, "invalid_body")


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "text/html,application/xhtml+xml;q=0.9"])
def test_a_client_that_asks_for_another_type_still_gets_json(ticket, agent, accept):
    response = as_person(agent).get("/api/v1/tickets/", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert [t["id"] for t in response.json()["results"]] == [ticket.pk]


def test_an_unknown_schema_format_is_still_not_found(client):
    assert client.get("/api/schema/?format=xml").status_code == 404


def test_a_blank_status_filter_is_no_filter_like_the_other_blank_filters(ticket, agent):
    everything = as_person(agent).get("/api/v1/tickets/").json()["results"]
    blank = as_person(agent).get("/api/v1/tickets/?status=&tier=&platform=").json()["results"]

    assert blank == everything and len(everything) == 1
    assert_error(as_person(agent).get("/api/v1/tickets/?status=lost"), 400, "invalid_filter", ["status"])
    assert as_person(agent).get("/api/v1/tickets/?status=&status=closed_unresolved").json()["results"] == []


def test_assigning_to_an_id_that_names_nobody_is_a_bad_value_not_a_refusal(pool_ticket, supervisor):
    before = snapshot(pool_ticket)

    response = as_person(supervisor).post(f"/api/v1/tickets/{pool_ticket.pk}/assign/", {"agent": 987654}, format="json")

    assert_error(response, 400, "invalid_body", ["agent"])
    assert snapshot(pool_ticket) == before


# Through gunicorn: what only a real server shows -------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A migrated database of its own with shop tb-a and its key, served by gunicorn (DEBUG=0)."""
    var_dir = tmp_path_factory.mktemp("served")
    with fresh_database(prefix="rd_test_edges") as database_url:
        env = server_env(database_url, var_dir, CELERY_BROKER_URL="filesystem://", REDIS_URL="")
        manage(env, "migrate", "--noinput")
        key = create_shop_and_key(env, shop="tb-a", platform="taobao")
        with gunicorn(env, workers=1, log_dir=var_dir, timeout=60) as server:
            yield server, key, database_url


def _chunks(body, size=700):
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _served_event(review_id):
    return event(shop="tb-a", event_id=f"chunked-{review_id}", review_id=review_id)


@pytest.mark.parametrize("shape", ["single", "batch"])
def test_a_push_streamed_with_chunked_transfer_encoding_lands(served, shape):
    server, key, _database_url = served
    if shape == "single":
        body = json.dumps(_served_event("c-1")).encode()
        expected = 1
    else:
        body = json.dumps({"events": [_served_event(f"c-b{i}") for i in range(40)]}).encode()
        expected = 40
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json; charset=utf-8"}

    # A generator body: requests sends it chunked, with no Content-Length.
    response = requests.post(server.url + PUSH, data=_chunks(body), headers=headers, timeout=30)

    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in response.request.headers
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == expected
    assert {r["status"] for r in response.json()["results"]} == {"created"}


def test_a_chunked_body_over_the_limit_is_413_and_stores_nothing(served):
    server, key, database_url = served
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    padding = "字" * (settings.REVIEW_EVENTS_MAX_BODY_BYTES // 3 + 10)
    body = json.dumps(_served_event("c-big") | {"content": padding}, ensure_ascii=False).encode()
    assert len(body) > settings.REVIEW_EVENTS_MAX_BODY_BYTES

    response = requests.post(server.url + PUSH, data=_chunks(body, 64 * 1024), headers=headers, timeout=60)

    assert response.status_code == 413, response.text[:300]
    assert response.json()["error"]["code"] == "body_too_large"
    with contextlib.closing(pg_connect(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM reviews_inboundevent WHERE event_id = 'chunked-c-big'")
        assert cursor.fetchone()[0] == 0

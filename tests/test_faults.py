"""Faults (issue 7): nothing is lost, nothing is assigned twice, no 500s, when the broker is down,
a worker is killed with SIGKILL, or PostgreSQL restarts under the push API.

Each test starts and stops its own servers on free loopback ports (a redis-server, a PostgreSQL
cluster, gunicorn, Celery workers and beat); the machine's shared PostgreSQL and Redis are only
used as this test run's database, never stopped. A pull connector's failing, slow or garbled feed
is covered in tests/test_connector_json_feed.py (500, refused, timeout, not JSON, invalid events:
each asserts the visible error, the back-off, the kept cursor and that nothing was stored).
"""

import contextlib
import signal
import threading
import time
from unittest import mock

import psycopg2
import pytest
import redis
import requests
from django.db.models import Count
from rest_framework.test import APIClient

from bench.common import create_shop_and_key, gunicorn, manage, server_env
from reviews.models import InboundEvent, Review
from tickets.models import Ticket, TicketEvent
from tickets.tasks import assign_ticket_task

from .conftest import event
from .factories import make_agent
from .processes import PrivatePostgres, free_port, publishing_to, read_log, start_celery, start_redis, stop, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

URL = "/api/v1/review-events/"
WORKER = ("--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat")
# Beat for the pool sweep only, every second; the other schedules stay out of the way.
BEAT_ENV = {"POOL_SWEEP_SECONDS": 1, "SLA_SWEEP_SECONDS": 3600, "CONNECTOR_SWEEP_SECONDS": 3600}


def negative_events(prefix, n):
    return [
        event(event_id=f"{prefix}-{i}", review_id=f"{prefix}-r{i}", buyer={"id": f"{prefix}-b{i}", "nick": "tony"})
        for i in range(n)
    ]


def assert_each_ticket_assigned_exactly_once(agents, expected):
    """`expected` tickets, each assigned, each with one `assigned` timeline row; no agent over capacity."""
    tickets = Ticket.objects.all()
    assert tickets.count() == expected
    assert not tickets.filter(assignee__isnull=True).exists()
    rows = dict(
        TicketEvent.objects.filter(kind="assigned")
        .values_list("ticket_id")
        .annotate(n=Count("id"))
        .values_list("ticket_id", "n")
    )
    assert sorted(rows) == sorted(tickets.values_list("id", flat=True))
    assert set(rows.values()) == {1}
    loads = dict(tickets.values_list("assignee_id").annotate(n=Count("id")).values_list("assignee_id", "n"))
    for user in agents:
        assert loads.get(user.pk, 0) <= user.agent_profile.capacity, (user.username, loads)


def assigned_count():
    return Ticket.objects.filter(assignee__isnull=False).count()


@pytest.fixture
def children():
    """Processes the test starts; stopped (the last started first) whatever happens."""
    started = []
    yield started
    for process in reversed(started):
        stop(process, signal.SIGKILL if process.args[0] == "redis-server" else signal.SIGTERM)


# The broker down while events are pushed --------------------------------------------------------


def test_events_pushed_while_the_broker_is_down_are_stored_and_assigned_once_it_is_back(
    tmp_path, shop_a, key_a, children, caplog
):
    agents = [make_agent(shop_a, on_duty=True, capacity=15, username=f"broker_agent{i}") for i in range(3)]
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    children.append(start_redis(port, tmp_path))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key_a}")

    with publishing_to(broker):
        stop(children[0], signal.SIGKILL)  # the broker dies
        responses = [api.post(URL, {"events": negative_events(f"down{b}", 10)}, format="json") for b in range(4)]
        responses += [api.post(URL, negative_events(f"single{n}", 1)[0], format="json") for n in range(2)]

        assert [r.status_code for r in responses] == [200] * 6
        assert [r.json()["accepted"] for r in responses] == [10, 10, 10, 10, 1, 1]
        assert (Review.objects.count(), InboundEvent.objects.count(), Ticket.objects.count()) == (42, 42, 42)
        assert assigned_count() == 0
        # Each push tried the dead broker, failed fast and went on (reviewdesk.queueing.publish).
        queued = [r.getMessage() for r in caplog.records if r.name == "reviewdesk.queueing"]
        assert len(queued) == 6 and all(m.startswith("could not queue tickets.tasks.assign_ticket") for m in queued)

        children.append(start_redis(port, tmp_path))  # the broker is back, empty
        worker = start_celery("worker", tmp_path, *WORKER, CELERY_BROKER_URL=broker)
        children.append(worker)
        children.append(start_celery("beat", tmp_path, CELERY_BROKER_URL=broker, **BEAT_ENV))

        wait_for(
            lambda: assigned_count() == 42,
            timeout=60,
            what=f"the pool sweep to assign every ticket (worker log:\n{read_log(worker)})",
        )
    assert_each_ticket_assigned_exactly_once(agents, 42)


# A worker killed with SIGKILL half-way through the queue ----------------------------------------


def test_a_worker_killed_half_way_through_the_queue_loses_no_ticket_and_assigns_none_twice(
    tmp_path, shop_a, key_a, children
):
    agents = [make_agent(shop_a, on_duty=True, capacity=100, username=f"kill_agent{i}") for i in range(4)]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key_a}")
    with mock.patch("tickets.tasks.publish"):  # the tickets first, their tasks below, one each
        for b in range(3):
            assert api.post(URL, {"events": negative_events(f"kill{b}", 100)}, format="json").status_code == 200
    ticket_ids = list(Ticket.objects.order_by("id").values_list("id", flat=True))
    assert len(ticket_ids) == 300

    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    children.append(start_redis(port, tmp_path))
    with publishing_to(broker):
        for ticket_id in ticket_ids:
            assign_ticket_task.apply_async(args=[ticket_id])
        worker = start_celery("worker", tmp_path, *WORKER, CELERY_BROKER_URL=broker)
        children.append(worker)
        wait_for(
            lambda: assigned_count() >= 20, timeout=60, interval=0.05, what=f"some assignments:\n{read_log(worker)}"
        )
        stop(worker, signal.SIGKILL)  # kill -9 the whole worker, whatever it was doing
        at_kill = assigned_count()
        assert 0 < at_kill < 300, at_kill

        replacement = start_celery("worker", tmp_path, *WORKER, CELERY_BROKER_URL=broker)
        children.append(replacement)
        # The task that was running when the worker died is unacknowledged (acks_late) and its
        # transaction rolled back; the pool sweep picks its ticket up without waiting for Redis's
        # visibility timeout to redeliver it.
        children.append(start_celery("beat", tmp_path, CELERY_BROKER_URL=broker, **BEAT_ENV))
        wait_for(
            lambda: assigned_count() == 300,
            timeout=90,
            what=f"every ticket assigned after the kill (worker log:\n{read_log(replacement)})",
        )
        # Redis redelivers an unacknowledged message once its visibility timeout passes: every
        # task delivered again must find its ticket taken and change nothing.
        queue = redis.Redis.from_url(broker)
        orphans = queue.hlen("unacked")  # what the killed worker held, until the visibility timeout
        for ticket_id in ticket_ids:
            assign_ticket_task.apply_async(args=[ticket_id])
        wait_for(
            lambda: queue.llen("celery") == 0 and queue.hlen("unacked") <= orphans,
            timeout=60,
            what="the worker to drain the redelivered tasks",
        )
    assert_each_ticket_assigned_exactly_once(agents, 300)


# PostgreSQL restarted under the push API --------------------------------------------------------


@pytest.fixture
def private_postgres():
    server = PrivatePostgres().init()
    try:
        server.start()
        with contextlib.closing(psycopg2.connect(server.url())) as admin:
            admin.autocommit = True
            with admin.cursor() as cursor:
                cursor.execute("CREATE DATABASE reviewdesk")
        yield server
    finally:
        server.cleanup()


def _count(database_url, model):
    with contextlib.closing(psycopg2.connect(database_url)) as conn, conn.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{model._meta.db_table}"')  # noqa: S608 — a model's own table name
        return cursor.fetchone()[0]


BATCHES, PER_BATCH = 30, 20


def test_a_postgresql_restart_during_pushes_gives_clean_503s_and_retries_land_each_event_once(
    private_postgres, tmp_path
):
    database_url = private_postgres.url("reviewdesk")
    var_dir = tmp_path
    # Queued assignments go to a file-system broker nobody reads: this test is about the push path.
    env = server_env(database_url, var_dir, CELERY_BROKER_URL="filesystem://", REDIS_URL="")
    manage(env, "migrate", "--noinput")
    key = create_shop_and_key(env, shop="tb-a", platform="taobao")

    with gunicorn(env, workers=2, log_dir=var_dir, timeout=60) as server:
        done, answers, problems = [], [], []

        def client():
            session = requests.Session()
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            for b in range(BATCHES):
                body = {"events": negative_events(f"pg{b}", PER_BATCH)}
                for _attempt in range(100):
                    try:
                        response = session.post(server.url + URL, json=body, headers=headers, timeout=30)
                    except requests.RequestException as exc:  # the server itself must stay up
                        problems.append(f"batch {b}: {exc!r}")
                        return
                    answers.append(response.status_code)
                    if response.status_code == 200:
                        statuses = {r["status"] for r in response.json()["results"]}
                        if response.json()["accepted"] != PER_BATCH or not statuses <= {"created", "duplicate"}:
                            problems.append(f"batch {b}: {response.text[:300]}")
                        break
                    if response.status_code != 503 or response.headers.get("Content-Type") != "application/json":
                        problems.append(f"batch {b}: {response.status_code} {response.text[:300]}")
                        return
                    error = response.json()["error"]
                    if error["code"] != "service_unavailable" or set(error) != {"code", "message", "fields"}:
                        problems.append(f"batch {b}: {response.text[:300]}")
                    time.sleep(0.1)  # the client's retry of the same batch
                else:
                    problems.append(f"batch {b}: still refused after 100 attempts")
                    return
                done.append(b)

        thread = threading.Thread(target=client)
        thread.start()
        try:
            wait_for(lambda: len(done) >= 5 or problems, timeout=60, what="the first batches")
            private_postgres.restart()
        finally:
            thread.join(timeout=180)
        assert not thread.is_alive()
        assert problems == [], (problems, server.log_tail())

    assert done == list(range(BATCHES))
    assert set(answers) <= {200, 503}
    assert 503 in answers, "no request met the restart: the test proved nothing"
    expected = BATCHES * PER_BATCH
    assert _count(database_url, Review) == expected
    assert _count(database_url, InboundEvent) == expected
    assert _count(database_url, Ticket) == expected

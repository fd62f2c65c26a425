"""Pull scheduling (beat, due sweep, tasks) and the connector admin, against a real HTTP feed on loopback."""

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from reviewdesk.celery import app
from reviews import tasks
from reviews.connectors import services as pull_services
from reviews.connectors.json_feed import JsonFeedConnector
from reviews.models import Connector, InboundEvent
from tickets.models import Ticket

from .conftest import event
from .factories import ShopFactory
from .fake_feed import FakeFeed, Reply, closed_port

TOKEN = "feed-secret-token-456"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch):
    monkeypatch.setattr(JsonFeedConnector, "timeout", (1.0, 0.5))


@pytest.fixture
def feed():
    with FakeFeed(token=TOKEN) as fake:
        fake.events = [event(event_id=f"e-{n}", review_id=f"r-{n}", buyer={"id": f"buyer-{n}"}) for n in range(1, 6)]
        yield fake


@pytest.fixture
def connector(shop_a, feed):
    return Connector.objects.create(
        shop=shop_a, name="tb-a feed", feed_url=feed.url, token=TOKEN, page_size=2, poll_interval_seconds=60
    )


@pytest.fixture
def delay():
    """Observes what reaches the broker; nothing is sent."""
    with mock.patch.object(tasks.pull_connector_task, "delay") as observed:
        yield observed


def make_connector(shop, name, **fields):
    """A connector whose feed is a closed loopback port."""
    fields.setdefault("feed_url", f"http://127.0.0.1:{closed_port()}/feed")
    return Connector.objects.create(shop=shop, name=name, **fields)


# Beat and the due sweep -------------------------------------------------------------------------


def test_beat_runs_the_due_sweep_every_sixty_seconds():
    assert settings.CELERY_BEAT_SCHEDULE["pull-due-connectors"] == {
        "task": "reviews.tasks.pull_due_connectors_task",
        "schedule": 60.0,
    }
    assert app.conf.beat_schedule["pull-due-connectors"]["task"] == "reviews.tasks.pull_due_connectors_task"
    app.loader.import_default_modules()
    assert "reviews.tasks.pull_due_connectors_task" in app.tasks
    assert "reviews.tasks.pull_connector_task" in app.tasks


def test_the_due_sweep_queues_only_enabled_due_unleased_connectors_after_commit(
    delay, shop_a, django_capture_on_commit_callbacks
):
    now = timezone.now()
    due = make_connector(shop_a, "due", next_run_at=now - timedelta(minutes=5))
    lease_expired = make_connector(
        shop_a, "lease expired", next_run_at=now - timedelta(minutes=1), lease_until=now - timedelta(seconds=1)
    )
    make_connector(shop_a, "not yet due", next_run_at=now + timedelta(minutes=1))
    make_connector(shop_a, "disabled", is_enabled=False, next_run_at=now - timedelta(minutes=5))
    make_connector(shop_a, "running", next_run_at=now - timedelta(minutes=5), lease_until=now + timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = tasks.pull_due_connectors_task()
    assert delay.call_count == 0  # nothing reaches the broker before the transaction commits
    for callback in callbacks:
        callback()

    assert queued == 2
    assert delay.call_args_list == [mock.call(due.pk), mock.call(lease_expired.pk)]


def test_the_due_sweep_reads_the_connector_table_in_one_query(delay, shop_a, django_assert_num_queries):
    for n in range(3):
        make_connector(shop_a, f"feed {n}")
    with django_assert_num_queries(1):
        assert tasks.pull_due_connectors_task() == 3


# The pull task ----------------------------------------------------------------------------------


def test_the_pull_task_runs_the_pull_and_queues_nothing_once_caught_up(
    delay, feed, connector, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tasks.pull_connector_task(connector.pk)

    assert delay.call_count == 0
    assert InboundEvent.objects.count() == 5 and Ticket.objects.count() == 5
    assert Connector.objects.get(pk=connector.pk).cursor == "c5"


def test_the_pull_task_queues_the_next_run_at_once_while_the_feed_has_more(
    delay, feed, connector, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(pull_services, "MAX_PAGES_PER_RUN", 1)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.pull_connector_task(connector.pk)

    assert delay.call_args_list == [mock.call(connector.pk)]
    assert Connector.objects.get(pk=connector.pk).cursor == "c2"


def test_the_pull_task_does_not_requeue_a_failing_connector(delay, feed, connector, django_capture_on_commit_callbacks):
    feed.script.append(Reply(500, b""))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.pull_connector_task(connector.pk)

    assert delay.call_count == 0
    assert Connector.objects.get(pk=connector.pk).consecutive_failures == 1


def test_the_pull_task_skips_a_connector_another_worker_is_running(feed, connector):
    Connector.objects.filter(pk=connector.pk).update(lease_until=timezone.now() + timedelta(minutes=5))

    tasks.pull_connector_task(connector.pk)

    assert feed.requests == [] and InboundEvent.objects.count() == 0


# Admin ------------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(root)
    return client


def run_action(admin_client, action, *connectors):
    return admin_client.post(
        reverse("admin:reviews_connector_changelist"),
        {"action": action, "_selected_action": [c.pk for c in connectors]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def messages_of(response):
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def test_the_test_connection_action_reports_success_and_failure_per_connector(admin_client, feed, connector):
    port = closed_port()
    broken = make_connector(connector.shop, "broken", token="x", feed_url=f"http://127.0.0.1:{port}/feed")

    response = run_action(admin_client, "test_connection", connector, broken)

    assert response.status_code == 200
    assert messages_of(response) == [
        ("error", f"broken (tb-a): Could not connect to 127.0.0.1:{port}: [Errno 111] Connection refused."),
        (
            "success",
            "tb-a feed (tb-a): Connected: the source answered with 1 event after the current cursor, more waiting.",
        ),
    ]
    assert InboundEvent.objects.count() == 0
    assert Connector.objects.get(pk=connector.pk).last_run_at is None


def test_the_pull_now_action_queues_a_pull_that_stores_the_feed(
    delay, admin_client, feed, connector, django_capture_on_commit_callbacks
):
    disabled = make_connector(connector.shop, "disabled", is_enabled=False)
    Connector.objects.filter(pk=connector.pk).update(next_run_at=timezone.now() + timedelta(minutes=30))

    # The queued task runs in-process instead of on a worker; the pull itself is the real one.
    delay.side_effect = tasks.pull_connector_task
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, "pull_now", connector, disabled)

    assert delay.call_args_list == [mock.call(connector.pk)]
    assert messages_of(response) == [
        ("success", "Pull queued for 1 connectors; the status panel shows the result when it has run."),
        ("warning", "1 disabled connectors were skipped; enable them first."),
    ]
    pulled = Connector.objects.get(pk=connector.pk)
    assert (pulled.cursor, pulled.last_fetched_count, pulled.fetched_total) == ("c5", 5, 5)
    assert InboundEvent.objects.count() == 5
    assert Connector.objects.get(pk=disabled.pk).last_run_at is None


def test_the_change_page_shows_the_status_panel_and_never_the_token(admin_client, feed, connector):
    feed.script.extend([None, Reply(500, b"")])
    pull_services.connector_pull(connector.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM reviews_connector WHERE id = %s", [connector.pk])
        (stored_token,) = cursor.fetchone()

    response = admin_client.get(
        reverse("admin:reviews_connector_change", args=[connector.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert stored_token != TOKEN and stored_token not in html
    assert TOKEN not in html
    assert "Failing: 1 failures in a row, backing off" in html
    assert "2 in the last run, 2 in total" in html
    assert f"{feed.host} failed with HTTP 500." in html
    assert '<td style="white-space:pre-wrap">c2</td>' in html


def test_the_changelist_shows_each_connector_state(admin_client, feed, connector):
    pull_services.connector_pull(connector.pk)
    make_connector(connector.shop, "off", is_enabled=False)

    html = admin_client.get(reverse("admin:reviews_connector_changelist"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<td class="field-status">OK</td>' in html
    assert '<td class="field-status">Disabled</td>' in html


def test_saving_the_form_with_an_empty_token_keeps_the_token_and_the_pull_progress(admin_client, feed, connector):
    url = reverse("admin:reviews_connector_change", args=[connector.pk])
    admin_client.get(url)  # the form opens before a pull runs
    pull_services.connector_pull(connector.pk)
    next_run = timezone.localtime(timezone.now() + timedelta(minutes=10))

    response = admin_client.post(
        url,
        {
            "name": "renamed feed",
            "shop": connector.shop_id,
            "kind": "json_feed",
            "feed_url": feed.url,
            "token": "",
            "page_size": 2,
            "poll_interval_seconds": 120,
            "is_enabled": "on",
            "next_run_at_0": next_run.strftime("%Y-%m-%d"),
            "next_run_at_1": next_run.strftime("%H:%M:%S"),
        },
    )

    assert response.status_code == 302
    saved = Connector.objects.get(pk=connector.pk)
    assert (saved.name, saved.poll_interval_seconds, saved.token) == ("renamed feed", 120, TOKEN)
    assert (saved.cursor, saved.fetched_total, saved.last_fetched_count) == ("c5", 5, 5)
    assert saved.last_success_at is not None


def test_the_form_refuses_a_page_size_a_transaction_should_not_hold(admin_client, feed, connector):
    other_shop = ShopFactory(external_id="tb-z")
    response = admin_client.post(
        reverse("admin:reviews_connector_add"),
        {
            "name": "huge",
            "shop": other_shop.pk,
            "kind": "json_feed",
            "feed_url": feed.url,
            "token": "t",
            "page_size": 5000,
            "poll_interval_seconds": 60,
            "next_run_at_0": "2026-03-02",
            "next_run_at_1": "10:00:00",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"page_size": ["Between 1 and 500."]}
    assert Connector.objects.filter(name="huge").count() == 0

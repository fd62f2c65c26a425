"""Around the marketplace connectors: Taobao's pushed rating messages, the backfill command, the
admin (credentials, test connection, status panel), against the fake gateways on loopback."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from reviews import tasks
from reviews.connectors import services as pull_services
from reviews.connectors.signing import top_sign
from reviews.connectors.taobao import TaobaoConnector, TopClient
from reviews.connectors.windowed import CHINA, WindowCursor, floor_second
from reviews.models import Connector, InboundEvent, Review

from .fake_taobao import SESSION_EXPIRED, FakeTaobao, make_rate

APP_KEY, SECRET, SESSION, MESSAGE_SECRET = "23456789", "tb-secret-for-push", "6100session-push", "tmc-msg-secret"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch):
    monkeypatch.setattr(TopClient, "timeout", (1.0, 2.0))


@pytest.fixture
def fake():
    with FakeTaobao(APP_KEY, SECRET, SESSION) as server:
        yield server


@pytest.fixture
def connector(shop_a, fake):
    return Connector.objects.create(
        shop=shop_a,
        kind="taobao",
        name="tb-a TOP",
        feed_url=fake.url,
        app_key=APP_KEY,
        app_secret=SECRET,
        token=SESSION,
        message_secret=MESSAGE_SECRET,
        page_size=150,
    )


def ago(**delta):
    return floor_second(timezone.now().astimezone(CHINA) - timedelta(**delta))


def reloaded(connector):
    return Connector.objects.get(pk=connector.pk)


# Pushed rating messages -------------------------------------------------------------------------


def rated_message(tid, oid, rater="buyer", secret=MESSAGE_SECRET, **extra):
    message = {
        "topic": "taobao_trade_TradeRated",
        "content": json.dumps({"tid": tid, "oid": oid, "rater": rater}),
        "pub_time": "2026-03-02 10:15:00",
        "pub_app_key": APP_KEY,
        "user_id": 57301234,
        **extra,
    }
    signed = {k: str(v) for k, v in message.items()}
    message["sign"] = top_sign(signed, secret)
    return message


def post_message(api, connector, message):
    return api.post(f"/api/v1/connectors/{connector.pk}/taobao-messages/", message, format="json")


def test_a_signed_rating_message_queues_a_refetch_that_stores_the_review(
    api, fake, connector, django_capture_on_commit_callbacks
):
    fake.rates = [make_rate(31, ago(minutes=2), "bad", tid=8031)]
    with mock.patch.object(tasks.refetch_connector_order_task, "delay") as delay:
        delay.side_effect = lambda *args: tasks.refetch_connector_order_task(*args)
        with django_capture_on_commit_callbacks(execute=True):
            response = post_message(api, connector, rated_message(8031, 31))

    assert response.status_code == 202
    assert response.json() == {
        "queued": True,
        "order_id": "8031",
        "detail": "The order's reviews will be fetched again.",
    }
    assert delay.call_args_list == [mock.call(connector.pk, "8031", "31")]
    assert fake.requests[-1]["tid"] == "8031" and "start_date" not in fake.requests[-1]
    review = Review.objects.get(review_id="31")
    assert (review.order_id, review.tier) == ("8031", "negative")
    assert InboundEvent.objects.get().connector_id == connector.pk


def test_a_message_for_a_revision_stores_review_revised_and_a_repeat_is_a_duplicate(api, fake, connector):
    fake.rates = [make_rate(32, ago(days=2), "bad", tid=8032)]
    pull_services.connector_pull(connector.pk)
    fake.update(32, result="good")

    pull_services.connector_refetch_order(connector.pk, "8032", "32")
    again = pull_services.connector_refetch_order(connector.pk, "8032", "32")

    assert Review.objects.get(review_id="32").tier == "positive"
    assert list(InboundEvent.objects.filter(event_type="review.revised").values_list("event_id", flat=True)) == [
        "tb:32:revised:good"
    ]
    assert again == []  # the stored state already matches: nothing to send


def test_a_message_with_a_wrong_signature_is_refused_in_the_api_error_shape(api, fake, connector):
    with mock.patch.object(tasks.refetch_connector_order_task, "delay") as delay:
        response = post_message(api, connector, rated_message(1, 2, secret="guessed"))

    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "not_authenticated", "message": "The message signature is missing or wrong.", "fields": {}}
    }
    assert delay.call_count == 0 and fake.requests == []


def test_a_connector_without_a_message_secret_refuses_every_message(api, connector):
    Connector.objects.filter(pk=connector.pk).update(message_secret="")
    unsigned = rated_message(1, 2, secret="")

    assert post_message(api, connector, unsigned).status_code == 401


def test_messages_for_unknown_or_non_taobao_connectors_are_not_found(api, connector):
    response = api.post("/api/v1/connectors/99999/taobao-messages/", rated_message(1, 2), format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_other_topics_and_seller_ratings_are_acknowledged_without_fetching(api, fake, connector):
    with mock.patch.object(tasks.refetch_connector_order_task, "delay") as delay:
        other = post_message(api, connector, rated_message(1, 2) | {"topic": "taobao_trade_TradeCreate"})
        topic = rated_message(1, 2, topic="taobao_trade_TradeCreate")
        seller = rated_message(5, 6, rater="seller")
        responses = [post_message(api, connector, topic), post_message(api, connector, seller)]

    assert other.status_code == 401  # changing a field after signing breaks the signature
    assert [r.status_code for r in responses] == [200, 200]
    assert [r.json()["queued"] for r in responses] == [False, False]
    assert delay.call_count == 0


def test_a_malformed_message_is_a_400_with_the_field_named(api, connector):
    message = rated_message(1, 2)
    message["content"] = "not json"
    message["sign"] = top_sign({k: str(v) for k, v in message.items() if k != "sign"}, MESSAGE_SECRET)

    response = post_message(api, connector, message)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"content": ["Not JSON."]}


def test_the_message_endpoint_is_in_the_openapi_schema(api):
    schema = api.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/connectors/{connector_id}/taobao-messages/"]["post"]
    assert operation["operationId"] == "connector_taobao_message"
    assert set(operation["responses"]) >= {"202", "401", "404"}


# Backfill ---------------------------------------------------------------------------------------


def test_backfill_fetches_180_days_in_windows_and_a_rerun_adds_nothing(fake, connector):
    fake.rates = [make_rate(n, ago(days=n), "good" if n % 4 else "bad") for n in range(1, 176, 3)]
    out = io.StringIO()

    call_command("backfill_reviews", "--shop", "tb-a", "--days", "180", stdout=out, stderr=io.StringIO())

    assert Review.objects.count() == len(fake.rates)
    assert f"{len(fake.rates):,} reviews created" in out.getvalue()
    state = WindowCursor.loads(reloaded(connector).cursor)
    assert state.since <= ago(days=179) and state.backfill is None

    out = io.StringIO()
    call_command("backfill_reviews", "--shop", "tb-a", "--days", "180", stdout=out, stderr=io.StringIO())
    assert "0 reviews created" in out.getvalue()
    assert InboundEvent.objects.count() == len(fake.rates)


def test_backfill_extends_an_existing_cursor_backwards_without_refetching_what_it_covers(fake, connector):
    fake.rates = [make_rate(1, ago(days=60), "good"), make_rate(2, ago(days=5), "good")]
    pull_services.connector_pull(connector.pk)  # a new connector starts 30 days back
    assert list(Review.objects.values_list("review_id", flat=True)) == ["2"]
    covered_through = WindowCursor.loads(reloaded(connector).cursor).through
    seen = len(fake.requests)

    call_command("backfill_reviews", "--shop", "tb-a", "--days", "90", stdout=io.StringIO(), stderr=io.StringIO())

    assert sorted(Review.objects.values_list("review_id", flat=True)) == ["1", "2"]
    backfill_windows = [f for f in fake.requests[seen:] if f.get("result") == "good" and f["start_date"] < "9"]
    covered_from = WindowCursor.loads(reloaded(connector).cursor).since
    assert covered_from <= ago(days=89)
    assert all(
        datetime.strptime(f["end_date"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA) < ago(days=29)
        or datetime.strptime(f["start_date"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA) > covered_through
        for f in backfill_windows
    )


def test_backfill_stops_with_the_platform_error_and_a_rerun_continues(fake, connector):
    fake.rates = [make_rate(n, ago(days=n * 10), "good") for n in range(1, 17)]
    fake.script.extend([None] * 6 + [SESSION_EXPIRED])

    with pytest.raises(CommandError, match="Taobao refused the session key"):
        call_command("backfill_reviews", "--shop", "tb-a", "--days", "180", stdout=io.StringIO(), stderr=io.StringIO())
    Connector.objects.filter(pk=connector.pk).update(next_run_at=timezone.now())
    call_command("backfill_reviews", "--shop", "tb-a", "--days", "180", stdout=io.StringIO(), stderr=io.StringIO())

    assert Review.objects.count() == 16
    assert InboundEvent.objects.count() == 16


def test_backfill_refuses_more_than_180_days_and_shops_without_a_marketplace_connector(shop_b, connector):
    with pytest.raises(CommandError, match="between 1 and 180"):
        call_command("backfill_reviews", "--shop", "tb-a", "--days", "365")
    with pytest.raises(CommandError, match="has no Taobao or JD connector"):
        call_command("backfill_reviews", "--shop", "jd-b", "--days", "30")


# Admin ------------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(root)
    return client


def messages_of(response):
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def test_the_test_connection_button_reports_the_platform_s_answer(admin_client, fake, connector):
    fake.rates = [make_rate(1, ago(hours=3))]
    url = reverse("admin:reviews_connector_test_connection", args=[connector.pk])

    ok = admin_client.post(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    fake.script.append(SESSION_EXPIRED)
    failed = admin_client.post(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")

    assert messages_of(ok) == [
        (
            "success",
            "tb-a TOP (tb-a): Connected: the platform accepted the credentials and signature "
            "(1 review in a sample of the last day).",
        )
    ]
    assert messages_of(failed)[0][0] == "error"
    assert "code 27 Invalid session, sub_code session-expired" in messages_of(failed)[0][1]
    assert admin_client.get(url).status_code == 405
    assert Review.objects.count() == 0


def test_the_change_page_has_the_button_and_status_panel_and_never_the_credentials(
    admin_client, fake, connector, monkeypatch
):
    monkeypatch.setattr(TaobaoConnector, "revision_interval_seconds", 0)  # the second run asks Taobao again
    fake.rates = [make_rate(1, ago(days=1), "bad")]
    pull_services.connector_pull(connector.pk)
    fake.script.append(SESSION_EXPIRED)
    Connector.objects.filter(pk=connector.pk).update(next_run_at=timezone.now())
    pull_services.connector_pull(connector.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT app_secret, token, message_secret FROM reviews_connector WHERE id = %s", [connector.pk])
        stored = cursor.fetchone()

    html = admin_client.get(
        reverse("admin:reviews_connector_change", args=[connector.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    for secret in (SECRET, SESSION, MESSAGE_SECRET, *stored):
        assert secret not in html
    assert all(value and value not in (SECRET, SESSION, MESSAGE_SECRET) for value in stored)  # encrypted at rest
    assert 'id="connector-test-form"' in html and "Test connection" in html
    assert "Failing: 1 failures in a row, backing off" in html
    assert "Items fetched" in html and "Next run" in html and "Last run" in html
    assert "code 27 Invalid session" in html
    assert "Reviews created" in html and "are stored" in html


def test_saving_with_empty_secret_boxes_keeps_every_credential(admin_client, fake, connector):
    url = reverse("admin:reviews_connector_change", args=[connector.pk])
    next_run = timezone.localtime(timezone.now() + timedelta(minutes=10))

    response = admin_client.post(
        url,
        {
            "name": "renamed",
            "shop": connector.shop_id,
            "kind": "taobao",
            "feed_url": fake.url,
            "app_key": APP_KEY,
            "app_secret": "",
            "token": "",
            "sign_method": "hmac",
            "message_secret": "",
            "page_size": 150,
            "poll_interval_seconds": 60,
            "is_enabled": "on",
            "next_run_at_0": next_run.strftime("%Y-%m-%d"),
            "next_run_at_1": next_run.strftime("%H:%M:%S"),
        },
    )

    assert response.status_code == 302
    saved = reloaded(connector)
    assert (saved.name, saved.sign_method) == ("renamed", "hmac")
    assert (saved.app_secret, saved.token, saved.message_secret) == (SECRET, SESSION, MESSAGE_SECRET)


def test_a_taobao_connector_needs_an_app_key(admin_client, fake, shop_b):
    response = admin_client.post(
        reverse("admin:reviews_connector_add"),
        {
            "name": "no key",
            "shop": shop_b.pk,
            "kind": "taobao",
            "feed_url": "",
            "app_key": "",
            "app_secret": "s",
            "token": "t",
            "sign_method": "md5",
            "page_size": 150,
            "poll_interval_seconds": 60,
            "next_run_at_0": "2026-03-02",
            "next_run_at_1": "10:00:00",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"app_key": ["Taobao and JD connectors need the app key."]}


# A real kill ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_backfill_process_killed_mid_run_resumes_with_each_review_stored_exactly_once(fake, connector):
    """SIGKILL the backfill command (its own process) once it has stored a window, let its lease
    expire, run it again: every review lands once and no stored window is fetched again."""
    fake.rates = [make_rate(n, ago(days=28, hours=-5 * n), ["good", "neutral", "bad"][n % 3]) for n in range(1, 121)]
    fake.delay = 0.25  # each call waits, so the process is caught mid-run
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="reviewdesk.test_settings",
        DATABASE_URL=_database_url(),
        LOG_LEVEL="WARNING",
    )
    process = subprocess.Popen(
        [sys.executable, "manage.py", "backfill_reviews", "--shop", "tb-a", "--days", "30", "--no-progress"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not Review.objects.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)  # until the first window holding reviews is stored
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL, "killed mid-run, not finished"
    killed = reloaded(connector)
    stored_through = WindowCursor.loads(killed.cursor).through
    stored_before = Review.objects.count()
    assert 0 < stored_before < 120
    assert killed.lease_until is not None  # a killed worker leaves its lease; it expires after LEASE_DURATION
    Connector.objects.filter(pk=connector.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    fake.delay = 0.0
    seen = len(fake.requests)

    call_command("backfill_reviews", "--shop", "tb-a", "--days", "30", stdout=io.StringIO(), stderr=io.StringIO())

    assert Review.objects.count() == 120
    created = InboundEvent.objects.filter(event_type="review.created")
    assert created.count() == 120 and created.values("platform_review_id").distinct().count() == 120
    windows = [f for f in fake.requests[seen:] if f.get("result") == "good" and f.get("page_no") == "1"]
    starts = sorted(datetime.strptime(f["start_date"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA) for f in windows)
    # Apart from the revision sweep (neutral/bad only), the rerun starts after what the killed run stored.
    assert starts[0] == stored_through + timedelta(seconds=1)


def _database_url():
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"

"""The Taobao (TOP) connector against a fake TOP gateway on loopback that checks signatures and
serves the platform's formats, caps and limits (tests/fake_taobao.py)."""

import hashlib
import hmac
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from reviews.connectors import services as pull_services
from reviews.connectors.signing import top_sign
from reviews.connectors.taobao import TaobaoConnector, TopClient, TopError
from reviews.connectors.windowed import CHINA, WindowCursor, floor_second
from reviews.models import Connector, InboundEvent, Review
from tickets.models import Ticket

from .fake_taobao import RATE_LIMITED, SESSION_EXPIRED, FakeTaobao, make_rate, top_text

APP_KEY, SECRET, SESSION = "12345678", "tb-app-secret-0001", "6100a1b2c3-session"

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
        page_size=150,
        poll_interval_seconds=60,
    )


def ago(**delta):
    return floor_second(timezone.now().astimezone(CHINA) - timedelta(**delta))


def reloaded(connector):
    return Connector.objects.get(pk=connector.pk)


def make_due(connector):
    Connector.objects.filter(pk=connector.pk).update(next_run_at=timezone.now())


def start_at(connector, moment, win=86400):
    """Point the cursor so the next window starts at `moment`."""
    cursor = WindowCursor(since=moment, through=moment - timedelta(seconds=1), win=win)
    Connector.objects.filter(pk=connector.pk).update(cursor=cursor.dumps())


# Signing ----------------------------------------------------------------------------------------

SIGNED = {
    "method": "taobao.traderates.get",
    "app_key": "12345678",
    "session": "test-session",
    "timestamp": "2026-03-02 10:15:00",
    "format": "json",
    "v": "2.0",
    "fields": "tid,oid",
    "page_no": "1",
}


def test_the_md5_signature_is_top_s_known_vector():
    # md5sum of "helloworld" + "app_key12345678fieldstid,oidformatjson…v2.0" + "helloworld", by hand.
    assert top_sign(SIGNED | {"sign_method": "md5"}, "helloworld", "md5") == "5AE1111B30427D721E93C864F8DCC4BB"
    text = (
        "helloworldapp_key12345678fieldstid,oidformatjsonmethodtaobao.traderates.getpage_no1"
        "sessiontest-sessionsign_methodmd5timestamp2026-03-02 10:15:00v2.0helloworld"
    )
    assert hashlib.md5(text.encode()).hexdigest().upper() == "5AE1111B30427D721E93C864F8DCC4BB"  # noqa: S324 (the platform prescribes MD5)


def test_the_hmac_signature_is_top_s_known_vector():
    # openssl dgst -md5 -hmac helloworld over the concatenation, without the secret around it.
    assert top_sign(SIGNED | {"sign_method": "hmac"}, "helloworld", "hmac") == "34FC2EE6F7B6146ACFBD470126672687"
    text = (
        "app_key12345678fieldstid,oidformatjsonmethodtaobao.traderates.getpage_no1"
        "sessiontest-sessionsign_methodhmactimestamp2026-03-02 10:15:00v2.0"
    )
    assert hmac.new(b"helloworld", text.encode(), hashlib.md5).hexdigest().upper() == "34FC2EE6F7B6146ACFBD470126672687"


def test_the_signature_leaves_out_sign_and_empty_values():
    assert top_sign(SIGNED | {"sign_method": "md5", "sign": "X", "tid": ""}, "helloworld") == (
        "5AE1111B30427D721E93C864F8DCC4BB"
    )


@pytest.mark.parametrize("sign_method", ["md5", "hmac"])
def test_the_fake_gateway_accepts_both_signature_methods(fake, connector, sign_method):
    Connector.objects.filter(pk=connector.pk).update(sign_method=sign_method)
    fake.rates = [make_rate(11, ago(hours=2))]

    result = pull_services.connector_pull(connector.pk)

    assert result.error is None and result.created == 1
    assert {form["sign_method"] for form in fake.requests} == {sign_method}


def test_a_wrong_secret_is_reported_with_top_s_error(fake, connector):
    Connector.objects.filter(pk=connector.pk).update(app_secret="not-the-secret")

    result = pull_services.connector_pull(connector.pk)

    assert (
        result.error == "Taobao refused the app credentials (code 25 Invalid signature); check the app key and secret."
    )
    assert "not-the-secret" not in reloaded(connector).last_error


# Pulling and mapping ----------------------------------------------------------------------------


def test_a_pull_maps_trade_rates_to_review_events_and_stores_each_once(fake, connector):
    fake.rates = [
        make_rate(101, ago(days=3), "bad", tid=9001, content="线头很多"),
        make_rate(102, ago(days=3, hours=-1), "neutral", tid=9002, reply="亲，已为您补发"),
        make_rate(103, ago(days=2), "good", tid=9003),
    ]

    result = pull_services.connector_pull(connector.pk)

    assert result.error is None
    assert (result.created, result.updated, result.caught_up) == (3, 1, True)
    bad = Review.objects.select_related("buyer").get(review_id="101")
    assert (bad.order_id, bad.sub_order_id, bad.tier, bad.content) == ("9001", "101", "negative", "线头很多")
    assert (bad.item_id, bad.item_title, str(bad.item_price)) == ("652300001", "加厚保暖羽绒服", "399.00")
    assert bad.buyer.open_id == "AAH000000000101"
    assert bad.rated_at == china_time(fake.rates[0]["created"])
    neutral = Review.objects.get(review_id="102")
    assert (neutral.tier, neutral.reply_content) == ("neutral", "亲，已为您补发")
    assert Review.objects.get(review_id="103").tier == "positive"
    assert sorted(InboundEvent.objects.values_list("event_id", flat=True)) == [
        "tb:101:created",
        "tb:102:created",
        f"tb:102:reply:{hashlib.sha256('亲，已为您补发'.encode()).hexdigest()[:16]}",
        "tb:103:created",
    ]
    assert Ticket.objects.count() == 2  # the neutral and the negative one
    first = fake.requests[0]
    assert {k: first[k] for k in ("method", "rate_type", "role", "use_has_next", "format", "v", "page_size")} == {
        "method": "taobao.traderates.get",
        "rate_type": "get",
        "role": "buyer",
        "use_has_next": "true",
        "format": "json",
        "v": "2.0",
        "page_size": "150",
    }
    assert first["fields"].split(",") == [
        "tid", "oid", "role", "nick", "result", "created", "rated_nick",
        "item_title", "item_price", "content", "reply", "num_iid", "buyer_open_uid",
    ]  # fmt: skip
    assert {form["result"] for form in fake.requests if "result" in form} == {"good", "neutral", "bad"}


def china_time(text):
    from datetime import datetime

    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)


def test_a_second_pull_fetches_only_windows_after_the_cursor(fake, connector, monkeypatch):
    fake.rates = [make_rate(n, ago(days=2, minutes=n), "good") for n in range(1, 6)]
    pull_services.connector_pull(connector.pk)
    fake.rates = fake.rates + [make_rate(9, ago(seconds=0), "bad")]  # after the first run's horizon
    seen = len(fake.requests)
    later = timezone.now() + timedelta(minutes=5)
    monkeypatch.setattr(TaobaoConnector, "now", lambda self: later)
    make_due(connector)

    result = pull_services.connector_pull(connector.pk)

    assert (result.created, result.duplicates) == (1, 0)
    later = fake.requests[seen:]
    assert min(form["start_date"] for form in later) > max(r["created"] for r in fake.rates[:5])


def test_results_are_paged_at_most_150_a_page_until_has_next_is_false(fake, connector):
    fake.rates = [make_rate(n, ago(days=1, seconds=n), "good") for n in range(1, 401)]
    start_at(connector, ago(days=1, seconds=500), win=3600)

    result = pull_services.connector_pull(connector.pk)

    assert result.created == 400
    good_pages = [form["page_no"] for form in fake.calls(result="good") if int(form["start_date"] < "9")]
    assert good_pages[:3] == ["1", "2", "3"]
    assert {form["page_size"] for form in fake.requests} == {"150"}


def test_a_connector_page_size_above_150_is_clamped_to_top_s_limit(fake, connector):
    Connector.objects.filter(pk=connector.pk).update(page_size=500)
    fake.rates = [make_rate(1, ago(hours=5))]

    assert pull_services.connector_pull(connector.pk).created == 1
    assert {form["page_size"] for form in fake.requests} == {"150"}


def test_a_window_reaching_the_1500_cap_is_halved_until_every_rate_is_fetched(fake, connector):
    base = ago(days=2)
    fake.rates = [make_rate(n, base + timedelta(seconds=n), "good") for n in range(1, 3201)]
    start_at(connector, base, win=86400)

    result = pull_services.connector_pull(connector.pk)

    assert result.error is None
    assert Review.objects.count() == 3200 and InboundEvent.objects.count() == 3200
    capped = [form for form in fake.calls(result="good") if form["page_no"] == "10"]
    assert capped, "the first, day-long window reached page 10 (1,500 rates) and was split"
    windows = {(form["start_date"], form["end_date"]) for form in fake.calls(result="good")}
    spans = sorted(china_time(end) - china_time(start) for start, end in windows)
    assert spans[0] < timedelta(hours=1) < spans[-1]


def test_start_dates_are_clamped_to_the_180_days_taobao_keeps(fake, connector):
    fake.rates = [make_rate(1, ago(days=190), "bad"), make_rate(2, ago(days=179), "bad")]
    start_at(connector, ago(days=200))

    result = pull_services.connector_pull(connector.pk)

    assert result.error is None
    assert list(Review.objects.values_list("review_id", flat=True)) == ["2"]
    oldest = min(china_time(form["start_date"]) for form in fake.requests if "start_date" in form)
    assert oldest >= ago(days=180)


def test_the_fake_refuses_start_dates_older_than_180_days_in_top_s_error_format(fake, connector):
    client = TopClient(reloaded(connector))
    with pytest.raises(TopError) as refused:
        client.call(
            "taobao.traderates.get",
            {"rate_type": "get", "role": "buyer", "start_date": top_text(ago(days=181)), "fields": "oid"},
            now=timezone.now(),
        )
    client.close()
    assert refused.value.message == (
        "Taobao refused the call (code 15 Remote service error, sub_code isv.invalid-parameter:start_date: "
        "只能获取距今180天内的评价记录)."
    )


# Platform errors --------------------------------------------------------------------------------


def test_a_rate_limit_is_recorded_with_code_and_sub_code_and_waits_as_long_as_taobao_says(fake, connector):
    fake.rates = [make_rate(1, ago(hours=3))]
    fake.script.append(RATE_LIMITED)

    result = pull_services.connector_pull(connector.pk)

    failed = reloaded(connector)
    assert (
        result.error
        == failed.last_error
        == (
            "Taobao is rate limiting this app (code 7 App Call Limited, sub_code "
            "accesscontrol.limited-by-app-access-count: This ban will last for 71 more seconds)."
        )
    )
    assert failed.consecutive_failures == 1
    assert failed.next_run_at - failed.last_error_at == timedelta(seconds=71)
    assert Review.objects.count() == 0


def test_an_expired_session_is_recorded_and_backs_off_longer_each_time(fake, connector):
    waits = []
    for _attempt in range(2):
        fake.script.append(SESSION_EXPIRED)
        make_due(connector)
        pull_services.connector_pull(connector.pk)
        failed = reloaded(connector)
        waits.append(failed.next_run_at - failed.last_error_at)

    assert waits == [timedelta(seconds=60), timedelta(seconds=120)]
    assert failed.last_error == (
        "Taobao refused the session key (code 27 Invalid session, sub_code session-expired: SessionKey非法或已过期). "
        "Ask the shop to authorise the app again and paste the new session key into the connector."
    )
    assert failed.cursor == ""


def test_an_error_mid_window_stores_nothing_of_that_window(fake, connector):
    fake.rates = [make_rate(n, ago(hours=5, seconds=n), r) for n, r in enumerate(["good", "bad", "neutral"], 1)]
    fake.script.extend([None, None, SESSION_EXPIRED])  # good and neutral answered, then bad fails

    result = pull_services.connector_pull(connector.pk)

    assert result.pages == 0 and result.error.startswith("Taobao refused the session key")
    assert Review.objects.count() == 0 and reloaded(connector).cursor == ""
    make_due(connector)
    assert pull_services.connector_pull(connector.pk).created == 3


# Restart mid-run --------------------------------------------------------------------------------


def test_a_run_killed_after_some_windows_resumes_so_each_review_lands_exactly_once(fake, connector, monkeypatch):
    base = ago(days=10)
    fake.rates = [
        make_rate(n, base + timedelta(minutes=37 * n), ["good", "neutral", "bad"][n % 3]) for n in range(1, 301)
    ]
    start_at(connector, base, win=6 * 3600)
    monkeypatch.setattr(TaobaoConnector, "max_window_seconds", 6 * 3600)
    real_query = TaobaoConnector.query_window
    windows, kill_after = [], [4]

    def query_then_maybe_die(self, start, end, **kwargs):
        if kwargs.get("tiers") is None and len(windows) == kill_after[0]:
            raise RuntimeError("worker killed")
        if kwargs.get("tiers") is None:
            windows.append((start, end))
        return real_query(self, start, end, **kwargs)

    monkeypatch.setattr(TaobaoConnector, "query_window", query_then_maybe_die)
    with pytest.raises(RuntimeError):
        pull_services.connector_pull(connector.pk)
    stored_through = WindowCursor.loads(reloaded(connector).cursor).through
    assert stored_through == windows[3][1]
    assert 0 < Review.objects.count() < 300

    kill_after[0] = None
    del windows[:]
    make_due(connector)
    result = pull_services.connector_pull(connector.pk)

    assert result.error is None and result.caught_up
    assert Review.objects.count() == 300
    created = Counter(
        InboundEvent.objects.filter(event_type="review.created").values_list("platform_review_id", flat=True)
    )
    assert len(created) == 300 and set(created.values()) == {1}
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {"created"}
    # The rerun starts right after the last stored window: nothing stored is fetched again.
    assert windows[0][0] == stored_through + timedelta(seconds=1)
    assert all(
        later[0] == earlier[1] + timedelta(seconds=1) for earlier, later in zip(windows, windows[1:], strict=False)
    )


# Revisions and replies --------------------------------------------------------------------------


@pytest.fixture
def pulled(fake, connector, monkeypatch):
    """Three negative reviews pulled, and the revision sweep due on every run."""
    monkeypatch.setattr(TaobaoConnector, "revision_interval_seconds", 0)
    fake.rates = [make_rate(n, ago(days=5, hours=n), "bad", tid=7000 + n) for n in (1, 2, 3, 4)]
    pull_services.connector_pull(connector.pk)
    assert Ticket.objects.filter(status="new").count() + Ticket.objects.exclude(status="new").count() == 4
    make_due(connector)
    return connector


def test_a_review_revised_to_good_becomes_review_revised_and_closes_its_ticket(fake, pulled):
    fake.update(1, result="good", content="商家处理很及时，好评")

    result = pull_services.connector_pull(pulled.pk)

    assert result.error is None
    review = Review.objects.get(review_id="1")
    assert review.tier == "positive"
    ticket = Ticket.objects.get(review=review)
    assert (ticket.outcome, ticket.outcome_verified) == ("revised_positive", True)
    event = InboundEvent.objects.get(event_type="review.revised")
    assert (event.event_id, event.status) == ("tb:1:revised:good", "updated")


def test_a_new_reply_becomes_review_replied_and_a_change_of_tier_review_revised(fake, pulled):
    fake.update(2, reply="已联系您补发配件")
    fake.update(3, result="neutral")

    pull_services.connector_pull(pulled.pk)

    assert Review.objects.get(review_id="2").reply_content == "已联系您补发配件"
    assert Review.objects.get(review_id="3").tier == "neutral"
    assert sorted(InboundEvent.objects.exclude(event_type="review.created").values_list("event_type", "event_id")) == [
        ("review.replied", f"tb:2:reply:{hashlib.sha256('已联系您补发配件'.encode()).hexdigest()[:16]}"),
        ("review.revised", "tb:3:revised:neutral"),
    ]


def test_a_deleted_review_is_looked_up_by_order_and_becomes_review_deleted(fake, pulled):
    fake.update(4, deleted=True)

    pull_services.connector_pull(pulled.pk)

    assert Review.objects.get(review_id="4").state == "deleted"
    assert Ticket.objects.get(review__review_id="4").outcome == "deleted_by_buyer"
    assert fake.calls(tid="7004"), "the missing review's order was fetched by tid"


def test_repeated_sweeps_add_nothing_once_the_stored_state_matches(fake, pulled):
    fake.update(1, result="good")
    fake.update(2, reply="抱歉")
    pull_services.connector_pull(pulled.pk)
    count = InboundEvent.objects.count()
    make_due(pulled)

    result = pull_services.connector_pull(pulled.pk)

    assert result.error is None and result.fetched == 0
    assert InboundEvent.objects.count() == count


def test_the_sweep_runs_at_most_once_an_interval(fake, connector):
    fake.rates = [make_rate(1, ago(days=1), "bad")]
    pull_services.connector_pull(connector.pk)
    fake.update(1, result="good")
    make_due(connector)

    pull_services.connector_pull(connector.pk)

    assert Review.objects.get(review_id="1").tier == "negative"  # seen at the next hourly sweep
    state = WindowCursor.loads(reloaded(connector).cursor)
    assert state.revised_at is not None


# Test connection --------------------------------------------------------------------------------


def test_testing_the_connection_makes_one_signed_call_and_stores_nothing(fake, connector):
    fake.rates = [make_rate(1, ago(hours=2))]

    check = pull_services.connector_test(connector.pk)

    assert check.ok, check.message
    assert check.message == (
        "Connected: the platform accepted the credentials and signature (1 review in a sample of the last day)."
    )
    assert len(fake.requests) == 1 and fake.requests[0]["page_size"] == "1"
    assert Review.objects.count() == 0 and reloaded(connector).cursor == ""

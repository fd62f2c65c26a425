"""The JD (JOS) connector against a fake JOS gateway on loopback (tests/fake_jd.py)."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from reviews.connectors import services as pull_services
from reviews.connectors.jd import JdConnector, JosClient
from reviews.connectors.signing import jos_sign
from reviews.connectors.windowed import CHINA, floor_second
from reviews.models import Connector, InboundEvent, Review, Shop
from tickets.models import Ticket

from .fake_jd import TOKEN_EXPIRED, FakeJd, jd_text, make_comment

APP_KEY, SECRET, TOKEN = "JDKEY", "jd-app-secret", "jd-access-token"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch):
    monkeypatch.setattr(JosClient, "timeout", (1.0, 2.0))


@pytest.fixture
def fake():
    with FakeJd(APP_KEY, SECRET, TOKEN) as server:
        yield server


@pytest.fixture
def connector(shop_b, fake):
    return Connector.objects.create(
        shop=shop_b,
        kind="jd",
        name="jd-b JOS",
        feed_url=fake.url,
        app_key=APP_KEY,
        app_secret=SECRET,
        token=TOKEN,
        page_size=200,
    )


def ago(**delta):
    return floor_second(timezone.now().astimezone(CHINA) - timedelta(**delta))


def make_due(connector):
    Connector.objects.filter(pk=connector.pk).update(next_run_at=timezone.now())


def test_the_jos_signature_is_the_known_vector():
    params = {
        "method": "jingdong.pop.PopCommentJsfService.getVenderCommentsForJos",
        "app_key": "JDKEY",
        "access_token": "jd-token",
        "timestamp": "2026-03-02 10:15:00",
        "v": "2.0",
        "360buy_param_json": '{"page":1,"pageSize":50}',
    }
    # md5sum of "jdsecret" + "360buy_param_json{…}access_tokenjd-token…v2.0" + "jdsecret", by hand.
    text = (
        'jdsecret360buy_param_json{"page":1,"pageSize":50}access_tokenjd-tokenapp_keyJDKEY'
        "methodjingdong.pop.PopCommentJsfService.getVenderCommentsForJostimestamp2026-03-02 10:15:00v2.0jdsecret"
    )
    assert hashlib.md5(text.encode()).hexdigest().upper() == "1779F284B0CB629206739517C4E778FF"  # noqa: S324 (the platform prescribes MD5)
    assert jos_sign(params, "jdsecret") == "1779F284B0CB629206739517C4E778FF"


def test_comments_map_to_events_with_the_shop_s_star_rule_in_pages_of_at_most_50(fake, connector):
    Shop.objects.filter(pk=connector.shop_id).update(negative_max_stars=2, neutral_max_stars=3)
    fake.comments = [make_comment(n, ago(days=1, minutes=n), stars=5) for n in range(1, 121)] + [
        make_comment(201, ago(days=2), stars=2, images=3),
        make_comment(202, ago(days=2, minutes=5), stars=3),
    ]

    result = pull_services.connector_pull(connector.pk)

    assert result.error is None and result.created == 122
    two_stars = Review.objects.select_related("buyer").get(review_id="201")
    assert (two_stars.tier, two_stars.stars, two_stars.image_count) == ("negative", 2, 3)  # the shop's rule: ≤2 ★
    assert two_stars.order_id == "200000000201" and two_stars.buyer.open_id == "o-jd-00000201"
    assert two_stars.item_sku == str(100012345 + 201 % 7)
    assert Review.objects.get(review_id="202").tier == "neutral"
    assert Ticket.objects.count() == 2
    import json

    sizes = {json.loads(form["360buy_param_json"])["pageSize"] for form in fake.requests}
    assert sizes == {50}
    assert max(json.loads(form["360buy_param_json"])["page"] for form in fake.requests) >= 3


def test_a_follow_up_and_a_seller_reply_become_their_own_events(fake, connector, monkeypatch):
    monkeypatch.setattr(JdConnector, "revision_interval_seconds", 0)
    fake.comments = [make_comment(7, ago(days=3), stars=1)]
    pull_services.connector_pull(connector.pk)
    fake.comments[0]["afterUserComment"] = {
        "content": "用了一周还是漏水",
        "created": jd_text(ago(days=1)),
        "images": [],
    }
    fake.comments[0]["replies"] = [{"content": "亲，已安排换新", "creationTime": jd_text(ago(days=2))}]
    make_due(connector)

    result = pull_services.connector_pull(connector.pk)

    assert result.error is None
    review = Review.objects.get(review_id="7")
    assert (review.followup_content, review.reply_content) == ("用了一周还是漏水", "亲，已安排换新")
    assert sorted(InboundEvent.objects.values_list("event_id", flat=True)) == [
        "jd:7:created",
        "jd:7:followup",
        f"jd:7:reply:{hashlib.sha256('亲，已安排换新'.encode()).hexdigest()[:16]}",
    ]
    make_due(connector)
    assert pull_services.connector_pull(connector.pk).fetched == 0


def test_an_expired_access_token_is_recorded_with_jd_s_code_and_backs_off(fake, connector):
    fake.script.append(TOKEN_EXPIRED)

    result = pull_services.connector_pull(connector.pk)

    failed = Connector.objects.get(pk=connector.pk)
    assert (
        result.error
        == failed.last_error
        == (
            "JD refused the access token (code 19: Invalid access_token token已过期或者不存在，请重新授权访问。). "
            "Authorise the app again and paste the new token."
        )
    )
    assert failed.consecutive_failures == 1 and failed.next_run_at > failed.last_error_at


def test_testing_the_jd_connection_makes_one_call(fake, connector):
    fake.comments = [make_comment(1, ago(hours=3))]

    check = pull_services.connector_test(connector.pk)

    assert check.ok and "1 review" in check.message
    assert len(fake.requests) == 1

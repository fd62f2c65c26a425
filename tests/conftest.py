import pytest
from rest_framework.test import APIClient

from tickets.choices import Role

from .factories import ShopFactory, UserFactory, make_agent, make_api_key


@pytest.fixture
def shop_a(db):
    return ShopFactory(external_id="tb-a", platform="taobao", name="甲店")


@pytest.fixture
def shop_b(db):
    return ShopFactory(external_id="jd-b", platform="jd", name="乙店")


@pytest.fixture
def key_a(shop_a):
    """The raw bearer key of an integration scoped to shop A."""
    return make_api_key(shop_a, name="shop A sync")[1]


@pytest.fixture
def key_b(shop_b):
    return make_api_key(shop_b, name="shop B sync")[1]


@pytest.fixture
def agent(shop_a):
    return make_agent(shop_a, username="agent_a")


@pytest.fixture
def agent_b(shop_b):
    return make_agent(shop_b, username="agent_b")


@pytest.fixture
def supervisor(shop_a):
    return make_agent(shop_a, role=Role.SUPERVISOR, username="supervisor_a")


@pytest.fixture
def outsider(db):
    """A logged-in user with no shop: sees nothing."""
    return UserFactory(username="outsider")


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def push(api, key_a):
    """POST review events with shop A's key; returns the response."""

    def _push(body, key=None, **extra):
        return api.post(
            "/api/v1/review-events/", body, format="json", HTTP_AUTHORIZATION=f"Bearer {key or key_a}", **extra
        )

    return _push


def event(**overrides):
    """A valid review.created event for shop A, negative by default."""
    base = {
        "event_id": "e-1",
        "type": "review.created",
        "occurred_at": "2026-03-02T10:15:00+08:00",
        "platform": "taobao",
        "shop": "tb-a",
        "review_id": "r-1",
        "order_id": "3901234567890",
        "buyer": {"id": "buyer-open-1", "nick": "tony", "phone": "13812345678", "region": "浙江 杭州"},
        "item": {"id": "6523", "sku": "6523-BLK-M", "title": "加厚保暖羽绒服", "price": "399.00"},
        "rating": {"stars": 1, "dsr": {"description": 2, "service": 3, "logistics": 1}},
        "content": "快递太慢了，衣服有线头",
        "image_count": 2,
    }
    base.update(overrides)
    return base

"""Actors, data and page helpers shared by the browser tests of the agent workspace (issue 4)."""

import datetime as dt
import itertools
import re
from zoneinfo import ZoneInfo

import requests
from django.utils import timezone
from playwright.sync_api import expect

from contacts.models import ContactEtiquette

from ..processes import read_log, wait_for

PASSWORD = "pw-123456"  # tests.factories.UserFactory's
SHANGHAI = ZoneInfo("Asia/Shanghai")
_events = itertools.count(1)


def quiet_hours_now(shop):
    """Make it night for the shop's buyers whatever the hour: quiet hours from three hours ago to
    three hours ahead (Asia/Shanghai), so a phone attempt breaks the etiquette at any time of day."""
    local = timezone.now().astimezone(SHANGHAI)
    return ContactEtiquette.objects.create(
        shop=shop,
        quiet_hours_start=(local - dt.timedelta(hours=3)).time().replace(second=0, microsecond=0),
        quiet_hours_end=(local + dt.timedelta(hours=3)).time().replace(second=0, microsecond=0),
        default_time_zone="Asia/Shanghai",
    )


# The push API ---------------------------------------------------------------------------------


def review_event(n=None, *, kind="created", occurred_at=None, **overrides):
    """A review event of shop A as the platform connector sends it; negative review.created by
    default, occurring now."""
    n = n if n is not None else next(_events)
    body = {
        "event_id": f"browser-{kind}-{n}-{next(_events)}",
        "type": f"review.{kind}",
        "occurred_at": (occurred_at or timezone.now()).isoformat(),
        "platform": "taobao",
        "shop": "tb-a",
        "review_id": f"br-{n}",
    }
    if kind == "created":
        body.update(
            {
                "order_id": f"39{n:011d}",
                "buyer": {"id": f"buyer-open-{n}", "nick": "tony", "phone": "13812345678", "region": "浙江 杭州"},
                "item": {"id": "6523", "sku": "6523-BLK-M", "title": "加厚保暖羽绒服", "price": "399.00"},
                "rating": {"stars": 1, "dsr": {"description": 2, "service": 3, "logistics": 4}},
                "content": "衣服到处是线头，质量差，穿一次就起球",
                "image_count": 2,
            }
        )
    body.update(overrides)
    return body


def push(live_server, key, body):
    """POST one event to the running server's push API; returns its result row."""
    response = requests.post(
        f"{live_server.url}/api/v1/review-events/",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    return result


def wait_for_task(process, task, count=1, timeout=60):
    """Wait until the worker's log says a task matching the pattern `task` succeeded `count` times."""
    pattern = re.compile(rf"Task [\w.]*(?:{task})\[[^\]]+\] succeeded")
    return wait_for(
        lambda: len(pattern.findall(read_log(process))) >= count,
        timeout=timeout,
        what=f"{task} to succeed in the worker (log:\n{read_log(process)})",
    )


# Pages --------------------------------------------------------------------------------------


def log_in(page, live_server, username, password=PASSWORD):
    """Log in through the login form; lands on the queue."""
    page.goto(f"{live_server.url}/login/")
    expect(page.get_by_test_id("login-form")).to_be_visible()
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.get_by_test_id("login-form").locator("button[type=submit]").click()
    expect(page.locator("body[data-testid=page-queue]")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_contain_text(username)


def row(page, ticket_id):
    return page.locator(f"tr[data-testid=ticket-row][data-ticket-id='{ticket_id}']")


def submit(page, testid):
    """Submit the form `testid` and wait for the page the redirect leads to."""
    with page.expect_navigation():
        page.get_by_test_id(testid).locator("button[type=submit]").click()


def messages(page):
    return page.get_by_test_id("messages")

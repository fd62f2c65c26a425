"""Browser tests: Playwright driving Debian's /usr/bin/chromium against a live server, with a
real Celery worker where the page depends on background work. Screenshots of each step go to
var/screenshots/<test>/ (not committed)."""

import importlib
import os
import re
from pathlib import Path

import pytest
from django.apps import apps as django_apps

from tickets.choices import Role
from tickets.models import Cause

from ..factories import ShopFactory, make_agent, make_api_key
from ..processes import flush_broker, start_celery, stop

# Playwright's sync API runs an event loop in this thread; Django then refuses ORM calls from it
# unless told that this thread is synchronous code (it is: the loop only drives the browser).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import sync_playwright  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# Without these Chromium keeps trying to reach Google's servers, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(chromium):
    """Open a browser context (a separate person: own cookies), closed after the test."""
    contexts = []

    def _new(locale="en-US", **options):
        context = chromium.new_context(locale=locale, timezone_id="Asia/Shanghai", **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield _new
    for context in contexts:
        context.close()


@pytest.fixture
def shot(request):
    """shot(page, "step name"): a numbered full-page screenshot under var/screenshots/<test>/."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    counter = iter(range(1, 1000))

    def _shot(page, name):
        slug = re.sub(r"[^\w.-]+", "_", name)
        path = folder / f"{next(counter):02d}-{slug}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


# Actors and processes of the workspace tests ---------------------------------------------------


@pytest.fixture
def taxonomy(transactional_db):
    """The default causes, keyword rules, scripts and phrases of migration 0004. A transactional
    test empties every table when it ends, seeded rows included, so each test seeds them again."""
    if not Cause.objects.exists():
        seeding = importlib.import_module("tickets.migrations.0004_default_causes_scripts_and_phrases")
        seeding.seed(django_apps, None)


@pytest.fixture
def shop(transactional_db):
    return ShopFactory(external_id="tb-a", platform="taobao", name="甲店")


@pytest.fixture
def api_key(shop):
    return make_api_key(shop, name="shop A sync")[1]


@pytest.fixture
def supervisor(shop):
    return make_agent(shop, role=Role.SUPERVISOR, username="boss")


@pytest.fixture
def worker(live_server, tmp_path):
    """A real Celery worker (child process) on the test database. It depends on live_server, so it
    stops before the test's tables are emptied."""
    flush_broker()
    process = start_celery("worker", tmp_path, "--pool=solo", "--without-gossip", "--without-mingle")
    yield process
    stop(process)

"""The supervisor's dashboard in a real browser (issue 6): the server-drawn trend charts render
with data, and the filters redraw them."""

import pytest
from playwright.sync_api import expect

from ..factories import ShopFactory, make_agent
from ..stats_data import build
from .workspace import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def chart_points(page):
    """The points of every series of every trend chart, as drawn."""
    charts = page.get_by_test_id("svg-chart")
    expect(charts.first).to_be_visible()
    return [line.get_attribute("points") for line in charts.locator("polyline").all()]


def test_the_trend_charts_draw_the_period_and_change_with_the_filters(new_context, live_server, shot, shop, supervisor):
    shop_b = ShopFactory(external_id="jd-b", platform="jd", name="乙店")
    agents = [make_agent(shop, username="agent_a"), make_agent(shop, username="colleague_a")]
    build(shop, shop_b, *agents, make_agent(shop_b, username="agent_b"))
    supervisor.agent_profile.shops.add(shop_b)
    page = new_context().new_page()
    log_in(page, live_server, supervisor.username)

    page.goto(f"{live_server.url}/dashboard/?from=2026-03-02&to=2026-03-04")
    both_shops = chart_points(page)
    shot(page, "dashboard both shops")
    # Three days: a point per day where the figure exists (a rate has none on a day without
    # its divisor), and not everything on one line.
    assert both_shops and max(len(points.split()) for points in both_shops) == 3
    assert all(points.split() for points in both_shops) and len(set(both_shops)) > 1

    filters = page.get_by_test_id("dashboard-filters")
    filters.locator("select[name=shop]").select_option("jd-b")
    filters.locator("button[type=submit]").click()
    expect(filters.locator("select[name=shop]")).to_have_value("jd-b")
    one_shop = chart_points(page)
    shot(page, "dashboard one shop")
    assert one_shop != both_shops

    filters.locator("input[name=from]").fill("2026-03-03")
    filters.locator("button[type=submit]").click()
    expect(filters.locator("input[name=from]")).to_have_value("2026-03-03")
    assert max(len(points.split()) for points in chart_points(page)) == 2

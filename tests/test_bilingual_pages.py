"""Pages in both languages, beyond the catalogue: what a walk-through in a Chinese and an English
browser found printed as codes, cached in the first reader's language, or named by its query
parameter."""

# ruff: noqa: F811 - pytest finds the shared fixtures (tests/workspace.py) by the names imported here

import pytest
from django.core.cache import cache

from tickets.models import Ticket

from .workspace import login, pool_ticket, ticket  # noqa: F401

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def page(user, path, headers):
    response = login(user).get(path, **headers)
    return response.status_code, response.content.decode()


def test_the_dashboards_shop_table_names_the_platform_in_each_readers_language(ticket, supervisor):
    # The first reader fills the ten-minute cache; the second must not get the first one's words.
    _status, english = page(supervisor, "/dashboard/", EN)
    _status, chinese = page(supervisor, "/dashboard/", ZH)
    _status, english_again = page(supervisor, "/dashboard/", EN)

    def shop_table(html):
        table = html[html.index('data-testid="shop-reviews"') :]
        return table[: table.index("</table>")]

    assert "Taobao" in shop_table(english) and "淘宝" not in shop_table(english)
    assert "淘宝" in shop_table(chinese) and "Taobao" not in shop_table(chinese)
    assert shop_table(english_again) == shop_table(english)


def test_the_backlog_ages_are_words_not_api_keys(ticket, supervisor):
    _status, chinese = page(supervisor, "/dashboard/", ZH)
    _status, english = page(supervisor, "/dashboard/", EN)

    assert "4 小时内" in chinese and "3 天以上" in chinese
    assert "under 4 hours" in english and "over 3 days" in english
    assert ">&lt;4h<" not in chinese + english and ">&gt;3d<" not in chinese + english


def test_system_actors_on_the_timeline_are_named_in_the_readers_language(ticket, agent):
    assert ticket.timeline.filter(actor_label="assignment").exists()
    _status, chinese = page(agent, f"/tickets/{ticket.pk}/", ZH)
    _status, english = page(agent, f"/tickets/{ticket.pk}/", EN)

    assert "自动分配" in chinese and ">assignment<" not in chinese
    assert "automatic assignment" in english


def test_a_bad_list_filter_is_named_as_the_form_names_it(ticket, agent):
    _status, chinese = page(agent, "/?tier=bogus&assignee=abc", ZH)
    errors = chinese[chinese.index('data-testid="filter-errors"') :]
    errors = errors[: errors.index("</ul>")]

    assert '<li data-field="tier">评价等级: ' in errors
    assert '<li data-field="assignee">处理人: 请填写用户 ID' in errors
    assert "tier:" not in errors and "Use a user id" not in errors


def test_a_blank_status_from_the_filter_form_is_no_filter(ticket, agent):
    # The form's "Any status" option sends status= with no value.
    status, html = page(agent, "/?status=&shop=&tier=&q=", EN)

    assert status == 200
    assert 'data-testid="filter-errors"' not in html
    assert f'data-ticket-id="{ticket.pk}"' in html


def test_the_countdowns_units_come_in_the_pages_language(ticket, agent):
    _status, chinese = page(agent, "/", ZH)
    _status, english = page(agent, "/", EN)

    assert 'data-time-units="天,小时,分,秒"' in chinese
    assert 'data-time-units="d,h,m,s"' in english


def test_the_buyer_page_names_a_tickets_cause(ticket, agent):
    Ticket.objects.filter(pk=ticket.pk).update(cause="damaged")
    buyer_id = Ticket.objects.values_list("review__buyer_id", flat=True).get(pk=ticket.pk)

    _status, chinese = page(agent, f"/buyers/{buyer_id}/", ZH)
    _status, english = page(agent, f"/buyers/{buyer_id}/", EN)

    assert "<td>damaged</td>" not in chinese + english
    assert "<td>Damaged</td>" in english and "<td>破损</td>" in chinese

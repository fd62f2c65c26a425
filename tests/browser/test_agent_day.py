"""One after-sales agent's day in the browser (issue 4): a negative review pushed through the real
API is assigned by a real Celery worker, worked from the queue to a claimed revision with a remedy
a supervisor approves in a second browser, and verified by the platform's revision event; the
pool's Take; keyboard navigation of the queue; and the language switch."""

import pytest
from django.utils import translation
from playwright.sync_api import expect

from tickets.assignment import assign_ticket
from tickets.models import Remedy, Ticket

from ..factories import make_agent
from ..processes import wait_for
from .workspace import (
    log_in,
    messages,
    push,
    quiet_hours_now,
    review_event,
    row,
    submit,
    wait_for_task,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_an_agent_works_a_pushed_negative_review_from_the_queue_to_a_verified_revision(
    live_server, new_context, shot, worker, taxonomy, shop, api_key, supervisor
):
    agent = make_agent(shop, on_duty=True, username="xiaoli")
    # Night for the buyer whatever the hour the test runs: a phone call breaks the etiquette.
    quiet_hours_now(shop)
    page = new_context().new_page()

    log_in(page, live_server, "xiaoli")
    expect(page.get_by_test_id("no-tickets")).to_be_visible()
    shot(page, "empty queue")

    opened = push(live_server, api_key, review_event(1))
    ticket_id = opened["ticket_id"]
    assert opened["status"] == "created" and ticket_id
    wait_for(
        lambda: Ticket.objects.filter(pk=ticket_id, assignee=agent).exists(),
        timeout=60,
        what="the worker to assign the ticket to the on-duty agent",
    )
    # The queue polls every 30 s; a reload shows the same rows at once.
    page.reload()
    expect(row(page, ticket_id)).to_be_visible()
    expect(row(page, ticket_id)).to_contain_text("线头")
    shot(page, "queue with the new ticket")

    row(page, ticket_id).locator("td.excerpt").click()
    expect(page.locator("body[data-testid=page-ticket]")).to_be_visible()
    expect(page.get_by_test_id("ticket-head")).to_have_attribute("data-ticket-id", str(ticket_id))
    expect(page.get_by_test_id("ticket-assignee")).to_have_text("xiaoli")
    shot(page, "ticket opened")

    # A phone call in quiet hours is refused and changes nothing ...
    page.locator("#contactattempt_channel").select_option("phone")
    page.locator("#contactattempt_result").select_option("no_answer")
    submit(page, "contact-form")
    expect(messages(page)).to_contain_text("no calls between")
    expect(page.get_by_test_id("contact-attempt")).to_have_count(0)
    shot(page, "phone refused in quiet hours")
    # ... unless the agent gives a reason to call anyway.
    page.locator("#contactattempt_channel").select_option("phone")
    page.locator("#contactattempt_result").select_option("no_answer")
    page.locator("#contactattempt_override_reason").fill("The buyer asked us to call back tonight.")
    submit(page, "contact-form")
    expect(messages(page)).to_contain_text("Contact attempt logged.")
    expect(page.get_by_test_id("contact-attempt")).to_have_count(1)
    expect(page.get_by_test_id("ticket-status")).to_have_text("In progress")
    # IM is not policed: it waits in the buyer's inbox.
    page.locator("#contactattempt_channel").select_option("im")
    page.locator("#contactattempt_result").select_option("reached")
    page.locator("#contactattempt_note").fill("买家说衣服线头多，愿意换货")
    submit(page, "contact-form")
    expect(page.get_by_test_id("contact-attempt")).to_have_count(2)
    expect(page.get_by_test_id("contact-attempt").nth(1)).to_contain_text("Reached")
    shot(page, "two contact attempts")

    # The cause the keywords suggest is pre-selected.
    expect(page.get_by_test_id("cause-suggested")).to_be_visible()
    expect(page.locator("#cause_cause")).to_have_value("poor_quality")
    submit(page, "cause-form")
    expect(messages(page)).to_contain_text("Cause saved.")
    expect(page.get_by_test_id("ticket-cause")).to_have_text("Poor quality")
    shot(page, "cause saved")

    # 80.00 is over the agent's cap of 50.00: it waits for a supervisor.
    page.locator("#remedy_kind").select_option("partial_refund")
    page.locator("#remedy_amount").fill("80.00")
    page.locator("#remedy_status").select_option("offered")
    page.locator("#remedy_note").fill("线头问题，部分退款")
    submit(page, "remedy-form")
    expect(messages(page)).to_contain_text("waits for a supervisor's approval")
    remedy_row = page.get_by_test_id("remedy")
    expect(remedy_row).to_have_attribute("data-status", "pending_approval")
    expect(remedy_row).to_contain_text("Waiting for approval")
    shot(page, "remedy waits for approval")

    boss = new_context().new_page()
    log_in(boss, live_server, "boss")
    boss.get_by_test_id("main-nav").get_by_role("link", name="Approvals").click()
    expect(boss.locator("body[data-testid=page-approvals]")).to_be_visible()
    remedy = Remedy.objects.get(ticket_id=ticket_id)
    approval = boss.locator(f"tr[data-testid=approval-row][data-remedy-id='{remedy.pk}']")
    expect(approval).to_contain_text("80.00")
    expect(approval).to_contain_text("xiaoli")
    shot(boss, "supervisor approvals")
    with boss.expect_navigation():
        approval.get_by_role("button", name="Approve").click()
    expect(messages(boss)).to_contain_text("Remedy approved.")
    expect(boss.get_by_test_id("no-approvals")).to_be_visible()
    shot(boss, "approved")

    page.reload()
    expect(remedy_row).to_have_attribute("data-status", "offered")
    expect(remedy_row).to_contain_text("Offered")
    expect(page.get_by_test_id("remedy-status-form")).to_be_visible()
    shot(page, "remedy approved and offered")

    page.locator("#outcome_outcome").select_option("revised_positive")
    submit(page, "outcome-form")
    expect(messages(page)).to_contain_text("Outcome recorded.")
    expect(page.get_by_test_id("ticket-status")).to_have_text("Resolved")
    expect(page.get_by_test_id("ticket-outcome")).to_have_text("Revised to positive (claimed)")
    shot(page, "revision claimed")

    revised = push(live_server, api_key, review_event(1, kind="revised", rating={"tier": "positive"}))
    assert (revised["status"], revised["ticket_id"]) == ("updated", ticket_id)
    page.reload()
    expect(page.get_by_test_id("ticket-outcome")).to_have_text("Revised to positive (verified)")
    expect(page.locator("tr[data-testid=timeline-event][data-kind=outcome_verified]")).to_have_count(1)
    shot(page, "revision verified")

    ticket = Ticket.objects.get(pk=ticket_id)
    assert (ticket.status, ticket.outcome, ticket.outcome_verified) == ("resolved", "revised_positive", True)
    assert ticket.cause == "poor_quality"
    assert ticket.first_contact_at is not None and ticket.first_reached_at is not None
    assert Remedy.objects.get(pk=remedy.pk).status == "offered"


def test_an_agent_takes_a_ticket_nobody_could_be_given_from_the_pool(
    live_server, new_context, shot, worker, taxonomy, shop, api_key
):
    make_agent(shop, on_duty=False, username="xiaowang")  # off duty: not eligible
    opened = push(live_server, api_key, review_event(2))
    ticket_id = opened["ticket_id"]
    wait_for_task(worker, r"assign_tickets?_task")
    assert Ticket.objects.filter(pk=ticket_id, assignee__isnull=True, status="new").exists()

    page = new_context().new_page()
    log_in(page, live_server, "xiaowang")
    expect(page.get_by_test_id("no-tickets")).to_be_visible()
    page.get_by_test_id("main-nav").get_by_role("link", name="Pool").click()
    expect(page.locator("body[data-testid=page-pool]")).to_be_visible()
    expect(row(page, ticket_id)).to_be_visible()
    shot(page, "pool")

    with page.expect_navigation():
        row(page, ticket_id).get_by_test_id("take-form").get_by_role("button", name="Take").click()
    expect(page.locator("body[data-testid=page-ticket]")).to_be_visible()
    expect(messages(page)).to_contain_text(f"Ticket #{ticket_id} is yours.")
    expect(page.get_by_test_id("ticket-assignee")).to_have_text("xiaowang")
    expect(page.get_by_test_id("take-form")).to_have_count(0)
    shot(page, "taken")

    page.get_by_test_id("main-nav").get_by_role("link", name="Pool").click()
    expect(page.get_by_test_id("no-tickets")).to_be_visible()
    page.get_by_test_id("main-nav").get_by_role("link", name="My tickets").click()
    expect(row(page, ticket_id)).to_be_visible()
    shot(page, "in my queue")
    assert Ticket.objects.get(pk=ticket_id).timeline.filter(kind="assigned", data__rule="taken").count() == 1


def test_j_and_k_move_the_selected_queue_row_and_enter_opens_it(
    live_server, new_context, shot, taxonomy, shop, api_key
):
    agent = make_agent(shop, on_duty=True, username="xiaoli")
    ids = [push(live_server, api_key, review_event(n))["ticket_id"] for n in (11, 12, 13)]
    for ticket_id in ids:  # the assignment a worker would run, called directly
        assign_ticket(ticket_id)
    assert Ticket.objects.filter(pk__in=ids, assignee=agent).count() == 3

    page = new_context().new_page()
    log_in(page, live_server, "xiaoli")
    rows = page.get_by_test_id("ticket-row")
    expect(rows).to_have_count(3)
    order = [rows.nth(i).get_attribute("data-ticket-id") for i in range(3)]
    assert sorted(map(int, order)) == sorted(ids)
    selected = page.locator("tr.ticket-row.selected")
    expect(selected).to_have_count(0)

    page.keyboard.press("j")
    expect(selected).to_have_attribute("data-ticket-id", order[0])
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(selected).to_have_attribute("data-ticket-id", order[2])
    page.keyboard.press("j")  # stays on the last row
    expect(selected).to_have_attribute("data-ticket-id", order[2])
    page.keyboard.press("k")
    expect(selected).to_have_attribute("data-ticket-id", order[1])
    expect(selected).to_have_count(1)
    shot(page, "second row selected")

    # Keys typed into the search box are text, not navigation.
    page.get_by_test_id("filter-q").press("j")
    expect(page.get_by_test_id("filter-q")).to_have_value("j")
    expect(selected).to_have_attribute("data-ticket-id", order[1])
    page.get_by_test_id("filter-q").fill("")
    page.locator("h1").click()

    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("body[data-testid=page-ticket]")).to_be_visible()
    expect(page.get_by_test_id("ticket-head")).to_have_attribute("data-ticket-id", order[1])
    shot(page, "opened with Enter")


def _chinese(message):
    with translation.override("zh-hans"):
        return translation.gettext(message)


def test_the_language_switch_and_the_browsers_language_choose_chinese_or_english(
    live_server, new_context, shot, taxonomy, shop
):
    make_agent(shop, on_duty=True, username="xiaoli")
    # The catalogues are being filled in: compare with what they say today. "Log out" and "Home"
    # are translated by Django's own catalogue at least, so the Chinese page must differ.
    log_out, home, my_tickets = _chinese("Log out"), _chinese("Home"), _chinese("My tickets")
    assert log_out != "Log out" and home != "Home"

    page = new_context().new_page()
    log_in(page, live_server, "xiaoli")
    html, nav = page.locator("html"), page.get_by_test_id("main-nav")
    expect(html).to_have_attribute("lang", "en")
    expect(nav).to_contain_text("My tickets")
    shot(page, "english")

    with page.expect_navigation():
        page.locator("#language-select").select_option("zh-hans")
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page.locator("body[data-testid=page-queue]")).to_be_visible()
    expect(page.get_by_test_id("logout")).to_have_text(log_out)
    expect(page.get_by_test_id("breadcrumbs")).to_contain_text(home)
    expect(nav.get_by_role("link").first).to_have_text(my_tickets)
    shot(page, "chinese after the switch")

    with page.expect_navigation():
        page.locator("#language-select").select_option("en")
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("logout")).to_have_text("Log out")
    expect(nav.get_by_role("link").first).to_have_text("My tickets")
    shot(page, "english again")

    chinese = new_context(locale="zh-CN").new_page()
    chinese.goto(f"{live_server.url}/login/")
    expect(chinese.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(chinese.locator("h1")).to_have_text(_chinese("Log in"))
    log_in(chinese, live_server, "xiaoli")
    expect(chinese.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(chinese.get_by_test_id("logout")).to_have_text(log_out)
    expect(chinese.get_by_test_id("main-nav").get_by_role("link").first).to_have_text(my_tickets)
    shot(chinese, "chinese from accept-language")


def test_the_queue_rows_refresh_in_place_and_keep_the_selected_row(
    live_server, new_context, shot, taxonomy, shop, api_key
):
    """The 30 s htmx poll fetches only the rows: a ticket assigned meanwhile appears without a
    reload, and the row selected with j stays selected."""
    agent = make_agent(shop, on_duty=True, username="xiaoli")
    first = push(live_server, api_key, review_event(21))["ticket_id"]
    assign_ticket(first)
    page = new_context().new_page()
    log_in(page, live_server, "xiaoli")
    expect(page.get_by_test_id("ticket-row")).to_have_count(1)
    page.keyboard.press("j")
    selected = page.locator("tr.ticket-row.selected")
    expect(selected).to_have_attribute("data-ticket-id", str(first))
    page.evaluate("document.querySelector('h1').dataset.marker = 'not reloaded'")

    second = push(live_server, api_key, review_event(22))["ticket_id"]
    assign_ticket(second)
    assert Ticket.objects.filter(pk__in=[first, second], assignee=agent).count() == 2
    # What the poll does, without waiting 30 s: the same GET with htmx's headers into the body.
    page.evaluate(
        "htmx.ajax('GET', document.getElementById('ticket-rows').getAttribute('hx-get'),"
        " {target: '#ticket-rows', swap: 'innerHTML'})"
    )
    expect(row(page, second)).to_be_visible()
    expect(page.get_by_test_id("ticket-row")).to_have_count(2)
    expect(selected).to_have_attribute("data-ticket-id", str(first))
    expect(page.locator("h1")).to_have_attribute("data-marker", "not reloaded")
    expect(page.get_by_test_id("login-form")).to_have_count(0)
    shot(page, "rows refreshed in place")

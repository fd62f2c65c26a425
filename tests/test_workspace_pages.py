"""The agent workspace in the browser (issue 4): login, the queue, the pool, the ticket page and the
header, rendered by the server. Query counts are fixed whatever the number of rows, and personal
data (the buyer's raw nick and phone) never reaches the HTML."""

# ruff: noqa: F811 - pytest finds the shared fixtures (tests/workspace.py) by the names imported here

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.models import Buyer, RiskLevel
from reviews.models import Review
from tickets.actions import note_add
from tickets.choices import SlaState, TicketStatus
from tickets.models import AgentProfile, Notification, Ticket

from .conftest import event
from .workspace import RAW_NICK, RAW_PHONE, colleague, login, pool_ticket, push_tickets, ticket  # noqa: F401

pytestmark = pytest.mark.django_db

PAGES = ["/", "/pool/", "/tickets/", "/approvals/", "/team/", "/notifications/"]


def html(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def row_ids(page):
    return [int(i) for i in re.findall(r'data-testid="ticket-row" data-ticket-id="(\d+)"', page)]


def assign_all_to(user):
    Ticket.objects.update(assignee=user, status=TicketStatus.ASSIGNED)


# Login and the header --------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*PAGES, "/tickets/1/"])
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_the_login_page_logs_an_agent_in_and_lands_on_the_queue(agent):
    client = Client()
    page = html(client.get("/login/"))
    assert 'data-testid="login-form"' in page

    response = client.post("/login/", {"username": "agent_a", "password": "pw-123456"})

    assert response.status_code == 302 and response["Location"] == "/"
    assert 'data-testid="page-queue"' in html(client.get("/"))


def test_a_wrong_password_shows_the_form_again_with_an_error(agent):
    response = Client().post("/login/", {"username": "agent_a", "password": "nope"})

    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


def test_logging_out_ends_the_session(agent):
    client = login(agent)

    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_the_header_shows_the_user_role_duty_switch_language_switch_and_unread_count(agent, ticket):
    Notification.objects.create(recipient=agent, ticket=ticket, kind="sla_warning", message="soon")
    Notification.objects.create(
        recipient=agent, ticket=ticket, kind="sla_warning", message="read", read_at=timezone.now()
    )

    page = html(login(agent).get("/"))

    assert "agent_a · After-sales agent" in page
    assert 'data-testid="duty-switch" data-on-duty="true"' in page
    assert 'data-testid="duty-hand-back"' in page
    assert 'data-testid="language-switch"' in page and 'action="/i18n/setlang/"' in page
    assert re.search(r'data-testid="notification-count">Notifications <span class="count">1</span>', page)
    # Agents see no supervisor pages in the navigation.
    assert 'href="/approvals/"' not in page


def test_a_supervisor_sees_the_supervisor_pages_in_the_navigation(supervisor):
    page = html(login(supervisor).get("/"))

    assert 'href="/approvals/"' in page and 'href="/team/"' in page and 'href="/tickets/"' in page


def test_the_page_follows_the_browsers_language_and_the_language_switch(agent, ticket):
    client = login(agent)

    chinese = html(client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"))
    assert '<html lang="zh-hans">' in chinese and "已分配" in chinese and "差评" in chinese
    english = html(client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9"))
    assert '<html lang="en">' in english and "Assigned" in english

    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/pool/"})
    assert response.status_code == 302 and response["Location"] == "/pool/"
    assert '<html lang="zh-hans">' in html(client.get("/pool/", HTTP_ACCEPT_LANGUAGE="en"))


def test_going_off_duty_can_hand_back_uncontacted_tickets(agent, ticket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        response = login(agent).post("/duty/", {"on_duty": "0", "return_uncontacted": "1", "next": "/pool/"})

    assert response.status_code == 302 and response["Location"] == "/pool/"
    assert AgentProfile.objects.get(user=agent).on_duty is False
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.status) == (None, TicketStatus.NEW)


def test_going_off_duty_without_handing_back_keeps_the_tickets(agent, ticket):
    login(agent).post("/duty/", {"on_duty": "0"})

    assert AgentProfile.objects.get(user=agent).on_duty is False
    assert Ticket.objects.get().assignee_id == agent.pk


def test_going_on_duty_switches_the_header(agent, django_capture_on_commit_callbacks):
    client = login(agent)
    with django_capture_on_commit_callbacks():
        client.post("/duty/", {"on_duty": "1"})

    assert AgentProfile.objects.get(user=agent).on_duty is True
    assert 'data-on-duty="true"' in html(client.get("/"))


def test_a_user_without_an_agent_profile_cannot_switch_duty(outsider):
    assert login(outsider).post("/duty/", {"on_duty": "1"}).status_code == 403


def test_a_duty_switch_that_points_next_elsewhere_stays_on_the_site(agent):
    response = login(agent).post("/duty/", {"on_duty": "0", "next": "https://evil.example/"})

    assert response["Location"] == "/"


# The queue -------------------------------------------------------------------------------------


def test_the_queue_lists_my_open_tickets_with_everything_a_row_shows(agent, ticket):
    page = html(login(agent).get("/"))

    assert row_ids(page) == [ticket.pk]
    row = page[page.index('data-testid="ticket-row"') :]
    row = row[: row.index("</tr>")]
    assert 'data-testid="sla-badge" data-sla="ok"' in row
    assert 'data-due="' in row
    assert "Negative" in row and "Taobao" in row and "甲店" in row
    assert "快递太慢了，衣服有线头" in row
    assert 'data-testid="risk-badge"' in row and "Low" in row
    assert "data-deadline=" in row  # rated_at + the revision window


def test_the_sla_badge_shows_the_live_state_computed_by_the_server(agent, ticket):
    # Past the warning time but before the due time: a warning, whatever the stored state says.
    Ticket.objects.filter(pk=ticket.pk).update(
        first_contact_warn_at=timezone.now() - dt.timedelta(minutes=1),
        first_contact_due_at=timezone.now() + dt.timedelta(minutes=10),
    )
    assert 'data-sla="warning"' in html(login(agent).get("/"))

    Ticket.objects.filter(pk=ticket.pk).update(first_contact_due_at=timezone.now() - dt.timedelta(minutes=1))
    assert 'data-sla="breached"' in html(login(agent).get("/"))


def test_the_queue_shows_neither_other_agents_tickets_nor_closed_ones(push, agent, colleague):
    mine, theirs, closed = push_tickets(push, 3)
    Ticket.objects.filter(pk=mine.pk).update(assignee=agent, status=TicketStatus.ASSIGNED)
    Ticket.objects.filter(pk=theirs.pk).update(assignee=colleague, status=TicketStatus.ASSIGNED)
    Ticket.objects.filter(pk=closed.pk).update(assignee=agent, status=TicketStatus.RESOLVED)

    assert row_ids(html(login(agent).get("/"))) == [mine.pk]


def test_the_queue_is_sorted_by_the_running_clock_with_no_due_time_last(push, agent):
    a, b, c, d = push_tickets(push, 4)
    assign_all_to(agent)
    now = timezone.now()
    Ticket.objects.filter(pk=a.pk).update(first_contact_due_at=now + dt.timedelta(hours=3))
    # Contacted: its resolution clock counts, not its first-contact one.
    Ticket.objects.filter(pk=b.pk).update(
        first_contact_at=now, first_contact_due_at=now, resolution_due_at=now + dt.timedelta(hours=1)
    )
    Ticket.objects.filter(pk=c.pk).update(first_contact_due_at=now + dt.timedelta(hours=2))
    Ticket.objects.filter(pk=d.pk).update(first_contact_due_at=None, resolution_due_at=None)

    assert row_ids(html(login(agent).get("/"))) == [b.pk, c.pk, a.pk, d.pk]


def test_the_queue_filters_by_keyword_shop_platform_tier_sla_cause_and_status(push, agent):
    a, b, c = push_tickets(push, 3)
    assign_all_to(agent)
    Ticket.objects.filter(pk=b.pk).update(
        tier="neutral", cause="damaged", sla_state=SlaState.BREACHED, status=TicketStatus.IN_PROGRESS
    )
    client = login(agent)

    assert row_ids(html(client.get("/", {"q": a.review.order_id}))) == [a.pk]
    assert row_ids(html(client.get("/", {"q": "衣服有线头"}))) == [a.pk, b.pk, c.pk]
    assert row_ids(html(client.get("/", {"q": "nobody-has-this"}))) == []
    assert row_ids(html(client.get("/", {"tier": "neutral"}))) == [b.pk]
    assert row_ids(html(client.get("/", {"sla": "breached"}))) == [b.pk]
    assert row_ids(html(client.get("/", {"cause": "damaged"}))) == [b.pk]
    assert row_ids(html(client.get("/", {"status": "in_progress"}))) == [b.pk]
    assert len(row_ids(html(client.get("/", {"shop": "tb-a", "platform": "taobao"})))) == 3
    assert row_ids(html(client.get("/", {"shop": "jd-b"}))) == []


def test_a_bad_filter_value_shows_an_error_instead_of_failing(agent, ticket):
    page = html(login(agent).get("/", {"sla": "purple"}))

    assert 'data-testid="filter-errors"' in page


def test_the_queue_refreshes_its_rows_every_30_seconds_keeping_the_filters(agent, ticket):
    client = login(agent)
    page = html(client.get("/", {"tier": "negative", "q": "快递"}))

    match = re.search(r'<tbody id="ticket-rows" hx-get="([^"]+)" hx-trigger="every 30s" hx-swap="innerHTML"', page)
    assert match, "the rows poll themselves"
    url = match.group(1).replace("&amp;", "&")
    assert url.startswith("/?") and "tier=negative" in url and "q=" in url

    rows = html(client.get(url, HTTP_HX_REQUEST="true"))
    assert "<html" not in rows and "<tbody" not in rows
    assert row_ids(rows) == [ticket.pk]


def test_the_queue_paginates_fifty_rows_a_page_keeping_the_filters(push, agent):
    push_tickets(push, 51)
    assign_all_to(agent)
    client = login(agent)

    first = html(client.get("/", {"tier": "negative"}))
    second = html(client.get("/", {"tier": "negative", "page": "2"}))

    assert len(row_ids(first)) == 50 and len(row_ids(second)) == 1
    assert "?tier=negative&amp;page=2" in first
    assert "data-keyboard-nav" in first


def _count(client, url, **extra):
    with CaptureQueriesContext(connection) as queries:
        html(client.get(url, **extra))
    return len(queries)


def test_the_queue_pool_and_all_tickets_pages_cost_the_same_for_3_and_30_tickets(push, agent, supervisor):
    push_tickets(push, 3)
    assign_all_to(agent)
    agent_client, supervisor_client = login(agent), login(supervisor)
    small = {
        "queue": _count(agent_client, "/"),
        "rows": _count(agent_client, "/", HTTP_HX_REQUEST="true"),
        "all": _count(supervisor_client, "/tickets/"),
    }
    Ticket.objects.update(assignee=None, status=TicketStatus.NEW)
    small["pool"] = _count(agent_client, "/pool/")

    push_tickets(push, 27, start=100)
    assign_all_to(agent)
    Buyer.objects.filter(open_id="buyer-100").update(risk_level=RiskLevel.HIGH)
    large = {
        "queue": _count(agent_client, "/"),
        "rows": _count(agent_client, "/", HTTP_HX_REQUEST="true"),
        "all": _count(supervisor_client, "/tickets/"),
    }
    Ticket.objects.update(assignee=None, status=TicketStatus.NEW)
    large["pool"] = _count(agent_client, "/pool/")

    assert Ticket.objects.count() == 30
    assert small == large


# The pool and all tickets ------------------------------------------------------------------------


def test_the_pool_lists_unassigned_open_tickets_of_my_shops_with_a_take_button(agent, pool_ticket, push, key_b):
    push(event(shop="jd-b", platform="jd", event_id="e-b", review_id="r-b"), key=key_b)

    page = html(login(agent).get("/pool/"))

    assert row_ids(page) == [pool_ticket.pk]
    assert f'action="/tickets/{pool_ticket.pk}/take/"' in page and 'data-testid="take-form"' in page


def test_all_tickets_shows_every_ticket_of_the_supervisors_shops_with_an_assignee_filter(
    push, supervisor, agent, colleague
):
    a, b, c = push_tickets(push, 3)
    Ticket.objects.filter(pk=a.pk).update(assignee=agent, status=TicketStatus.ASSIGNED)
    Ticket.objects.filter(pk=b.pk).update(assignee=colleague, status=TicketStatus.RESOLVED)
    client = login(supervisor)

    page = html(client.get("/tickets/"))
    assert row_ids(page)[-1] == b.pk  # open tickets first
    assert sorted(row_ids(page)) == [a.pk, b.pk, c.pk]
    assert 'data-testid="filter-assignee"' in page
    assert row_ids(html(client.get("/tickets/", {"assignee": str(agent.pk)}))) == [a.pk]
    assert row_ids(html(client.get("/tickets/", {"assignee": "none"}))) == [c.pk]
    assert row_ids(html(client.get("/tickets/", {"status": "resolved"}))) == [b.pk]


def test_the_all_tickets_csv_link_exports_the_rows_the_filters_show(push, supervisor, agent):
    a, _b = push_tickets(push, 2)
    Ticket.objects.filter(pk=a.pk).update(assignee=agent, status=TicketStatus.ASSIGNED)
    client = login(supervisor)

    page = html(client.get("/tickets/", {"assignee": str(agent.pk)}))
    link = re.search(r'href="([^"]+)" data-testid="tickets-csv"', page).group(1).replace("&amp;", "&")
    assert link == f"/dashboard/tickets.csv?assignee={agent.pk}"
    export = client.get(link)

    assert export.status_code == 200
    rows = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert len(rows) == 2 and rows[1].startswith(f"{a.pk},")


# The ticket page ---------------------------------------------------------------------------------


def test_the_ticket_page_shows_review_order_buyer_timeline_and_guides(agent, ticket):
    page = html(login(agent).get(f"/tickets/{ticket.pk}/"))

    assert 'data-testid="breadcrumbs"' in page
    assert "快递太慢了，衣服有线头" in page
    assert "1 / 5" in page  # stars
    assert "03/02/2026 10:15 a.m." in page  # reviewed at 10:15+08:00, shown in Asia/Shanghai time
    assert "description 2 · service 3 · logistics 1" in page
    assert "3901234567890" in page and "加厚保暖羽绒服" in page and "6523-BLK-M" in page and "399.00" in page
    assert "t***y" in page and "138****5678" in page and "浙江 杭州" in page
    assert 'data-testid="buyer-tickets">1<' in page and 'data-testid="buyer-reviews">1<' in page
    assert 'data-testid="revision-deadline"' in page and "data-countdown=" in page
    assert page.count('data-testid="timeline-event"') == 2  # opened, assigned
    assert "Opened from a Negative review." in page
    assert 'data-testid="call-script"' in page
    assert 'data-testid="revision-guide"' in page and 'data-testid="copy-guide"' in page
    assert 'data-testid="sla-badge"' in page


def test_the_ticket_page_preselects_the_suggested_cause(agent, ticket):
    page = html(login(agent).get(f"/tickets/{ticket.pk}/"))

    assert 'data-testid="cause-suggested"' in page
    assert re.search(r'<option value="poor_quality" selected>', page)


def test_the_ticket_page_shows_the_work_forms_to_the_assignee(agent, ticket):
    Review.objects.update(rated_at=timezone.now() - dt.timedelta(days=2))
    page = html(login(agent).get(f"/tickets/{ticket.pk}/"))

    for form in (
        "contact-form",
        "cause-form",
        "remedy-form",
        "outcome-form",
        "visit-form",
        "escalate-form",
        "note-form",
        "explanation-form",
    ):
        assert f'data-testid="{form}"' in page, form
    assert 'data-testid="assign-form"' not in page
    assert 'data-testid="take-form"' not in page


def test_the_explanation_form_is_hidden_once_the_platform_would_refuse_it(agent, ticket):
    client = login(agent)
    Review.objects.update(rated_at=timezone.now() - dt.timedelta(days=31))
    assert 'data-testid="explanation-form"' not in html(client.get(f"/tickets/{ticket.pk}/"))

    Review.objects.update(rated_at=timezone.now(), followup_at=timezone.now(), followup_content="追评")
    assert 'data-testid="explanation-form"' not in html(client.get(f"/tickets/{ticket.pk}/"))


def test_another_agent_of_the_shop_sees_the_ticket_read_only(colleague, ticket):
    page = html(login(colleague).get(f"/tickets/{ticket.pk}/"))

    assert 'data-testid="review-card"' in page
    assert "action-form" not in page


def test_a_supervisor_sees_the_reassign_form(supervisor, ticket):
    page = html(login(supervisor).get(f"/tickets/{ticket.pk}/"))

    assert 'data-testid="assign-form"' in page and 'data-testid="contact-form"' in page


def test_a_pool_ticket_offers_take_to_an_agent_of_its_shop(agent, pool_ticket):
    page = html(login(agent).get(f"/tickets/{pool_ticket.pk}/"))

    assert 'data-testid="take-form"' in page
    assert 'data-testid="contact-form"' not in page


def test_a_closed_ticket_shows_no_work_forms_but_its_outcome(agent, ticket, push):
    push(
        {
            "event_id": "e-del",
            "type": "review.deleted",
            "occurred_at": "2026-03-03T09:00:00+08:00",
            "platform": "taobao",
            "shop": "tb-a",
            "review_id": "r-1",
        }
    )
    page = html(login(agent).get(f"/tickets/{ticket.pk}/"))

    assert 'data-testid="ticket-outcome">Deleted by buyer (verified)' in page
    assert 'data-testid="contact-form"' not in page and 'data-testid="outcome-form"' not in page
    # The call script and the buyer's revision guide are for working the ticket, not after it.
    assert 'data-testid="call-script"' not in page and 'data-testid="revision-guide"' not in page


def test_the_buyer_card_suggests_the_best_time_to_call(agent, ticket):
    page = html(login(agent).get(f"/tickets/{ticket.pk}/"))

    card = page[page.index('data-testid="best-time"') :]
    assert "18:00–19:00" in card[: card.index("</dd>")]  # never reached: the early-evening rule


def test_only_a_supervisor_working_a_high_risk_buyer_sees_the_remedy_override_box(agent, supervisor, ticket):
    assert 'name="override_reason"' not in remedy_form(login(supervisor).get(f"/tickets/{ticket.pk}/"))

    Buyer.objects.update(risk_level=RiskLevel.HIGH)

    assert 'name="override_reason"' not in remedy_form(login(agent).get(f"/tickets/{ticket.pk}/"))
    assert 'name="override_reason"' in remedy_form(login(supervisor).get(f"/tickets/{ticket.pk}/"))


def remedy_form(response):
    page = html(response)
    form = page[page.index('data-testid="remedy-form"') :]
    return form[: form.index("</form>")]


def test_the_ticket_page_runs_the_same_queries_for_2_and_20_timeline_events(agent, ticket):
    client = login(agent)
    client.get(f"/tickets/{ticket.pk}/")
    small = _count(client, f"/tickets/{ticket.pk}/")

    for i in range(18):
        note_add(ticket.pk, agent, text=f"note {i}")
    page = html(client.get(f"/tickets/{ticket.pk}/"))
    assert page.count('data-testid="timeline-event"') == 20
    large = _count(client, f"/tickets/{ticket.pk}/")

    assert small == large


def test_the_ticket_page_runs_the_same_queries_for_3_and_30_of_the_buyers_tickets(push, agent):
    tickets = push_tickets(push, 3, same_buyer=True)
    assign_all_to(agent)
    client = login(agent)
    first = tickets[0].pk
    small = _count(client, f"/tickets/{first}/")

    push_tickets(push, 27, start=100, same_buyer=True)
    assert 'data-testid="buyer-tickets">30<' in html(client.get(f"/tickets/{first}/"))
    assert _count(client, f"/tickets/{first}/") == small


def test_the_approvals_and_duty_board_cost_the_same_for_few_and_many_rows(push, shop_a, agent, supervisor):
    from tickets.actions import remedy_record

    from .factories import make_agent

    tickets = push_tickets(push, 6)
    assign_all_to(agent)
    client = login(supervisor)
    remedy_record(tickets[0].pk, agent, kind="coupon", amount="99", status="offered")
    small = (_count(client, "/approvals/"), _count(client, "/team/"))

    for t in tickets[1:]:
        remedy_record(t.pk, agent, kind="coupon", amount="99", status="offered")
    for i in range(5):
        make_agent(shop_a, username=f"extra_{i}")
    page = html(client.get("/approvals/"))
    assert page.count('data-testid="approval-row"') == 6
    assert (_count(client, "/approvals/"), _count(client, "/team/")) == small


def test_the_ticket_page_reads_the_callers_shops_once(agent, supervisor, ticket):
    for user in (agent, supervisor):
        client = login(user)
        client.get(f"/tickets/{ticket.pk}/")
        with CaptureQueriesContext(connection) as queries:
            html(client.get(f"/tickets/{ticket.pk}/"))

        # To find the ticket, for the buyer's history and to tell whether the caller supervises.
        reads = [q["sql"] for q in queries.captured_queries if 'FROM "reviews_shop"' in q["sql"]]
        assert len([sql for sql in reads if f'"agentprofile_id" = {user.agent_profile.pk}' in sql]) == 1, user


def _workspace_forms(ticket, renderer=None):
    """Every workspace form with what its page gives it: blank, with initial values, and bound to
    bad input so that every field and the form itself carry errors."""
    from tickets import forms
    from tickets.selectors import active_causes, shop_agents

    causes = active_causes()
    kwargs = {forms.CauseForm: {"causes": causes}, forms.AssignForm: {"agents": shop_agents([ticket.shop_id])}}
    initial = {"cause": causes[1].code, "agent": ticket.assignee_id, "amount": "3", "due_on": "2026-03-09"}
    junk = '<b>"x"</b> & ' + "字" * 2001
    for form_class in forms.WorkspaceForm.__subclasses__():
        extra = {"renderer": renderer, **kwargs.get(form_class, {})}
        yield form_class(**extra)
        yield form_class(initial=initial, **extra)
        bound = form_class(dict.fromkeys(form_class.base_fields, junk), **extra)
        bound.add_error(None, "<i>refused</i>")
        yield bound


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_workspace_forms_print_what_djangos_widget_templates_print(ticket, language):
    from django.forms.renderers import DjangoTemplates
    from django.utils import translation

    with translation.override(language):
        pairs = zip(_workspace_forms(ticket), _workspace_forms(ticket, DjangoTemplates()), strict=True)
        for ours, djangos in pairs:
            for name in ours.fields:
                assert str(ours[name]) == str(djangos[name]), name
                assert str(ours[name].errors) == str(djangos[name].errors), name
            assert str(ours.non_field_errors()) == str(djangos.non_field_errors())
            assert str(ours) == str(djangos)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_blank_form_shows_the_fields_of_an_empty_form_in_the_pages_language(ticket, language):
    from django.utils import translation

    from tickets.forms import BlankForm, NoteForm, RemedyForm

    with translation.override(language):
        without_override = RemedyForm()
        del without_override.fields["override_reason"]

        assert BlankForm(NoteForm).fields_html() == NoteForm().fields_html()
        assert BlankForm(RemedyForm).fields_html() == RemedyForm().fields_html()
        assert BlankForm(RemedyForm, without=["override_reason"]).fields_html() == without_override.fields_html()
        assert 'name="override_reason"' not in BlankForm(RemedyForm, without=["override_reason"]).fields_html()
        assert not BlankForm(NoteForm).non_field_errors


def test_an_unknown_ticket_is_a_404_page(agent):
    response = login(agent).get("/tickets/999999/")

    assert response.status_code == 404
    assert 'data-testid="page-404"' in response.content.decode()


# Personal data -----------------------------------------------------------------------------------


def test_the_raw_nick_and_phone_never_appear_in_the_workspace_html(agent, supervisor, ticket):
    pages = [
        html(login(agent).get("/")),
        html(login(agent).get("/", HTTP_HX_REQUEST="true")),
        html(login(agent).get(f"/tickets/{ticket.pk}/")),
        html(login(supervisor).get("/tickets/")),
        html(login(supervisor).get(f"/tickets/{ticket.pk}/")),
    ]
    Ticket.objects.update(assignee=None, status=TicketStatus.NEW)
    pages.append(html(login(agent).get("/pool/")))

    for page in pages:
        assert RAW_PHONE not in page
        assert not re.search(rf"\b{RAW_NICK}\b", page, re.IGNORECASE)
        assert "t***y" in page or 'data-testid="ticket-row"' in page


def test_an_out_of_range_ticket_id_is_a_404_not_a_500(agent):
    assert login(agent).get("/tickets/99999999999999999999999/").status_code == 404
    assert login(agent).post("/tickets/99999999999999999999999/notes/", {"text": "x"}).status_code == 404

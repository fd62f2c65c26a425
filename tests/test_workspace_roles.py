"""Who sees which workspace page (issue 4): an agent sees the tickets of their shops and cannot use
the supervisor pages; a supervisor sees their shops; a user with no shop sees nothing; an
anonymous visitor is sent to the login page; a ticket outside one's shops is a 404."""

# ruff: noqa: F811 - pytest finds the shared fixtures (tests/workspace.py) by the names imported here

import re

import pytest
from django.test import Client

from tickets.choices import TicketStatus
from tickets.models import AgentProfile, Notification, Remedy, Ticket

from .conftest import event
from .workspace import login, pool_ticket, supervisor_b, ticket  # noqa: F401

pytestmark = pytest.mark.django_db

ACTORS = ["agent", "agent_b", "supervisor", "outsider", "anonymous"]


def row_ids(response):
    return [int(i) for i in re.findall(r'data-testid="ticket-row" data-ticket-id="(\d+)"', response.content.decode())]


@pytest.fixture
def actors(agent, agent_b, supervisor, outsider):
    return {"agent": agent, "agent_b": agent_b, "supervisor": supervisor, "outsider": outsider, "anonymous": None}


def client_for(actors, who):
    user = actors[who]
    return login(user) if user is not None else Client()


@pytest.fixture
def pending_remedy(ticket, agent):
    login(agent).post(f"/tickets/{ticket.pk}/remedies/", {"kind": "full_refund", "amount": "399", "status": "offered"})
    remedy = Remedy.objects.get()
    assert remedy.status == "pending_approval"
    return remedy


# The queue, the pool and all tickets -------------------------------------------------------------

QUEUE = {"agent": (200, True), "agent_b": (200, False), "supervisor": (200, False), "outsider": (200, False)}


@pytest.mark.parametrize("who", ACTORS)
def test_the_queue_shows_only_my_own_tickets(actors, ticket, who):
    response = client_for(actors, who).get("/")

    if who == "anonymous":
        assert response.status_code == 302 and response["Location"] == "/login/?next=/"
        return
    status, sees = QUEUE[who]
    assert response.status_code == status
    assert row_ids(response) == ([ticket.pk] if sees else [])


POOL = {"agent": True, "agent_b": False, "supervisor": True, "outsider": False}


@pytest.mark.parametrize("who", ACTORS)
def test_the_pool_shows_the_unassigned_tickets_of_my_shops(actors, pool_ticket, who):
    response = client_for(actors, who).get("/pool/")

    if who == "anonymous":
        assert response.status_code == 302
        return
    assert response.status_code == 200
    assert row_ids(response) == ([pool_ticket.pk] if POOL[who] else [])


@pytest.mark.parametrize("who", ACTORS)
def test_all_tickets_is_for_supervisors_only(actors, ticket, who):
    response = client_for(actors, who).get("/tickets/")

    if who == "anonymous":
        assert response.status_code == 302
    elif who == "supervisor":
        assert response.status_code == 200 and row_ids(response) == [ticket.pk]
    else:
        assert response.status_code == 403
        assert 'data-testid="page-403"' in response.content.decode()


def test_a_supervisor_of_another_shop_sees_none_of_this_shops_tickets(supervisor_b, ticket, push, key_b):
    push(event(shop="jd-b", platform="jd", event_id="e-b", review_id="r-b"), key=key_b)
    other = Ticket.objects.get(shop__external_id="jd-b")
    client = login(supervisor_b)

    assert row_ids(client.get("/tickets/")) == [other.pk]
    assert row_ids(client.get("/pool/")) == [other.pk]
    assert client.get(f"/tickets/{ticket.pk}/").status_code == 404


def test_a_superuser_sees_every_shop(django_user_model, ticket, push, key_b):
    push(event(shop="jd-b", platform="jd", event_id="e-b", review_id="r-b"), key=key_b)
    boss = django_user_model.objects.create_superuser("boss", password="pw-123456")

    assert len(row_ids(login(boss).get("/tickets/"))) == 2


# The ticket page ---------------------------------------------------------------------------------

TICKET = {"agent": 200, "agent_b": 404, "supervisor": 200, "outsider": 404}


@pytest.mark.parametrize("who", ACTORS)
def test_the_ticket_page_is_404_outside_my_shops(actors, ticket, who):
    response = client_for(actors, who).get(f"/tickets/{ticket.pk}/")

    if who == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/login/")
        return
    assert response.status_code == TICKET[who]


# Supervisor pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ACTORS)
def test_remedy_approvals_are_for_supervisors(actors, pending_remedy, who):
    response = client_for(actors, who).get("/approvals/")

    if who == "anonymous":
        assert response.status_code == 302
    elif who == "supervisor":
        assert response.status_code == 200
        assert f'data-remedy-id="{pending_remedy.pk}"' in response.content.decode()
    else:
        assert response.status_code == 403


def test_a_supervisor_of_another_shop_gets_no_approvals_of_this_shop(supervisor_b, pending_remedy):
    page = login(supervisor_b).get("/approvals/").content.decode()

    assert f'data-remedy-id="{pending_remedy.pk}"' not in page and 'data-testid="no-approvals"' in page


@pytest.mark.parametrize("who", ACTORS)
def test_the_duty_board_is_for_supervisors(actors, ticket, who):
    response = client_for(actors, who).get("/team/")

    if who == "anonymous":
        assert response.status_code == 302
    elif who == "supervisor":
        page = response.content.decode()
        assert response.status_code == 200
        agent = actors["agent"]
        row = page[page.index(f'data-user-id="{agent.pk}"') :]
        row = row[: row.index("</tr>")]
        assert "On duty" in row
        assert 'data-testid="duty-load">1<' in row and 'data-testid="duty-breached">0<' in row
        assert f'data-user-id="{actors["agent_b"].pk}"' not in page
    else:
        assert response.status_code == 403


def test_the_duty_board_counts_breached_open_tickets(supervisor, agent, ticket):
    Ticket.objects.update(sla_state="breached")
    AgentProfile.objects.filter(user=agent).update(on_duty=False)

    page = login(supervisor).get("/team/").content.decode()
    row = page[page.index(f'data-user-id="{agent.pk}"') :]
    row = row[: row.index("</tr>")]

    assert "Off duty" in row and 'data-testid="duty-breached"><span class="sla sla-breached">1</span>' in row


@pytest.mark.parametrize("who", ACTORS)
def test_notifications_show_only_my_own(actors, ticket, who):
    for name in ("agent", "agent_b", "supervisor", "outsider"):
        Notification.objects.create(recipient=actors[name], ticket=ticket, kind="sla_warning", message=f"for {name}")

    response = client_for(actors, who).get("/notifications/")

    if who == "anonymous":
        assert response.status_code == 302
        return
    page = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r"for (\w+)</td>", page) == [who]


# Refused actions change nothing ------------------------------------------------------------------


def test_an_agent_cannot_reassign_or_approve_and_nothing_changes(agent, colleague_of_a, ticket, pending_remedy):
    before = (
        list(Ticket.objects.values()),
        list(Remedy.objects.values()),
        Notification.objects.count(),
    )
    client = login(agent)

    assert client.post(f"/tickets/{ticket.pk}/assign/", {"agent": colleague_of_a.pk}).status_code == 403
    assert client.post(f"/remedies/{pending_remedy.pk}/decide/", {"approve": "1"}).status_code == 403
    assert (list(Ticket.objects.values()), list(Remedy.objects.values()), Notification.objects.count()) == before


@pytest.fixture
def colleague_of_a(shop_a):
    from .factories import make_agent

    return make_agent(shop_a, username="colleague_a")


@pytest.mark.parametrize("who", ["agent_b", "outsider"])
def test_users_outside_the_shop_get_404_for_every_ticket_action(actors, ticket, pending_remedy, who):
    client = client_for(actors, who)
    before = (list(Ticket.objects.values()), list(Remedy.objects.values()))
    posts = {
        "contact-attempts": {"channel": "im", "result": "reached"},
        "take": {},
        "assign": {"agent": actors["agent"].pk},
        "cause": {"cause": "damaged"},
        "remedies": {"kind": "coupon", "amount": "1", "status": "offered"},
        "outcome": {"outcome": "unreachable"},
        "explanation": {"content": "x"},
        "visits": {"due_on": "2099-01-01"},
        "escalate": {"reason": "x"},
        "notes": {"text": "x"},
    }
    for action, data in posts.items():
        assert client.post(f"/tickets/{ticket.pk}/{action}/", data).status_code == 404, action
    assert client.post(f"/remedies/{pending_remedy.pk}/decide/", {"approve": "1"}).status_code == 404
    assert client.post(f"/remedies/{pending_remedy.pk}/status/", {"status": "accepted"}).status_code == 404
    assert (list(Ticket.objects.values()), list(Remedy.objects.values())) == before
    assert Ticket.objects.get().status == TicketStatus.ASSIGNED

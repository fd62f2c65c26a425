"""Personal data of buyers (issue 5): nick and phone are masked in every page and API response
an agent or supervisor sees, until a permitted person reveals one; every reveal is audited and
a refused reveal writes nothing."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from contacts.choices import RevealField
from contacts.models import Buyer, PersonalDataReveal
from contacts.services import BuyerActionRefused, buyer_reveal
from contacts.testing import make_attempt
from tickets.assignment import assign_ticket
from tickets.choices import Role, TicketStatus
from tickets.models import AgentProfile, Ticket

from .conftest import event
from .factories import make_agent

pytestmark = pytest.mark.django_db

NICK, PHONE = "王小明Tony", "13955556666"
MASKED_NICK, MASKED_PHONE = "王***y", "139****6666"


def assert_masked(text, *, shows_phone=True):
    assert NICK not in text and "小明" not in text and "Tony" not in text
    assert PHONE not in text and "5555" not in text
    if shows_phone:
        assert MASKED_PHONE in text


@pytest.fixture
def ticket(push, agent):
    """A ticket of shop A, pushed with the buyer's nick and phone, assigned to `agent`."""
    response = push(event(buyer={"id": "buyer-open-1", "nick": NICK, "phone": PHONE, "region": "浙江 杭州"}))
    assert response.status_code == 200
    AgentProfile.objects.filter(user=agent).update(on_duty=True)
    ticket = assign_ticket(Ticket.objects.get().pk)
    assert ticket.assignee_id == agent.pk
    return ticket


@pytest.fixture
def buyer(ticket):
    buyer = Buyer.objects.get()
    assert (buyer.nick, buyer.phone) == (NICK, PHONE)
    return buyer


def api_as(user):
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


def page_as(user):
    client = Client()
    client.force_login(user)
    return client


# Masked everywhere ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["agent", "supervisor"])
def test_no_page_or_api_response_carries_the_raw_nick_or_phone_without_a_reveal(who, agent, supervisor, buyer, ticket):
    user = agent if who == "agent" else supervisor
    make_attempt(ticket, at=ticket.created_at, result="reached", agent=agent)
    api, page = api_as(user), page_as(user)

    for path in ("/api/v1/tickets/", f"/api/v1/tickets/{ticket.pk}/", f"/api/v1/buyers/{buyer.pk}/"):
        response = api.get(path)
        assert response.status_code == 200, path
        assert_masked(response.content.decode())
    # The workspace pages (issue 4) and the buyer page.
    for path in ("/", f"/tickets/{ticket.pk}/", f"/buyers/{buyer.pk}/"):
        response = page.get(path)
        assert response.status_code == 200, path
        assert_masked(response.content.decode(), shows_phone=path != "/")
    # The evidence pack names the buyer by open id and masked nick; it shows no phone at all.
    response = page.get(f"/buyers/{buyer.pk}/evidence/?ticket={ticket.pk}")
    assert response.status_code == 200
    assert_masked(response.content.decode(), shows_phone=False)
    assert MASKED_NICK in response.content.decode()
    assert api.get(f"/api/v1/buyers/{buyer.pk}/").json()["nick"] == MASKED_NICK


def test_an_integration_key_reads_the_buyer_masked(api, key_a, buyer):
    response = api.get(f"/api/v1/buyers/{buyer.pk}/", HTTP_AUTHORIZATION=f"Bearer {key_a}")
    assert response.status_code == 200
    assert_masked(response.content.decode())


# Who may reveal -----------------------------------------------------------------------------------


def test_a_supervisor_of_a_shop_the_buyer_reviewed_reveals_nick_and_phone_and_each_reveal_is_audited(supervisor, buyer):
    assert buyer_reveal(buyer.pk, supervisor, field="phone", reason="平台投诉需要") == PHONE
    assert buyer_reveal(buyer.pk, supervisor, field="nick", reason="核对旺旺") == NICK

    rows = list(
        PersonalDataReveal.objects.order_by("id").values_list("buyer_id", "user_id", "user_label", "field", "reason")
    )
    assert rows == [
        (buyer.pk, supervisor.pk, "supervisor_a", "phone", "平台投诉需要"),
        (buyer.pk, supervisor.pk, "supervisor_a", "nick", "核对旺旺"),
    ]
    assert all(r.created_at and r.ticket_id is None for r in PersonalDataReveal.objects.all())


def test_the_assignee_of_an_open_ticket_reveals_the_phone_to_call_but_not_the_nick(agent, buyer, ticket):
    assert buyer_reveal(buyer.pk, agent, field="phone", reason="回访电话") == PHONE
    reveal = PersonalDataReveal.objects.get()
    assert (reveal.user_id, reveal.field, reveal.ticket_id) == (agent.pk, "phone", ticket.pk)

    with pytest.raises(BuyerActionRefused) as refused:
        buyer_reveal(buyer.pk, agent, field="nick", reason="想看看")
    assert refused.value.code == "not_permitted"
    assert PersonalDataReveal.objects.count() == 1


def _refusals(shop_a, shop_b, agent, buyer, ticket):
    colleague = make_agent(shop_a, username="colleague_a")  # same shop, no ticket of this buyer
    supervisor_b = make_agent(shop_b, role=Role.SUPERVISOR, username="supervisor_b")
    return [
        (colleague, "phone", "打电话"),
        (supervisor_b, "phone", "打电话"),
        (supervisor_b, "nick", "看看"),
        (agent, "nick", "看看"),
    ]


def test_refused_reveals_raise_a_clear_error_and_write_nothing(shop_a, shop_b, agent, outsider, buyer, ticket):
    cases = [*_refusals(shop_a, shop_b, agent, buyer, ticket), (outsider, "phone", "x")]
    for user, field, reason in cases:
        with pytest.raises(BuyerActionRefused) as refused:
            buyer_reveal(buyer.pk, user, field=field, reason=reason)
        assert refused.value.code == "not_permitted", (user, field)
        assert "may reveal" in str(refused.value)
    assert PersonalDataReveal.objects.count() == 0


def test_a_reveal_without_a_reason_is_refused_and_writes_nothing(supervisor, buyer):
    for reason in ("", "   ", None):
        with pytest.raises(BuyerActionRefused) as refused:
            buyer_reveal(buyer.pk, supervisor, field="phone", reason=reason)
        assert (refused.value.code, refused.value.field) == ("invalid", "reason")
    with pytest.raises(BuyerActionRefused):
        buyer_reveal(buyer.pk, supervisor, field="region", reason="x")
    assert PersonalDataReveal.objects.count() == 0


def test_the_agent_loses_the_right_to_reveal_when_the_ticket_closes(agent, buyer, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(status=TicketStatus.RESOLVED)
    with pytest.raises(BuyerActionRefused):
        buyer_reveal(buyer.pk, agent, field="phone", reason="回访")
    assert PersonalDataReveal.objects.count() == 0


def test_an_integration_key_cannot_reveal_even_through_the_service(key_a, buyer):
    from reviews.authentication import Integration

    principal = Integration(api_key=None, shop_ids=[buyer.reviews.get().shop_id])
    with pytest.raises(BuyerActionRefused):
        buyer_reveal(buyer.pk, principal, field="phone", reason="sync")
    assert PersonalDataReveal.objects.count() == 0


# The reveal endpoint and the reveal form -----------------------------------------------------------------


def reveal_url(buyer):
    return f"/api/v1/buyers/{buyer.pk}/reveal/"


def test_the_reveal_endpoint_returns_the_raw_value_and_audits_it(agent, buyer, ticket):
    response = api_as(agent).post(reveal_url(buyer), {"field": "phone", "reason": "回访电话"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"value": PHONE}
    assert response["Cache-Control"] == "no-store"
    assert PersonalDataReveal.objects.get().reason == "回访电话"


@pytest.mark.parametrize(
    ("body", "status", "code", "fields"),
    [
        ({"field": "nick", "reason": "看看"}, 403, "permission_denied", []),
        ({"field": "phone"}, 400, "invalid_body", ["reason"]),
        ({"field": "phone", "reason": "  "}, 400, "invalid_body", ["reason"]),
        ({"field": "email", "reason": "x"}, 400, "invalid_body", ["field"]),
    ],
)
def test_a_refused_reveal_over_the_api_is_an_error_and_writes_nothing(agent, buyer, ticket, body, status, code, fields):
    response = api_as(agent).post(reveal_url(buyer), body, format="json")
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert sorted(error["fields"]) == fields
    assert PHONE not in response.content.decode() and NICK not in response.content.decode()
    assert PersonalDataReveal.objects.count() == 0


def test_integration_keys_get_403_on_reveal_and_outsiders_404(api, key_a, outsider, buyer):
    response = api.post(
        reveal_url(buyer), {"field": "phone", "reason": "x"}, format="json", HTTP_AUTHORIZATION=f"Bearer {key_a}"
    )
    assert (response.status_code, response.json()["error"]["code"]) == (403, "permission_denied")
    response = api_as(outsider).post(reveal_url(buyer), {"field": "phone", "reason": "x"}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    assert PersonalDataReveal.objects.count() == 0


def test_the_reveal_form_shows_the_value_once_and_audits_it(supervisor, buyer):
    client = page_as(supervisor)
    response = client.post(f"/buyers/{buyer.pk}/reveal/", {"field": "nick", "reason": "平台投诉"})

    assert response.status_code == 200
    assert NICK in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert PersonalDataReveal.objects.get().field == RevealField.NICK
    assert_masked(client.get(f"/buyers/{buyer.pk}/").content.decode())


def test_the_reveal_form_requires_a_reason_and_refuses_agents_the_nick(agent, buyer, ticket):
    client = page_as(agent)
    response = client.post(f"/buyers/{buyer.pk}/reveal/", {"field": "phone", "reason": ""})
    assert response.status_code == 400
    assert_masked(response.content.decode())
    response = client.post(f"/buyers/{buyer.pk}/reveal/", {"field": "nick", "reason": "看看"})
    assert response.status_code == 403
    assert NICK not in response.content.decode()
    assert PersonalDataReveal.objects.count() == 0


def test_the_admin_keeps_nick_and_phone_masked(django_user_model, buyer, supervisor):
    buyer_reveal(buyer.pk, supervisor, field="phone", reason="投诉")
    boss = django_user_model.objects.create_superuser("boss", password="pw-123456")
    client = page_as(boss)
    for path in (
        "/admin/contacts/buyer/",
        f"/admin/contacts/buyer/{buyer.pk}/change/",
        "/admin/contacts/personaldatareveal/",
        "/admin/contacts/buyernote/",
        "/admin/contacts/contactetiquette/add/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_masked(response.content.decode(), shows_phone="buyer/" in path)


def test_the_buyer_page_offers_each_person_only_the_reveals_they_may_make(agent, supervisor, buyer, ticket):
    def offered(user):
        html = page_as(user).get(f"/buyers/{buyer.pk}/").content.decode()
        form = html[html.index('data-testid="reveal-form"') :]
        form = form[: form.index("</form>")]
        return [value for value, _label in RevealField.choices if f'<option value="{value}"' in form]

    assert offered(agent) == ["phone"]  # the nick is for supervisors of the buyer's shops
    assert offered(supervisor) == ["nick", "phone"]
    # The service still decides: a forged nick reveal by the agent is refused and audited nowhere.
    response = page_as(agent).post(f"/buyers/{buyer.pk}/reveal/", {"field": "nick", "reason": "核对身份"})
    assert response.status_code == 403
    assert not PersonalDataReveal.objects.exists()

"""The configuration admin keeps shop scoping like every other page: a supervisor of shop A (staff,
in the demo's "supervisors" group) sees and edits only shop A's rows, cannot give themselves or
anyone another shop, cannot promote anyone, cannot edit their own profile, and an agent (staff,
view permissions) reads only their shops' rows. A security review took over shop B through the
admin before this."""

# ruff: noqa: F811 - pytest finds the shared fixtures (tests/workspace.py) by the names imported here

import pytest
from django.test import Client

from contacts.models import Buyer
from reviews.models import ApiKey, Connector, InboundEvent
from tickets.choices import Role
from tickets.management.demo import AGENT_PERMISSIONS, SUPERVISOR_PERMISSIONS, _group
from tickets.models import AgentProfile, Ticket

from .conftest import event
from .factories import make_agent, make_api_key

pytestmark = pytest.mark.django_db


def post_change(client, url, **changes):
    """POST the admin change form at `url` as the page renders it, with `changes` applied."""
    form = client.get(url).context["adminform"].form
    data = {}
    for bound in form:
        value = bound.value()
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[bound.html_name] = "on"
            continue
        data[bound.html_name] = value
    data.update(changes)
    return client.post(url, data)


def staff(user, permissions, group):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(_group(group, permissions))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(push, shop_a, shop_b, key_b, api):
    """A ticket in each shop (pushed with the real API), a supervisor and an agent of shop A, an
    agent of shop B, and shop B's key."""
    assert push(event(event_id="a-1", review_id="ra-1", buyer={"id": "buyer-a", "nick": "王小明"})).status_code == 200
    body = event(event_id="b-1", review_id="rb-1", shop="jd-b", buyer={"id": "buyer-b", "nick": "李雷雷"})
    body["platform"] = shop_b.platform
    response = api.post("/api/v1/review-events/", body, format="json", HTTP_AUTHORIZATION=f"Bearer {key_b}")
    assert response.status_code == 200, response.content
    supervisor = make_agent(shop_a, role=Role.SUPERVISOR, username="sup_a")
    agent = make_agent(shop_a, username="agent_a")
    agent_b = make_agent(shop_b, username="agent_b")

    class World:
        pass

    w = World()
    w.shop_a, w.shop_b = shop_a, shop_b
    w.ticket_a = Ticket.objects.get(shop=shop_a)
    w.ticket_b = Ticket.objects.get(shop=shop_b)
    w.supervisor, w.agent, w.agent_b = supervisor, agent, agent_b
    w.sup = staff(supervisor, AGENT_PERMISSIONS + SUPERVISOR_PERMISSIONS, "supervisors")
    w.agt = staff(agent, AGENT_PERMISSIONS, "agents")
    return w


def test_a_supervisor_cannot_give_themselves_another_shop(world):
    own = AgentProfile.objects.get(user=world.supervisor)
    response = world.sup.post(
        f"/admin/tickets/agentprofile/{own.pk}/change/",
        {"user": world.supervisor.pk, "role": "supervisor", "shops": [world.shop_a.pk, world.shop_b.pk]},
    )
    assert response.status_code == 403
    assert set(own.shops.values_list("pk", flat=True)) == {world.shop_a.pk}


def test_a_supervisor_sees_and_edits_only_their_shops_agents_and_cannot_promote(world):
    listing = world.sup.get("/admin/tickets/agentprofile/").content.decode()
    assert "agent_a" in listing and "agent_b" not in listing
    profile_b = AgentProfile.objects.get(user=world.agent_b)
    assert world.sup.get(f"/admin/tickets/agentprofile/{profile_b.pk}/change/").status_code == 302  # not found

    profile_a = AgentProfile.objects.get(user=world.agent)
    url = f"/admin/tickets/agentprofile/{profile_a.pk}/change/"
    shops_field = world.sup.get(url).context["adminform"].form.fields["shops"]
    assert list(shops_field.queryset) == [world.shop_a]  # shop B is not offered

    forged = post_change(world.sup, url, role="supervisor", capacity=12, shops=[world.shop_a.pk, world.shop_b.pk])
    assert forged.status_code == 200  # the form again: shop B is not a valid choice
    post_change(world.sup, url, role="supervisor", capacity=12)
    profile_a.refresh_from_db()
    assert profile_a.capacity == 12  # their team's settings are theirs to change
    assert profile_a.role == Role.AGENT  # a role is not
    assert set(profile_a.shops.values_list("pk", flat=True)) == {world.shop_a.pk}


def test_an_agent_who_also_works_another_shop_keeps_it_when_a_supervisor_saves_them(world):
    both = make_agent(world.shop_a, world.shop_b, username="agent_ab")
    profile = AgentProfile.objects.get(user=both)
    response = post_change(world.sup, f"/admin/tickets/agentprofile/{profile.pk}/change/", capacity=7)
    assert response.status_code == 302, response.context["adminform"].form.errors
    profile.refresh_from_db()
    assert profile.capacity == 7
    assert set(profile.shops.values_list("pk", flat=True)) == {world.shop_a.pk, world.shop_b.pk}


def test_a_supervisor_can_key_only_their_own_shops(world):
    response = world.sup.post("/admin/reviews/apikey/add/", {"name": "erp", "shops": [world.shop_b.pk]})
    assert response.status_code == 200  # the form again: shop B is not a choice
    assert not ApiKey.objects.filter(name="erp").exists()

    response = world.sup.post("/admin/reviews/apikey/add/", {"name": "erp", "shops": [world.shop_a.pk]})
    assert response.status_code == 302
    assert list(ApiKey.objects.get(name="erp").shops.all()) == [world.shop_a]
    listing = world.sup.get("/admin/reviews/apikey/").content.decode()
    assert "shop B sync" not in listing  # shop B's key (conftest) is not theirs


def test_a_revoked_key_stays_revoked_and_the_action_works_at_once(world, api):
    key, raw = make_api_key(world.shop_a, name="to revoke")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/tickets/").status_code == 200  # cached as valid now

    response = world.sup.post("/admin/reviews/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True)
    assert response.status_code == 200
    assert api.get("/api/v1/tickets/").status_code == 401  # at once, not after the cache expires

    world.sup.post(
        f"/admin/reviews/apikey/{key.pk}/change/",
        {"name": "to revoke", "shops": [world.shop_a.pk], "revoked_at_0": "", "revoked_at_1": ""},
    )
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_a_supervisor_cannot_add_a_shop_or_a_connector_for_another(world):
    assert world.sup.get("/admin/reviews/shop/add/").status_code == 403
    response = world.sup.post(
        "/admin/reviews/connector/add/",
        {"name": "b feed", "shop": world.shop_b.pk, "kind": "json_feed", "feed_url": "https://feed.example/b"},
    )
    assert response.status_code == 200 and not Connector.objects.exists()
    listing = world.sup.get("/admin/reviews/shop/").content.decode()
    assert world.shop_a.name in listing and world.shop_b.name not in listing


@pytest.mark.parametrize(
    "path",
    [
        "/admin/tickets/ticket/",
        "/admin/reviews/review/",
        "/admin/tickets/remedy/",
        "/admin/tickets/ticketevent/",
        "/admin/contacts/buyer/",
    ],
)
def test_an_agent_reads_only_their_shops_rows_in_the_admin(world, path):
    html = world.agt.get(path).content.decode()
    everything = Client()
    everything.force_login(type(world.agent).objects.create_superuser("root", password="pw-123456"))
    all_rows = everything.get(path).content.decode()
    # The superuser's list holds both shops' rows (the check can fail); the agent's only shop A's.
    for _marker_a, marker_b in [
        ("ra-1", "rb-1"),
        ("buyer-a", "buyer-b"),
        (f"/{world.ticket_a.pk}/change/", f"/{world.ticket_b.pk}/change/"),
    ]:
        if marker_b in all_rows:
            assert marker_b not in html, (path, marker_b)
    assert world.agt.get(f"/admin/tickets/ticket/{world.ticket_b.pk}/change/").status_code == 302
    assert world.agt.get(f"/admin/tickets/ticket/{world.ticket_a.pk}/change/").status_code == 200
    buyer_b = Buyer.objects.get(open_id="buyer-b")
    assert world.agt.get(f"/admin/contacts/buyer/{buyer_b.pk}/change/").status_code == 302


def test_the_buyer_list_refuses_lookups_on_the_masked_nick(world):
    assert world.agt.get("/admin/contacts/buyer/?nick__regex=^王").status_code == 400
    assert world.agt.get("/admin/contacts/buyer/?phone__startswith=138").status_code == 400
    assert world.agt.get("/admin/contacts/buyer/?open_id=buyer-a").status_code == 200


def test_the_event_log_keeps_the_nick_masked_like_the_phone(world):
    payload = InboundEvent.objects.get(platform_review_id="ra-1").payload
    assert payload["buyer"]["nick"] and "小明" not in payload["buyer"]["nick"]
    assert Buyer.objects.get(open_id="buyer-a").nick == "王小明"  # the buyer row keeps it, for audited reveals

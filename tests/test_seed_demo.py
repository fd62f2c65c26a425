import io
import re
from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db.models import Count

from contacts.models import Buyer
from reviews.models import InboundEvent, Review, Shop
from tickets import demo_data
from tickets.management.demo import CHINA
from tickets.models import AgentProfile, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

UNTIL = date(2026, 3, 1)
USERNAMES = ["agent1", "agent2", "agent3", "agent4", "agent5", "supervisor"]
# Inducing a good review with money is illegal in China (好评返现): no demo text may hint at it.
FORBIDDEN = ("返现", "好评返", "返红包", "好评有礼", "好评送")


def seed(reviews=200):
    out = io.StringIO()
    call_command("seed_demo", "--reviews", str(reviews), "--until", UNTIL.isoformat(), "--no-progress", stdout=out)
    return out.getvalue()


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Shop, get_user_model(), AgentProfile, Group, Review, Buyer, InboundEvent, Ticket, TicketEvent)
    }


def test_seed_demo_creates_three_shops_and_a_team_of_five_agents_and_a_supervisor():
    seed()
    assert sorted(Shop.objects.values_list("platform", "external_id")) == [
        ("jd", "jd-10086523"),
        ("taobao", "tb-57301234"),
        ("tmall", "tm-68812005"),
    ]
    users = get_user_model().objects.order_by("username")
    assert [u.username for u in users] == USERNAMES
    assert all(u.is_staff and not u.is_superuser for u in users)
    profiles = {p.user.username: p for p in AgentProfile.objects.select_related("user").prefetch_related("shops")}
    assert {name: p.role for name, p in profiles.items()} == {
        "agent1": "agent",
        "agent2": "agent",
        "agent3": "agent",
        "agent4": "agent",
        "agent5": "agent",
        "supervisor": "supervisor",
    }
    assert profiles["agent1"].skills == ["senior"]
    assert [name for name, p in profiles.items() if p.skills] == ["agent1"]
    assert all(p.on_duty for name, p in profiles.items() if name != "supervisor")
    assert len(profiles["supervisor"].shops.all()) == 3
    assert all(p.shops.all() for p in profiles.values())


def test_agents_and_the_supervisor_are_in_groups_with_the_permissions_of_their_role():
    seed(reviews=0)
    agents = Group.objects.get(name="agents")
    supervisors = Group.objects.get(name="supervisors")
    assert set(agents.user_set.values_list("username", flat=True)) == set(USERNAMES[:5])
    assert list(supervisors.user_set.values_list("username", flat=True)) == ["supervisor"]
    agent_perms = set(agents.permissions.values_list("codename", flat=True))
    assert {"view_ticket", "view_review", "view_buyer"} <= agent_perms
    assert not any(codename.startswith(("add_", "change_", "delete_")) for codename in agent_perms)
    supervisor_perms = set(supervisors.permissions.values_list("codename", flat=True))
    assert agent_perms < supervisor_perms
    assert {"change_shop", "change_apikey", "change_connector", "change_agentprofile"} <= supervisor_perms


def test_one_review_in_ten_is_neutral_or_negative_and_each_of_those_opened_one_ticket():
    seed()
    assert Review.objects.count() == 200
    tickets = Ticket.objects.all()
    assert tickets.count() == 20
    assert tickets.values("review").distinct().count() == 20
    assert set(tickets.values_list("tier", flat=True)) == {"neutral", "negative"}
    assert set(tickets.values_list("shop__platform", flat=True)) == {"taobao", "tmall", "jd"}


def test_reviews_spread_over_the_180_days_that_end_with_until():
    seed()
    first_instant = datetime.combine(UNTIL - timedelta(days=179), datetime.min.time(), tzinfo=CHINA)
    end = datetime.combine(UNTIL + timedelta(days=1), datetime.min.time(), tzinfo=CHINA)
    rated = list(Review.objects.values_list("rated_at", flat=True))
    assert all(first_instant <= moment < end for moment in rated)
    assert len({moment.astimezone(CHINA).strftime("%Y-%m") for moment in rated}) >= 6
    last_events = InboundEvent.objects.order_by("-occurred_at").values_list("occurred_at", flat=True)
    assert last_events[0] < end


def test_revisions_and_deletions_close_tickets_as_verified_and_the_rest_stay_open():
    seed()
    by_outcome = dict(Ticket.objects.values_list("outcome").annotate(n=Count("id")).values_list("outcome", "n"))
    assert by_outcome.get("revised_positive", 0) > 0
    assert by_outcome.get("deleted_by_buyer", 0) > 0
    assert by_outcome.get("", 0) > 0  # still open: nobody has worked them yet
    assert set(Ticket.objects.filter(status="resolved").values_list("outcome_verified", flat=True)) == {True}
    revised = Review.objects.filter(tickets__outcome="revised_positive")
    assert set(revised.values_list("tier", flat=True)) == {"positive"}
    assert set(Review.objects.filter(tickets__outcome="deleted_by_buyer").values_list("state", flat=True)) == {
        "deleted"
    }
    assert Review.objects.exclude(followup_content="").exists()
    assert Review.objects.exclude(reply_content="").exists()


def test_reviews_carry_realistic_items_buyers_and_ratings_consistent_with_their_tier():
    seed()
    reviews = list(Review.objects.select_related("buyer", "shop"))
    assert all(re.fullmatch(r"\d{4}-[A-Z]{3}-[0-9A-Z]+", r.item_sku) for r in reviews)
    assert all(r.item_title and r.item_price > 0 and r.order_id.isdigit() for r in reviews)
    assert all(r.buyer.open_id and r.buyer.region and "**" in r.buyer.nick for r in reviews)
    assert Buyer.objects.count() < len(reviews)  # some buyers come back
    jd = [r for r in reviews if r.platform == "jd"]
    assert jd and all(r.stars is not None and r.dsr is None for r in jd)
    taobao_tmall = [r for r in reviews if r.platform != "jd"]
    assert all(r.dsr is not None for r in taobao_tmall)
    assert all(min(r.dsr.values()) >= 4 for r in taobao_tmall if r.tier == "positive" and not r.tickets.exists())
    unhappy = [r for r in reviews if r.tier in ("neutral", "negative")]
    assert unhappy and all(re.search(r"[\u4e00-\u9fff]", r.content) for r in unhappy)


def test_a_second_run_stores_nothing_new_and_reports_every_event_as_a_duplicate():
    seed()
    before = counts()
    output = seed()
    assert counts() == before
    assert re.search(r"events: 0 created, 0 updated, [\d,]+ duplicate, 0 ignored", output)


def test_every_demo_user_logs_in_with_demo1234_after_two_runs(client):
    seed(reviews=0)
    seed(reviews=0)
    for username in USERNAMES:
        assert client.login(username=username, password="demo1234"), username
        client.logout()


def test_an_existing_user_keeps_their_password_and_gets_a_profile():
    get_user_model().objects.create_user("agent3", password="own-secret-9")
    output = seed(reviews=0)
    user = get_user_model().objects.get(username="agent3")
    assert user.check_password("own-secret-9")
    assert user.agent_profile.role == "agent"
    assert "kept their password: agent3" in output


def test_no_demo_text_ties_a_reward_to_a_review():
    seed()
    texts = []
    for review in Review.objects.all():
        texts += [review.content, review.followup_content, review.reply_content]
    texts += list(TicketEvent.objects.values_list("message", flat=True))
    texts += list(_strings(vars(demo_data)))
    assert texts
    assert [t for t in texts if any(word in t for word in FORBIDDEN)] == []


def test_the_summary_names_the_shops_and_the_demo_logins():
    output = seed()
    assert "200 reviews" in output
    assert "tickets in the demo shops: 20 " in output
    assert "password demo1234" in output
    for username in USERNAMES:
        assert re.search(rf"^  {username}\s", output, re.MULTILINE)
    for external_id in ("tb-57301234", "tm-68812005", "jd-10086523"):
        assert f"shop {external_id}" in output


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if not (isinstance(key, str) and key.startswith("__")):
                yield from _strings(key)
                yield from _strings(item)
    elif isinstance(value, (tuple, list)) or hasattr(value, "__dataclass_fields__"):
        items = value if isinstance(value, (tuple, list)) else [getattr(value, f) for f in value.__dataclass_fields__]
        for item in items:
            yield from _strings(item)

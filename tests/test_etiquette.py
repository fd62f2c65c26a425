"""Contact etiquette (issue 5): at most 3 attempts a day per buyer, 60 minutes between calls, no
calls 21:00–09:00 in the buyer's time zone; per-shop rules; a call against the rules is refused
(and nothing is saved) unless an override reason is given, which the timeline then shows."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from contacts.etiquette import best_contact_time, contact_etiquette_check
from contacts.models import ContactEtiquette
from contacts.testing import make_attempt, make_buyer, make_ticket
from tickets.models import ContactAttempt, Ticket, TicketEvent
from tickets.services import TicketActionRefused, contact_attempt_log

from .factories import ShopFactory, make_agent

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def sh(day, hour, minute=0):
    """A time in China on 2026-03-<day>."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SH)


@pytest.fixture
def shop(db):
    return ShopFactory()


@pytest.fixture
def agent(shop):
    return make_agent(shop)


@pytest.fixture
def buyer(db):
    return make_buyer()


@pytest.fixture
def ticket(buyer, shop, agent):
    with time_machine.travel(sh(2, 8), tick=False):
        return make_ticket(buyer, shop, assignee=agent)


def call(ticket, agent, at, *, channel="phone", result="no_answer", override_reason=""):
    with time_machine.travel(at, tick=False):
        return contact_attempt_log(ticket.pk, agent, channel=channel, result=result, override_reason=override_reason)


def refused(ticket, agent, at, **kwargs):
    """Assert the call is refused for etiquette and changes nothing; returns the message."""
    before = {
        "attempts": ContactAttempt.objects.count(),
        "timeline": TicketEvent.objects.count(),
        "ticket": Ticket.objects.filter(pk=ticket.pk).values().get(),
    }
    with pytest.raises(TicketActionRefused) as exc:
        call(ticket, agent, at, **kwargs)
    assert exc.value.code == "etiquette"
    assert before == {
        "attempts": ContactAttempt.objects.count(),
        "timeline": TicketEvent.objects.count(),
        "ticket": Ticket.objects.filter(pk=ticket.pk).values().get(),
    }
    return str(exc.value)


def codes(buyer, shop, at, channel="phone"):
    return [v.code for v in contact_etiquette_check(buyer, shop, channel=channel, now=at)]


# The daily cap ------------------------------------------------------------------------------------


def test_a_fourth_attempt_in_a_day_is_refused_and_the_next_day_is_fine(ticket, agent):
    call(ticket, agent, sh(2, 9, 30), channel="im", result="message_sent")
    call(ticket, agent, sh(2, 10))
    call(ticket, agent, sh(2, 11, 30))

    message = refused(ticket, agent, sh(2, 18))
    assert "already contacted 3 times today; the limit is 3 a day" in message

    call(ticket, agent, sh(3, 9, 0))  # a new day in the buyer's time zone
    assert ContactAttempt.objects.count() == 4


def test_the_cap_counts_the_buyers_attempts_across_all_their_tickets(buyer, shop, agent, ticket):
    other_shop = ShopFactory()
    colleague = make_agent(other_shop)
    with time_machine.travel(sh(2, 8), tick=False):
        other_ticket = make_ticket(buyer, other_shop, assignee=colleague)
    call(ticket, agent, sh(2, 9, 10))
    call(other_ticket, colleague, sh(2, 10, 30))
    call(other_ticket, colleague, sh(2, 12, 0), channel="sms", result="message_sent")

    refused(ticket, agent, sh(2, 14))
    # Another buyer of the same ticket queue is unaffected.
    someone_else = make_buyer()
    with time_machine.travel(sh(2, 8), tick=False):
        their_ticket = make_ticket(someone_else, shop, assignee=agent)
    call(their_ticket, agent, sh(2, 14))


def test_im_and_sms_are_never_refused(ticket, agent):
    for hour in (9, 10, 11, 12):
        call(ticket, agent, sh(2, hour), channel="im", result="message_sent")
    call(ticket, agent, sh(2, 23, 30), channel="im", result="message_sent")
    call(ticket, agent, sh(2, 23, 40), channel="sms", result="message_sent")
    assert ContactAttempt.objects.count() == 6


# Spacing between calls -------------------------------------------------------------------------------


def test_calls_must_be_60_minutes_apart(ticket, agent):
    call(ticket, agent, sh(2, 10))

    message = refused(ticket, agent, sh(2, 10, 59))
    assert "The last call was 59 minutes ago; wait 60 minutes between calls (until 11:00)." in message

    call(ticket, agent, sh(2, 11, 0))
    assert ContactAttempt.objects.count() == 2


def test_an_im_message_does_not_start_the_call_spacing(ticket, agent):
    call(ticket, agent, sh(2, 10), channel="im", result="message_sent")
    call(ticket, agent, sh(2, 10, 5))


# Quiet hours in the buyer's time zone -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "quiet"),
    [
        (sh(2, 8, 59), True),
        (sh(2, 9, 0), False),
        (sh(2, 20, 59), False),
        (sh(2, 21, 0), True),
        (sh(3, 2, 0), True),
    ],
    ids=["08:59", "09:00", "20:59", "21:00", "02:00"],
)
def test_no_calls_between_21_and_9_in_china(buyer, shop, at, quiet):
    assert codes(buyer, shop, at) == (["quiet_hours"] if quiet else [])


def test_quiet_hours_follow_the_buyers_own_time_zone(ticket, agent, buyer, shop):
    buyer.time_zone = "Europe/Berlin"  # UTC+1 in March: 22:00 in China is 15:00 there
    buyer.save()
    assert codes(buyer, shop, sh(2, 22)) == []
    assert codes(buyer, shop, sh(3, 5)) == ["quiet_hours"]  # 22:00 in Berlin
    call(ticket, agent, sh(2, 22))

    message = refused(ticket, agent, sh(3, 5, 30))
    assert "It is 22:30 for the buyer (Europe/Berlin): no calls between 21:00 and 09:00." in message


def test_a_shop_sets_its_own_rules(buyer, shop, ticket, agent):
    ContactEtiquette.objects.create(
        shop=shop,
        max_attempts_per_day=5,
        min_minutes_between_calls=15,
        quiet_hours_start=dt.time(22, 0),
        quiet_hours_end=dt.time(8, 0),
    )
    assert codes(buyer, shop, sh(2, 21, 30)) == []
    assert codes(buyer, shop, sh(2, 8, 0)) == []
    assert codes(buyer, shop, sh(2, 7, 59)) == ["quiet_hours"]
    for minute in (0, 15, 30, 45):
        call(ticket, agent, sh(2, 10, minute))
    call(ticket, agent, sh(2, 11, 0))
    assert codes(buyer, shop, sh(2, 12)) == ["daily_cap"]


def test_every_broken_rule_is_reported(buyer, shop, ticket, agent):
    for minute in (0, 10, 20):
        make_attempt(ticket, at=sh(2, 20, minute))
    violations = contact_etiquette_check(buyer, shop, channel="phone", now=sh(2, 21, 5))
    assert [v.code for v in violations] == ["daily_cap", "too_soon", "quiet_hours"]
    assert all(v.message for v in violations)
    assert contact_etiquette_check(buyer, shop, channel="im", now=sh(2, 21, 5)) == []


# Overrides ----------------------------------------------------------------------------------------------


def test_a_call_at_night_is_saved_with_an_override_reason_and_the_timeline_shows_it(ticket, agent):
    refused(ticket, agent, sh(2, 22))
    refused(ticket, agent, sh(2, 22), override_reason="   ")

    attempt = call(ticket, agent, sh(2, 22), override_reason="买家约好晚上十点回电")

    assert attempt.created_at == sh(2, 22)
    row = TicketEvent.objects.filter(ticket=ticket, kind="contact_attempt").get()
    assert row.data["etiquette_override"] == {
        "reason": "买家约好晚上十点回电",
        "violations": [
            {
                "code": "quiet_hours",
                "message": "It is 22:00 for the buyer (Asia/Shanghai): no calls between 21:00 and 09:00.",
            }
        ],
    }
    assert row.message == "Phone: No answer (contact etiquette overridden: 买家约好晚上十点回电)"


def test_a_call_within_the_rules_records_no_override_even_when_a_reason_is_given(ticket, agent):
    call(ticket, agent, sh(2, 10), override_reason="不需要")
    row = TicketEvent.objects.filter(ticket=ticket, kind="contact_attempt").get()
    assert "etiquette_override" not in row.data
    assert row.message == "Phone: No answer"


def test_the_api_refuses_a_call_against_the_rules_with_409_etiquette(ticket, agent):
    client = APIClient()
    client.force_authenticate(agent)
    with time_machine.travel(sh(2, 23), tick=False):
        response = client.post(
            f"/api/v1/tickets/{ticket.pk}/contact-attempts/", {"channel": "phone", "result": "busy"}, format="json"
        )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "etiquette"
    assert "no calls between 21:00 and 09:00" in response.json()["error"]["message"]
    assert ContactAttempt.objects.count() == 0


# Best time to call ------------------------------------------------------------------------------------


def test_the_best_time_is_the_hour_the_buyer_was_reached_most_often(buyer, ticket):
    make_attempt(ticket, at=sh(2, 12, 10), result="reached")
    make_attempt(ticket, at=sh(3, 12, 40), result="reached")
    make_attempt(ticket, at=sh(4, 15, 5), result="reached")
    make_attempt(ticket, at=sh(4, 19, 5), result="no_answer")
    make_attempt(ticket, at=sh(5, 22, 5), result="reached")  # quiet hours: never suggested
    make_attempt(ticket, at=sh(6, 22, 15), result="reached")

    label, reason = best_contact_time(buyer)

    assert label == "12:00–13:00"
    assert reason == "Reached 2 of 3 times at this hour before (Asia/Shanghai)."


def test_a_buyer_never_reached_gets_the_early_evening_rule_of_thumb(buyer, ticket):
    make_attempt(ticket, at=sh(2, 12), result="no_answer")
    label, reason = best_contact_time(buyer)
    assert label == "18:00–19:00"
    assert "early evening" in reason

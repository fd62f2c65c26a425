"""Abuse risk of buyers (issue 5): the scoring table, the signals read from the database, the
false-positive guards, list marks, the batch's fixed query count, and the remedy gate."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.choices import ListMark, RiskLevel
from contacts.models import Buyer, BuyerNote
from contacts.risk import _Signals, score_signals
from contacts.services import (
    BuyerActionRefused,
    buyer_list_mark_set,
    buyer_note_add,
    buyer_risk_assess,
    buyers_risk_assess,
    remedy_allowed,
)
from contacts.testing import days_ago, make_buyer, make_review, make_ticket
from tickets.assignment import _needs_senior
from tickets.choices import Role, TicketStatus

from .factories import ShopFactory, make_agent

pytestmark = pytest.mark.django_db


# The scoring table, without a database -----------------------------------------------------------


@pytest.mark.parametrize(
    ("signals", "score", "level", "codes"),
    [
        # False-positive guards.
        pytest.param(_Signals(reviews=1, bad_reviews=1), 0, "low", [], id="new buyer, one negative review"),
        pytest.param(_Signals(reviews=2, bad_reviews=2), 0, "low", [], id="two reviews are below the minimum"),
        pytest.param(_Signals(reviews=20, bad_reviews=1), 0, "low", [], id="one negative among many positive"),
        pytest.param(_Signals(reviews=10, bad_reviews=4), 0, "low", [], id="40 % bad is no pattern"),
        # One signal alone is at most medium, except a confirmed abuse ticket.
        pytest.param(_Signals(reviews=4, bad_reviews=2), 25, "low", ["bad_share"], id="half bad"),
        pytest.param(_Signals(reviews=3, bad_reviews=3), 40, "medium", ["bad_share"], id="all bad, one shop"),
        pytest.param(
            _Signals(reviews=2, bad_reviews=2, spree_shops=2), 15, "low", ["multi_shop_spree"], id="2 shops in 30 days"
        ),
        pytest.param(
            _Signals(reviews=2, bad_reviews=2, spree_shops=3), 40, "medium", ["multi_shop_spree"], id="3 shops"
        ),
        pytest.param(_Signals(abuse_notes=1), 35, "medium", ["abuse_notes"], id="one abuse note"),
        pytest.param(_Signals(abuse_notes=2), 60, "high", ["abuse_notes"], id="two abuse notes"),
        pytest.param(_Signals(abuse_tickets=1), 60, "high", ["abuse_tickets"], id="an earlier abuse ticket"),
        # Signals add up.
        pytest.param(
            _Signals(reviews=3, bad_reviews=3, spree_shops=3),
            80,
            "high",
            ["bad_share", "multi_shop_spree"],
            id="professional bad reviewer pattern",
        ),
        pytest.param(
            _Signals(reviews=5, bad_reviews=5, spree_shops=4, abuse_tickets=2, abuse_notes=3),
            100,
            "high",
            ["bad_share", "multi_shop_spree", "abuse_tickets", "abuse_notes"],
            id="capped at 100",
        ),
        # List marks win.
        pytest.param(_Signals(list_mark=ListMark.BLACKLIST, list_reason="勒索"), 100, "high", ["blacklisted"], id="bl"),
        pytest.param(
            _Signals(reviews=5, bad_reviews=5, spree_shops=4, abuse_tickets=1, list_mark=ListMark.WHITELIST),
            0,
            "low",
            ["whitelisted", "bad_share", "multi_shop_spree", "abuse_tickets"],
            id="whitelist is low whatever else",
        ),
    ],
)
def test_the_score_level_and_reasons_follow_the_table(signals, score, level, codes):
    assessment = score_signals(signals)
    assert (assessment.score, assessment.level) == (score, level)
    assert [r["code"] for r in assessment.reason_codes] == codes
    assert len(assessment.reasons) == len(codes)
    assert all(isinstance(text, str) and text for text in assessment.reasons)


def test_reasons_are_readable_sentences_in_the_readers_language():
    from django.utils import translation

    assessment = score_signals(_Signals(reviews=4, bad_reviews=4, spree_shops=3))
    with translation.override("en"):
        assert assessment.reasons == [
            "4 of 4 reviews are neutral or negative (100 %).",
            "Neutral or negative reviews in 3 different shops within 30 days.",
        ]


# Signals read from the database ---------------------------------------------------------------------


@pytest.fixture
def shops(db):
    return [ShopFactory() for _ in range(4)]


def test_a_new_buyer_with_a_single_negative_review_is_low_risk(shops):
    buyer = make_buyer()
    make_review(buyer, shops[0], tier="negative")

    assessment = buyer_risk_assess(buyer.pk)

    assert (assessment.score, assessment.level, assessment.reasons) == (0, RiskLevel.LOW, [])
    buyer.refresh_from_db()
    assert (buyer.risk_level, buyer.risk_score, buyer.risk_reasons) == ("low", 0, [])
    assert buyer.risk_assessed_at is not None
    assert not buyer.needs_senior_agent


def test_one_negative_review_among_many_positive_ones_is_low_risk(shops):
    buyer = make_buyer()
    for i in range(9):
        make_review(buyer, shops[i % 4], tier="positive", rated_at=days_ago(i))
    make_review(buyer, shops[1], tier="negative")

    assert buyer_risk_assess(buyer.pk).level == RiskLevel.LOW


def test_negative_reviews_in_three_shops_within_30_days_make_a_professional_bad_reviewer_high_risk(shops):
    buyer = make_buyer()
    make_review(buyer, shops[0], tier="negative", rated_at=days_ago(40))
    make_review(buyer, shops[1], tier="neutral", rated_at=days_ago(25))
    make_review(buyer, shops[2], tier="negative", rated_at=days_ago(12))

    assessment = buyer_risk_assess(buyer.pk)

    assert [r["code"] for r in assessment.reason_codes] == ["bad_share", "multi_shop_spree"]
    assert assessment.reason_codes[1]["params"] == {"shops": 3}
    assert (assessment.score, assessment.level) == (80, RiskLevel.HIGH)
    buyer.refresh_from_db()
    assert buyer.needs_senior_agent


def test_bad_reviews_spread_over_more_than_30_days_are_not_a_spree(shops):
    buyer = make_buyer()
    for i, shop in enumerate(shops[:3]):
        make_review(buyer, shop, tier="negative", rated_at=days_ago(40 * i))
    for _ in range(3):
        make_review(buyer, shops[3], tier="positive")

    assessment = buyer_risk_assess(buyer.pk)

    assert assessment.level == RiskLevel.LOW
    assert [r["code"] for r in assessment.reason_codes] == ["bad_share"]  # 3 of 6: 25 points


def test_a_revised_review_counts_by_its_current_tier(shops):
    buyer = make_buyer()
    for shop in shops[:3]:
        make_review(buyer, shop, tier="positive")  # each was negative once, then revised

    assert buyer_risk_assess(buyer.pk).level == RiskLevel.LOW


@pytest.mark.parametrize(
    "ticket_fields",
    [
        {"outcome": "abuse_reported", "status": TicketStatus.CLOSED_UNRESOLVED},
        {"cause": "extortion", "status": TicketStatus.CLOSED_UNRESOLVED},
        {"cause": "professional_bad_reviewer", "status": TicketStatus.RESOLVED},
    ],
    ids=["abuse reported", "cause extortion", "cause professional bad reviewer"],
)
def test_an_earlier_abuse_ticket_makes_the_buyer_high_risk(shops, ticket_fields):
    buyer = make_buyer()
    make_ticket(buyer, shops[0], **ticket_fields)

    assessment = buyer_risk_assess(buyer.pk)

    assert assessment.level == RiskLevel.HIGH
    assert [r["code"] for r in assessment.reason_codes] == ["abuse_tickets"]


def test_an_ordinary_closed_ticket_is_no_signal(shops):
    buyer = make_buyer()
    make_ticket(buyer, shops[0], cause="slow_delivery", outcome="buyer_refused", status=TicketStatus.CLOSED_UNRESOLVED)
    assert buyer_risk_assess(buyer.pk).level == RiskLevel.LOW


def test_notes_tagged_extortion_raise_the_risk_and_are_reassessed_when_added(shops):
    buyer = make_buyer()
    make_review(buyer, shops[0])
    agent = make_agent(shops[0])

    buyer_note_add(buyer.pk, agent, tags=["easy_to_talk"], text="态度还行")
    buyer.refresh_from_db()
    assert buyer.risk_level == RiskLevel.LOW

    buyer_note_add(buyer.pk, agent, tags=["extortion"], text="要求返现200否则不改")
    buyer.refresh_from_db()
    assert (buyer.risk_level, buyer.risk_score) == (RiskLevel.MEDIUM, 35)

    buyer_note_add(buyer.pk, agent, tags=["professional_bad_reviewer", "impatient"], text="")
    buyer.refresh_from_db()
    assert buyer.risk_level == RiskLevel.HIGH
    assert BuyerNote.objects.filter(buyer=buyer).count() == 3


def test_a_blacklisted_buyer_is_high_and_a_whitelisted_one_low_whatever_else(shops):
    buyer = make_buyer()
    make_ticket(buyer, shops[0], outcome="abuse_reported", status=TicketStatus.CLOSED_UNRESOLVED)
    supervisor = make_agent(shops[0], role=Role.SUPERVISOR)

    buyer = buyer_list_mark_set(buyer.pk, supervisor, mark=ListMark.WHITELIST, reason="老客户，误会已澄清")
    assert (buyer.list_mark, buyer.list_mark_by, buyer.risk_level, buyer.risk_score) == (
        "whitelist",
        supervisor,
        "low",
        0,
    )
    assert buyer.list_mark_at is not None

    buyer = buyer_list_mark_set(buyer.pk, supervisor, mark=ListMark.BLACKLIST, reason="多次勒索")
    assert (buyer.risk_level, buyer.risk_score) == ("high", 100)
    assert buyer.risk_reason_texts[0] == "Blacklisted by a supervisor: 多次勒索"

    buyer = buyer_list_mark_set(buyer.pk, supervisor, mark=ListMark.NONE)
    assert buyer.risk_level == "high"  # the abuse ticket alone


def test_only_supervisors_set_list_marks_and_a_refusal_changes_nothing(shops):
    buyer = make_buyer()
    make_review(buyer, shops[0])
    agent = make_agent(shops[0])
    other_supervisor = make_agent(shops[1], role=Role.SUPERVISOR)
    before = Buyer.objects.filter(pk=buyer.pk).values().get()

    for user in (agent, other_supervisor):
        with pytest.raises(BuyerActionRefused) as refused:
            buyer_list_mark_set(buyer.pk, user, mark=ListMark.BLACKLIST, reason="x")
        assert refused.value.code == "not_permitted"
    supervisor = make_agent(shops[0], role=Role.SUPERVISOR)
    with pytest.raises(BuyerActionRefused) as refused:
        buyer_list_mark_set(buyer.pk, supervisor, mark=ListMark.BLACKLIST, reason="  ")
    assert (refused.value.code, refused.value.field) == ("invalid", "reason")

    assert Buyer.objects.filter(pk=buyer.pk).values().get() == before


def test_a_high_risk_buyer_is_routed_to_senior_agents(shops):
    buyer = make_buyer()
    ticket = make_ticket(buyer, shops[0], status=TicketStatus.NEW)
    make_ticket(buyer, shops[1], outcome="abuse_reported", status=TicketStatus.CLOSED_UNRESOLVED)
    assert not _needs_senior(type(ticket).objects.select_related("review__buyer").get(pk=ticket.pk))

    buyers_risk_assess([buyer.pk])

    assert _needs_senior(type(ticket).objects.select_related("review__buyer").get(pk=ticket.pk))


def test_the_batch_assessment_runs_the_same_queries_for_2_and_40_buyers(shops):
    def batch(n):
        buyers = [make_buyer() for _ in range(n)]
        for i, buyer in enumerate(buyers):
            make_review(buyer, shops[i % 4], rated_at=days_ago(i % 40))
            make_review(buyer, shops[(i + 1) % 4], tier="neutral")
            make_ticket(buyer, shops[0], cause="extortion" if i % 3 == 0 else "")
            BuyerNote.objects.create(buyer=buyer, tags=["extortion"] if i % 2 else ["impatient"])
        return [b.pk for b in buyers]

    small, large = batch(2), batch(40)
    counts = []
    for ids in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            results = buyers_risk_assess(ids)
        counts.append(len(ctx.captured_queries))
        assert sorted(results) == sorted(ids)
    assert counts[0] == counts[1] == 6
    stored = dict(Buyer.objects.filter(pk__in=large).values_list("pk", "risk_level"))
    assert {pk: results[pk].level for pk in large} == stored


def test_unknown_buyer_ids_are_skipped():
    assert buyers_risk_assess([]) == {}
    assert buyer_risk_assess(999_999) is None


# The remedy gate -------------------------------------------------------------------------------------


def test_remedies_for_a_high_risk_buyer_need_a_supervisors_override_with_a_reason(shops):
    buyer = make_buyer()
    make_ticket(buyer, shops[0], outcome="abuse_reported", status=TicketStatus.CLOSED_UNRESOLVED)
    buyer_risk_assess(buyer.pk)
    buyer.refresh_from_db()
    agent = make_agent(shops[0])
    supervisor = make_agent(shops[0], role=Role.SUPERVISOR)
    supervisor_elsewhere = make_agent(shops[1], role=Role.SUPERVISOR)

    allowed, message = remedy_allowed(buyer, agent, "")
    assert not allowed and "No remedy for this buyer" in message and "abuse" in message
    assert remedy_allowed(buyer, agent, "买家很可怜")[0] is False
    assert remedy_allowed(buyer, supervisor, "")[0] is False
    assert remedy_allowed(buyer, supervisor_elsewhere, "确认是质量问题")[0] is False
    assert remedy_allowed(buyer, supervisor, "确认是质量问题", shop_id=shops[1].pk)[0] is False

    allowed, message = remedy_allowed(buyer, supervisor, "确认是质量问题", shop_id=shops[0].pk)
    assert allowed and "确认是质量问题" in message


def test_remedies_for_other_buyers_are_not_gated(shops):
    buyer = make_buyer(risk_level=RiskLevel.MEDIUM)
    agent = make_agent(shops[0])
    assert remedy_allowed(buyer, agent, "") == (True, "")
    assert remedy_allowed(None, agent, "") == (True, "")


def test_assessed_at_is_the_time_of_the_assessment(shops):
    buyer = make_buyer()
    make_review(buyer, shops[0])
    before = timezone.now()
    buyer_risk_assess(buyer.pk)
    buyer.refresh_from_db()
    assert before <= buyer.risk_assessed_at <= timezone.now() + dt.timedelta(seconds=1)

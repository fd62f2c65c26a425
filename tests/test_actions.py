"""The agent workspace's services (issue 4, tickets.actions): cause, outcome claims, seller
explanations, escalation, notes, call scripts and revision guides. Every change writes its
timeline row; every refusal changes nothing."""

import datetime as dt
from unittest.mock import ANY

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import override

from reviews.models import Review
from tickets.actions import (
    call_script_for,
    call_script_save,
    cause_set,
    cause_suggest,
    note_add,
    outcome_claim,
    seller_explanation_record,
    ticket_escalate,
)
from tickets.choices import TicketStatus
from tickets.guides import revision_guide_for
from tickets.models import (
    CallScript,
    Cause,
    CauseKeywordRule,
    Notification,
    Remedy,
    Ticket,
    TicketEvent,
)
from tickets.services import TicketActionRefused

from .conftest import event
from .ticket_fixtures import *  # noqa: F403 — fixtures

pytestmark = pytest.mark.django_db


def snapshot(ticket):
    """Everything a refused action must leave as it was."""
    return {
        "ticket": Ticket.objects.filter(pk=ticket.pk).values().get(),
        "review": Review.objects.filter(pk=ticket.review_id).values().get(),
        "timeline": list(TicketEvent.objects.filter(ticket=ticket).values_list("id", flat=True)),
        "remedies": list(Remedy.objects.filter(ticket=ticket).values()),
        "notifications": Notification.objects.count(),
        "scripts": list(CallScript.objects.values()),
    }


def last_row(ticket):
    return TicketEvent.objects.filter(ticket=ticket).order_by("id").last()


def refused(code, call, *args, **kwargs):
    with pytest.raises(TicketActionRefused) as info:
        call(*args, **kwargs)
    assert info.value.code == code
    assert str(info.value)
    return info.value


@pytest.fixture
def fresh_ticket(push, agent):
    """An assigned ticket of a review written an hour ago (inside every platform window)."""
    from tickets.assignment import assign_ticket
    from tickets.models import AgentProfile

    occurred = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    assert push(event(event_id="e-fresh", review_id="r-fresh", occurred_at=occurred)).status_code == 200
    ticket = Ticket.objects.get(review__review_id="r-fresh")
    AgentProfile.objects.filter(user=agent).update(on_duty=True)
    assign_ticket(ticket.pk)
    ticket.refresh_from_db()
    return ticket


# Cause -----------------------------------------------------------------------------------------


def test_the_default_taxonomy_is_seeded_with_groups_and_both_names():
    causes = {c.code: c for c in Cause.objects.all()}

    assert len(causes) == 18
    assert (causes["slow_delivery"].group, causes["slow_delivery"].name_zh) == ("logistics", "物流慢")
    assert causes["extortion"].group == "abuse"
    assert causes["unknown"].group == "other"
    with override("en"):
        assert causes["damaged"].label == "Damaged"
    with override("zh-hans"):
        assert causes["damaged"].label == "破损"


def test_setting_the_cause_stores_the_code_and_writes_from_and_to_on_the_timeline(ticket, agent):
    cause_set(ticket.pk, agent, cause="poor_quality", note="线头多")
    cause_set(ticket.pk, agent, cause="damaged")

    ticket.refresh_from_db()
    assert ticket.cause == "damaged"
    rows = list(TicketEvent.objects.filter(ticket=ticket, kind="cause_set").order_by("id"))
    assert [(r.actor_id, r.data) for r in rows] == [
        (agent.pk, {"from": None, "to": "poor_quality", "note": "线头多"}),
        (agent.pk, {"from": "poor_quality", "to": "damaged", "note": ""}),
    ]


@pytest.mark.parametrize("code", ["no_such_cause", "", "competitor_attack_inactive"])
def test_an_unknown_or_inactive_cause_is_refused_and_changes_nothing(ticket, agent, code):
    Cause.objects.create(code="competitor_attack_inactive", group="abuse", name_zh="x", name_en="x", active=False)
    before = snapshot(ticket)

    refused("unknown_cause", cause_set, ticket.pk, agent, cause=code)

    assert snapshot(ticket) == before


def test_the_cause_of_a_closed_ticket_cannot_change(closed_ticket, agent):
    before = snapshot(closed_ticket)

    refused("ticket_closed", cause_set, closed_ticket.pk, agent, cause="damaged")

    assert snapshot(closed_ticket) == before


@pytest.mark.parametrize(
    ("text", "platform", "expected"),
    [
        ("快递太慢了，衣服有线头", "", "poor_quality"),
        ("物流太慢，等了好几天", "", "slow_delivery"),
        ("收到的时候杯子碎了", "", "damaged"),
        ("色差严重，尺码也偏小", "", "not_as_described"),
        ("少发了一件", "taobao", "missing_wrong_item"),
        ("没收到却显示签收", "", "fake_signoff"),
        ("客服态度很差", "", "poor_after_sales"),
        ("不好意思点错了", "", "misclick"),
        ("挺好的", "", None),
        ("", "", None),
    ],
)
def test_the_cause_is_suggested_from_the_review_text(text, platform, expected):
    suggestion = cause_suggest(text, platform)

    assert (suggestion.code if suggestion else None) == expected


def test_a_platform_rule_applies_only_to_its_platform_and_more_hits_win_a_tie():
    jd_only = Cause.objects.get(code="courier_attitude")
    CauseKeywordRule.objects.create(cause=jd_only, keywords="京东小哥", platform="jd", priority=99)

    assert cause_suggest("京东小哥很凶", "jd").code == "courier_attitude"
    assert cause_suggest("京东小哥很凶", "taobao") is None
    CauseKeywordRule.objects.create(cause=Cause.objects.get(code="unknown"), keywords="甲\n乙", priority=99)
    assert cause_suggest("京东小哥 甲 乙", "jd").code == "unknown"


# Outcome ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        ("revised_positive", TicketStatus.RESOLVED),
        ("deleted_by_buyer", TicketStatus.RESOLVED),
        ("followup_added", TicketStatus.RESOLVED),
        ("explained", TicketStatus.RESOLVED),
        ("no_action_needed", TicketStatus.RESOLVED),
        ("buyer_refused", TicketStatus.CLOSED_UNRESOLVED),
        ("unreachable", TicketStatus.CLOSED_UNRESOLVED),
        ("abuse_reported", TicketStatus.CLOSED_UNRESOLVED),
    ],
)
def test_claiming_an_outcome_closes_unverified_and_frees_the_agents_capacity(
    ticket, agent, shop_a, outcome, status, publish, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outcome_claim(ticket.pk, agent, outcome=outcome, note="电话沟通")

    ticket.refresh_from_db()
    assert (ticket.status, ticket.outcome, ticket.outcome_verified) == (status, outcome, False)
    assert ticket.closed_at is not None
    assert (ticket.resolved_at is not None) == (status == TicketStatus.RESOLVED)
    row = last_row(ticket)
    assert (row.kind, row.actor_id, row.from_status, row.to_status) == ("closed", agent.pk, "assigned", status)
    assert row.data == {"outcome": outcome, "verified": False, "note": "电话沟通"}
    assert len(callbacks) == 1
    publish["pool"].assert_called_once_with(args=(), kwargs={"shop_ids": [shop_a.pk]}, retry=True, retry_policy=ANY)


def test_claiming_on_a_pool_ticket_frees_no_capacity(pool_ticket, supervisor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        outcome_claim(pool_ticket.pk, supervisor, outcome="no_action_needed")

    assert callbacks == []
    assert Ticket.objects.get().status == TicketStatus.RESOLVED


def test_claiming_on_a_closed_ticket_is_refused_and_changes_nothing(closed_ticket, agent):
    before = snapshot(closed_ticket)
    refused("ticket_closed", outcome_claim, closed_ticket.pk, agent, outcome="revised_positive")
    assert snapshot(closed_ticket) == before


def test_an_unknown_outcome_is_refused_and_changes_nothing(ticket, agent):
    before = snapshot(ticket)

    refused("invalid_outcome", outcome_claim, ticket.pk, agent, outcome="bribed")

    assert snapshot(ticket) == before


# Seller explanation ----------------------------------------------------------------------------


def test_a_seller_explanation_is_stored_on_the_review_with_a_timeline_row(fresh_ticket, agent):
    result = seller_explanation_record(fresh_ticket.pk, agent, content="亲，线头问题已反馈工厂，给您添麻烦了。")

    review = Review.objects.get(pk=fresh_ticket.review_id)
    assert review.reply_content == "亲，线头问题已反馈工厂，给您添麻烦了。"
    assert review.replied_at is not None
    assert result.compliance_reasons == []
    row = last_row(fresh_ticket)
    assert (row.kind, row.actor_id, row.data) == (
        "seller_replied",
        agent.pk,
        {"content": "亲，线头问题已反馈工厂，给您添麻烦了。"},
    )


def test_a_seller_explanation_tying_a_reward_to_the_review_is_saved_but_flagged(fresh_ticket, agent):
    result = seller_explanation_record(fresh_ticket.pk, agent, content="改好评就给您退款")

    assert result.compliance_reasons
    assert last_row(fresh_ticket).data["compliance"] == result.compliance_reasons


def test_no_seller_explanation_after_a_follow_up(fresh_ticket, agent):
    Review.objects.filter(pk=fresh_ticket.review_id).update(followup_at=timezone.now(), followup_content="还是不行")
    before = snapshot(fresh_ticket)

    refused("review_has_followup", seller_explanation_record, fresh_ticket.pk, agent, content="解释")

    assert snapshot(fresh_ticket) == before


def test_no_seller_explanation_for_a_review_older_than_30_days(ticket, agent):
    Review.objects.filter(pk=ticket.review_id).update(rated_at=timezone.now() - dt.timedelta(days=30, minutes=1))
    before = snapshot(ticket)

    refused("explanation_window_closed", seller_explanation_record, ticket.pk, agent, content="解释")

    assert snapshot(ticket) == before


def test_an_empty_seller_explanation_is_refused(fresh_ticket, agent):
    before = snapshot(fresh_ticket)

    refused("required", seller_explanation_record, fresh_ticket.pk, agent, content="  ")

    assert snapshot(fresh_ticket) == before


# Escalation and notes --------------------------------------------------------------------------


def test_escalating_moves_the_ticket_to_escalated_and_notifies_the_shops_supervisors(
    ticket, agent, supervisor, supervisor_b
):
    ticket_escalate(ticket.pk, agent, reason="买家要求赔偿200元")

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ESCALATED
    row = last_row(ticket)
    assert (row.kind, row.from_status, row.to_status, row.data) == (
        "escalated",
        "assigned",
        "escalated",
        {"reason": "买家要求赔偿200元"},
    )
    assert list(Notification.objects.values_list("recipient_id", "kind", "ticket_id")) == [
        (supervisor.pk, "escalated", ticket.pk)
    ]


@pytest.mark.parametrize(("reason", "code"), [("", "required"), ("  ", "required")])
def test_escalating_without_a_reason_is_refused(ticket, agent, supervisor, reason, code):
    before = snapshot(ticket)

    refused(code, ticket_escalate, ticket.pk, agent, reason=reason)

    assert snapshot(ticket) == before


def test_escalating_twice_or_a_closed_ticket_is_refused(ticket, agent, supervisor):
    ticket_escalate(ticket.pk, agent, reason="复杂")
    before = snapshot(ticket)

    refused("already_escalated", ticket_escalate, ticket.pk, agent, reason="再次")

    assert snapshot(ticket) == before


def test_escalating_a_closed_ticket_is_refused(closed_ticket, agent):
    before = snapshot(closed_ticket)

    refused("ticket_closed", ticket_escalate, closed_ticket.pk, agent, reason="x")

    assert snapshot(closed_ticket) == before


def test_a_note_is_a_timeline_row_and_carries_compliance_flags(ticket, agent):
    fine = note_add(ticket.pk, agent, text="买家晚上8点后方便接电话")
    flagged = note_add(ticket.pk, agent, text="答应买家：改成好评就返现20元")

    assert (fine.kind, fine.message, fine.data, fine.compliance_reasons) == (
        "note",
        "买家晚上8点后方便接电话",
        {},
        [],
    )
    assert flagged.compliance_reasons
    assert TicketEvent.objects.get(pk=flagged.pk).data == {"compliance": flagged.compliance_reasons}


def test_an_empty_note_is_refused(ticket, agent):
    before = snapshot(ticket)

    refused("required", note_add, ticket.pk, agent, text="")

    assert snapshot(ticket) == before


# Call scripts ----------------------------------------------------------------------------------


def test_the_most_specific_call_script_wins_and_is_filled_in_with_the_masked_nick(ticket):
    rendered = call_script_for(ticket)
    assert rendered.name == "通用回访话术"
    assert "甲店" in rendered.text and "t***y" in rendered.text and "tony" not in rendered.text
    assert "“快递太慢了，衣服有线头”" in str(rendered)
    assert "加厚保暖羽绒服" in rendered.text
    assert "2026-03-02" in rendered.text

    Ticket.objects.filter(pk=ticket.pk).update(cause="poor_quality")
    ticket.refresh_from_db()
    assert call_script_for(ticket).name == "质量问题"

    CallScript.objects.create(name="淘宝通用", platform="taobao", body="淘宝 {shop}")
    assert call_script_for(ticket).name == "质量问题"  # cause beats platform
    CallScript.objects.create(name="淘宝质量", platform="taobao", cause="poor_quality", body="{unknown} {shop}")
    assert call_script_for(ticket).text == "{unknown} 甲店"  # unknown placeholders stay visible

    Ticket.objects.filter(pk=ticket.pk).update(cause="")
    ticket.refresh_from_db()
    assert call_script_for(ticket).name == "淘宝通用"


def test_no_active_script_gives_none(ticket):
    CallScript.objects.update(active=False)

    assert call_script_for(ticket) is None


def test_a_jd_ticket_gets_the_jd_script_unless_a_cause_script_fits(ticket):
    Ticket.objects.filter(pk=ticket.pk).update(platform="jd")
    ticket.refresh_from_db()

    rendered = call_script_for(ticket)

    assert rendered.name == "京东通用话术"
    assert "追加评价" in rendered.text
    Ticket.objects.filter(pk=ticket.pk).update(cause="damaged")
    ticket.refresh_from_db()
    assert call_script_for(ticket).name == "商品破损"


def test_a_call_script_that_ties_a_reward_to_a_review_cannot_be_saved(supervisor):
    before = list(CallScript.objects.values())

    exc = refused(
        "compliance_flagged", call_script_save, supervisor, name="回访", body="亲，改好评就给您返现10元，谢谢"
    )

    assert exc.reasons
    assert list(CallScript.objects.values()) == before
    with pytest.raises(ValidationError) as info:
        CallScript(name="回访", body="五星好评送优惠券").full_clean()
    assert "body" in info.value.message_dict


def test_a_clean_call_script_is_saved_and_can_be_changed(supervisor):
    script = call_script_save(supervisor, name="回访", body="您好，我是{shop}的客服", cause="damaged")
    call_script_save(supervisor, script_id=script.pk, name="回访2", body="您好", platform="jd")

    script.refresh_from_db()
    assert (script.name, script.body, script.platform, script.cause) == ("回访2", "您好", "jd", "")
    refused("unknown_cause", call_script_save, supervisor, name="x", body="y", cause="nope")


# Revision guides -------------------------------------------------------------------------------

REMEDY_WORDS = ("退款", "补偿", "优惠券", "红包", "返现", "补发", "赠", "礼", "券")


def test_the_taobao_guide_states_the_once_within_30_days_rule_and_the_deadline(ticket):
    guide = revision_guide_for(ticket)

    assert "只能修改一次" in guide and "30天内" in guide
    assert "2026年4月1日" in guide  # rated 2026-03-02 10:15 +08:00, plus 30 days
    assert "甲店" in guide
    assert not any(word in guide for word in REMEDY_WORDS)


def test_the_jd_guide_offers_only_a_follow_up(ticket):
    Ticket.objects.filter(pk=ticket.pk).update(platform="jd")
    ticket.refresh_from_db()

    guide = revision_guide_for(ticket)

    assert "不能修改" in guide and "追评" in guide
    assert not any(word in guide for word in REMEDY_WORDS)


@pytest.mark.parametrize("platform", ["tmall", "pdd", "douyin", "kuaishou", "other"])
def test_every_guide_is_optional_and_mentions_no_remedy(ticket, platform):
    Ticket.objects.filter(pk=ticket.pk).update(platform=platform)
    ticket.refresh_from_db()

    guide = revision_guide_for(ticket)

    assert "完全由您决定" in guide
    assert not any(word in guide for word in REMEDY_WORDS)


def test_rendering_never_raises_and_never_expands_text_twice():
    from tickets.guides import render_script

    values = {"shop": "甲店", "review_quote": "我写了{shop}和{0}"}

    assert render_script("{review_quote}|{shop.__class__}|{0}|{|}|{shop}", values) == (
        "我写了{shop}和{0}|{shop.__class__}|{0}|{|}|甲店"
    )
    assert render_script(None, values) == ""

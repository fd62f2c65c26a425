"""Wording that ties a reward to a review (好评返现) is flagged; a remedy or a review alone is not
(DESIGN.md § Law). The default phrase list is the one the data migration seeds."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from tickets.compliance import ComplianceChecker, compact, compliance_check
from tickets.guides import revision_guide_for
from tickets.models import CallScript, CompliancePhrase

pytestmark = pytest.mark.django_db

FLAGGED = [
    # Explicit phrases and their disguises.
    "好评返现",
    "好 评 返 现",
    "好-评-返-现！",
    "好評返現",
    "晒图返现5元",
    "五星返现，联系客服",
    "５⭐好评返5元",
    "追评返红包",
    "亲，好评送运费险哦",
    "收货后全五星好评，截图联系客服领取2元红包",
    "晒图有礼，好评再抽奖",
    # Conditional constructions: a review act, a reward, a conditional frame.
    "麻烦您改成好评，我们给您退款10元",
    "如果您删除评价，我们可以给您补偿20元",
    "五星好评后联系客服领红包",
    "改好评就给您发优惠券",
    "亲，追评晒图即可领取无门槛券",
    "您把差评删了，我们马上返您20元现金",
    "只要给个5星，就送您一份小礼品",
    "删评后我们给你全额退款",
    "改评之后才能退款哦",
    "If you change your review to 5 stars we will send you a coupon",
    "Leave a good review and get $5 cash back",
    "Delete the review and we'll refund you",
    "5 stars = free gift, just send us a screenshot after",
    "Please update your review, then we can give you a refund",
]

NOT_FLAGGED = [
    "给您发一张10元优惠券作为补偿",
    "您的评价我们看到了，非常抱歉给您带来不便",
    "您的评价我们看到了",
    "补偿与评价无关，请您放心",
    "无论您是否修改评价，我们都会为您补发",
    "我们会为您补发一件，运费由我们承担",
    "已为您办理部分退款20元，请注意查收",
    "快递返回的物流信息显示已签收",
    "送货上门的快递员态度不好，我们已投诉",
    "如您愿意，可以在30天内修改一次评价，改为好评或删除评价，完全由您决定",
    "京东的评价不能修改，但您可以追评说明最新情况",
    "感谢您的五星好评！",
    "We are sorry. Here is a coupon as compensation.",
    "We saw your review and will fix the sleeve for free.",
    "The refund is not conditional on your review.",
    "Thank you for the gift idea",
    "",
]


@pytest.mark.parametrize("text", FLAGGED)
def test_text_tying_a_reward_to_a_review_is_flagged_with_a_reason(text):
    result = compliance_check(text)

    assert result.flagged is True, text
    assert result.reasons and all(isinstance(r, str) and r for r in result.reasons)


@pytest.mark.parametrize("text", NOT_FLAGGED)
def test_text_that_does_not_tie_a_reward_to_a_review_is_not_flagged(text):
    result = compliance_check(text)

    assert (result.flagged, result.reasons) == (False, []), result.reasons


def test_normalisation_removes_spaces_punctuation_and_width_and_reads_stars():
    assert compact("好 评\u3000返-现") == "好评返现"
    assert compact("５⭐ Good") == "5星good"
    assert compact("好\u200b评") == "好评"


def test_a_phrase_explains_itself_with_its_reason():
    result = compliance_check("下单好评返现")

    assert result.flagged
    assert any("好评返现" in reason for reason in result.reasons)


def test_an_added_phrase_flags_and_a_deactivated_one_stops_flagging():
    CompliancePhrase.objects.create(text="五分有惊喜", reason="惊喜换评分")
    assert compliance_check("打五分有惊喜").reasons == ["惊喜换评分"]

    CompliancePhrase.objects.filter(text="五分有惊喜").update(active=False)
    assert compliance_check("打五分有惊喜").flagged is False


def test_a_regex_phrase_flags_and_a_broken_regex_is_skipped_not_raised():
    checker = ComplianceChecker(
        [
            CompliancePhrase(text=r"加.{0,3}v.{0,3}领", kind="regex", reason="私下领取"),
            CompliancePhrase(text=r"([", kind="regex", reason="broken"),
        ]
    )

    assert checker.check("加 V 领取").reasons == ["私下领取"]


def test_a_broken_regex_is_refused_by_the_admin_validation():
    with pytest.raises(ValidationError) as info:
        CompliancePhrase(text="([", kind="regex").full_clean()

    assert "text" in info.value.message_dict


@pytest.mark.parametrize("platform", ["taobao", "tmall", "jd", "pdd", "douyin", "kuaishou", "other"])
def test_every_default_call_script_and_every_revision_guide_passes_compliance(platform, shop_a):
    from datetime import UTC, datetime
    from types import SimpleNamespace

    assert CallScript.objects.count() == 9
    for script in CallScript.objects.all():
        assert compliance_check(script.body).flagged is False, script.name
    ticket = SimpleNamespace(
        platform=platform, shop=shop_a, review=SimpleNamespace(rated_at=datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    )
    assert compliance_check(revision_guide_for(ticket)).flagged is False


# The command ---------------------------------------------------------------------------------


def test_check_compliance_reads_a_file_and_prints_one_line_per_text(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("好评返现\n\n给您发一张10元优惠券作为补偿\n   \n改好评就给您发优惠券\n", encoding="utf-8")
    out = io.StringIO()

    call_command("check_compliance", str(path), stdout=out)

    lines = out.getvalue().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["FLAG", "OK", "FLAG"]
    assert lines[1] == "OK\t给您发一张10元优惠券作为补偿"
    assert lines[0].startswith("FLAG\t好评返现\t") and len(lines[0].split("\t")) == 3


def test_check_compliance_reads_standard_input_with_a_dash(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("您的评价我们看到了\n好 评 返 现\n"))
    out = io.StringIO()

    call_command("check_compliance", "-", stdout=out)

    assert [line.split("\t")[:2] for line in out.getvalue().splitlines()] == [
        ["OK", "您的评价我们看到了"],
        ["FLAG", "好 评 返 现"],
    ]

"""Flags wording that ties a reward to a review (好评返现), forbidden since 2024-09.

A remedy fixes the buyer's problem and is never conditional on a revision (DESIGN.md § Law). Text
is flagged when it contains an editable phrase (CompliancePhrase: e.g. 好评返现) or when a review
act (好评, 五星, 改评, 删评, 追评, 晒图, "5 stars", "change your review"…) and a reward (返现, 红包,
券, 退款, refund, coupon…) appear within a short window together with a conditional frame (就, 才,
可以, 后, 给您, if/then/we'll…). Text is Unicode-normalised first (NFKC, lower case, spaces and
punctuation removed, ⭐ read as 星) so "好 评 返 现", full-width digits and "5⭐" are caught.

Not flagged: a reward alone ("给您发一张10元优惠券作为补偿"), a review alone, a guide on how to
revise without any reward, and a window that says the two are unrelated ("补偿与评价无关").
"""

import re
import unicodedata
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

# Traditional forms of the characters the rules read, so 好評返現 reads as 好评返现.
_TRADITIONAL = str.maketrans("評現紅給禮贈刪換後券領與關論", "评现红给礼赠删换后券领与关论")
_STARS = str.maketrans({"⭐": "星", "★": "星", "☆": "星", "🌟": "星", "✨": "星"})
_DROP_CATEGORIES = ("Z", "C", "P")  # separators, controls/format (zero-width), punctuation

# A review act: what the reward would be paid for.
_REVIEW_ACTS_CJK = (
    r"好评|五星|[5５]星|[5五]颗星|星{3,}|满分|[5五]分好评|"
    r"改成好评|改为好评|改好评|改评|改一下评价|修改评价|改个评|"
    r"(?:差评|中评|评价)(?:删|撤|改)|删评|删除评价|删掉评价|删除差评|删掉差评|删差评|删中评|删除中评|撤销评价|撤评|"
    r"追评|晒图|晒单|带图评价"
)
_REVIEW_ACTS_EN = (
    r"\b(?:good|positive|great|5[- ]?star|five[- ]?star)\s+(?:review|rating|feedback)s?\b|"
    r"\b(?:5|five)\s*stars?\b|"
    r"\b(?:delete|remove|change|update|revise|edit|upgrade)\s+(?:the|your|this|that)\s+(?:review|rating|feedback)\b|"
    r"\b(?:delete|remove|change|update|revise)\s+(?:the|your)\s+(?:negative|bad)\s+(?:review|rating|feedback)\b"
)
# A reward. Single characters exclude their everyday words (返回, 送货, 配送).
_REWARDS_CJK = (
    r"返现|返钱|返款|返利|返(?!回|修|货|程|工)|红包|现金|"
    r"(?<![配快递运发护])送(?![货达到出回])|赠品|赠送|补偿|优惠券|代金券|无门槛|券|礼品|礼物|小礼|退款|退钱|奖励|立减|"
    r"\d+元|\d+块"
)
_REWARDS_EN = r"\b(?:refunds?|cash|coupons?|gifts?|vouchers?|red\s*packets?|money|rewards?|discount|bonus)\b"
# A conditional frame: the reward follows from the review act.
_CONDITIONS_CJK = r"就|即|才|可以|可领|可获|可得|后|给您|给你|只要|如果|若|的话|便|立返|马上|领取|联系客服|找客服|截图"
_CONDITIONS_EN = (
    r"\bif\b|\bthen\b|\bonce\b|\bafter\b|\bwe(?:'ll|\s+will)\b|\byou(?:'ll|\s+will)\s+(?:get|receive)\b|"
    r"\bin\s+(?:exchange|return)\b|\band\s+(?:get|receive)\b|\bfor\s+(?:a|an)\b"
)
# A window that states the two are unrelated is not a tie.
_DISCLAIMERS = (
    r"无关|无论|不论|不管|没有关系|没关系|不影响|不以|不要求|与评价无|和评价无|"
    r"\bregardless\b|\bnot\s+(?:conditional|tied|linked|related)\b|\bwhether\s+or\s+not\b|\bno\s+matter\b"
)

_WINDOW_CJK = 16  # characters either side of a review act, in the compact form
_WINDOW_EN = 60  # characters either side, in the spaced form

_ACT_CJK = re.compile(_REVIEW_ACTS_CJK)
_ACT_EN = re.compile(_REVIEW_ACTS_EN)
_REWARD = re.compile(f"{_REWARDS_CJK}|{_REWARDS_EN}")
_CONDITION = re.compile(f"{_CONDITIONS_CJK}|{_CONDITIONS_EN}")
_DISCLAIMER = re.compile(_DISCLAIMERS)


@dataclass(frozen=True)
class ComplianceResult:
    flagged: bool
    reasons: list[str] = field(default_factory=list)

    def __bool__(self):
        return self.flagged


def _base(text):
    text = unicodedata.normalize("NFKC", text or "").translate(_STARS)
    return text.casefold().translate(_TRADITIONAL)


def compact(text):
    """NFKC, lower case, traditional→simplified for the few characters read, ⭐→星, and every
    space, control and punctuation character removed: "好 评-返 现" → "好评返现"."""
    return "".join(ch for ch in _base(text) if not unicodedata.category(ch).startswith(_DROP_CATEGORIES))


def spaced(text):
    """Like `compact` but words stay apart (one space), for English word boundaries."""
    out = []
    for ch in _base(text):
        cat = unicodedata.category(ch)
        if cat.startswith(("Z", "C")) or (cat.startswith("P") and ch != "'"):
            out.append(" ")
        else:
            out.append(ch)
    return " ".join("".join(out).replace("’", "'").split())


def _ties(form, act_pattern, window):
    """(act, reward) of the first review act in `form` with a reward and a conditional frame
    nearby and no disclaimer; None when there is none."""
    for act in act_pattern.finditer(form):
        start, end = max(0, act.start() - window), min(len(form), act.end() + window)
        around = form[start : act.start()] + " " + form[act.end() : end]
        if _DISCLAIMER.search(form[start:end]):
            continue
        # A reward right after the act ("好评返5元", "五星送") is a condition by itself.
        right_after = _REWARD.match(form, act.end(), min(len(form), act.end() + 12))
        if right_after is None:
            right_after = _REWARD.search(form, act.end(), min(len(form), act.end() + 3))
        if right_after:
            return act.group(0).strip(), right_after.group(0).strip()
        reward = _REWARD.search(around)
        if reward and _CONDITION.search(around):
            return act.group(0).strip(), reward.group(0).strip()
    return None


class ComplianceChecker:
    """Checks many texts against one load of the phrase list (the command, admin, services)."""

    def __init__(self, phrases=None):
        if phrases is None:
            from .models import CompliancePhrase

            phrases = list(CompliancePhrase.objects.filter(active=True))
        self.phrases, self.patterns = [], []
        for phrase in phrases:
            if phrase.kind == "regex":
                try:
                    self.patterns.append((re.compile(phrase.text, re.IGNORECASE), phrase))
                except re.error:
                    continue  # admin validation refuses these; an old bad row must not break checks
            elif compact(phrase.text):
                self.phrases.append((compact(phrase.text), phrase))

    def check(self, text):
        if not text or not text.strip():
            return ComplianceResult(False, [])
        forms = (compact(text), spaced(text))
        reasons = []
        for needle, phrase in self.phrases:
            if needle in forms[0]:
                reasons.append(phrase.reason or _("“%(phrase)s” ties a reward to a review.") % {"phrase": phrase.text})
        for pattern, phrase in self.patterns:
            if any(pattern.search(form) for form in forms):
                reasons.append(phrase.reason or _("Matches “%(pattern)s”.") % {"pattern": phrase.text})
        tie = _ties(forms[0], _ACT_CJK, _WINDOW_CJK) or _ties(forms[1], _ACT_EN, _WINDOW_EN)
        tie = tie or _ties(forms[1], _ACT_CJK, _WINDOW_CJK)
        if tie:
            reasons.append(
                _("Offers a reward (“%(reward)s”) in return for a review act (“%(act)s”).")
                % {"reward": tie[1], "act": tie[0]}
            )
        reasons = list(dict.fromkeys(str(r) for r in reasons))
        return ComplianceResult(bool(reasons), reasons)


def compliance_check(text, *, phrases=None):
    """Is `text` tying a reward to a review? ComplianceResult(flagged, reasons)."""
    return ComplianceChecker(phrases).check(text)

"""What an agent says or sends: the call script for a ticket and the revision guide for a buyer.

Both are plain text the agent copies. Neither ever mentions a remedy next to a review: the guide
tells a buyer how to revise or add a follow-up *if they wish*, the scripts are checked by
tickets.compliance when saved.
"""

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings

from reviews.choices import Platform

from .models import CallScript

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
QUOTE_LENGTH = 60


@dataclass(frozen=True)
class RenderedScript:
    """A call script filled in for one ticket; renders as its text."""

    script: CallScript
    text: str

    @property
    def name(self):
        return self.script.name

    def __str__(self):
        return self.text


def _local_date(moment):
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date() if moment else None


def script_values(ticket):
    """Placeholder values for a ticket. The buyer's nick is masked; {order_date} is the date of
    the review, the nearest date ReviewDesk knows (orders themselves are not ingested)."""
    review = ticket.review
    buyer = review.buyer
    content = " ".join((review.content or "").split())
    quote = content if len(content) <= QUOTE_LENGTH else content[: QUOTE_LENGTH - 1] + "…"
    rated = _local_date(review.rated_at)
    return {
        "shop": ticket.shop.name,
        "item_title": review.item_title or "",
        "review_quote": quote,
        "buyer_nick": (buyer.masked_nick if buyer else "") or "亲",
        "order_date": rated.isoformat() if rated else "",
    }


def render_script(body, values):
    """Fill {placeholders}; an unknown one stays visible as written. Never raises."""
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), body or "")


def _specificity(script, platform, cause):
    return (2 if script.cause and script.cause == cause else 0) + (1 if script.platform == platform else 0)


def call_script_for(ticket):
    """The most specific active script (platform + cause > cause > platform > generic), filled in
    for the ticket; None when there is no script at all."""
    candidates = CallScript.objects.filter(
        active=True, platform__in=["", ticket.platform], cause__in=["", ticket.cause]
    )
    best = None
    for script in candidates.order_by("id"):
        if best is None or _specificity(script, ticket.platform, ticket.cause) > _specificity(
            best, ticket.platform, ticket.cause
        ):
            best = script
    if best is None:
        return None
    return RenderedScript(best, render_script(best.body, script_values(ticket)))


# Revision guides -------------------------------------------------------------------------------

_OPTIONAL = "是否修改完全由您决定，不修改也没有任何影响，我们都会继续把您的问题处理好。"

_TAOBAO = (
    "亲，您好！这里是{shop}的售后客服。如果您愿意调整这次的评价，可以这样操作：\n"
    "1. 打开{app}，进入“我的淘宝”→“评价管理”（或在“我的订单”里找到这笔订单）；\n"
    "2. 找到这条评价，点击“修改评价”，可以改为好评，也可以选择删除这条评价；\n"
    "3. 平台规定中评、差评只能修改一次，且须在评价后30天内完成{deadline}，提交前请确认内容。\n" + _OPTIONAL
)
_JD = (
    "亲，您好！这里是{shop}的售后客服。京东的评价发布后不能修改，但可以在原评价下追加评价（追评）：\n"
    "1. 打开京东App，进入“我的”→“评价中心”→“已评价”；\n"
    "2. 找到这笔订单，点击“追评”，写下您现在的使用感受。\n" + _OPTIONAL
)
_PDD = (
    "亲，您好！这里是{shop}的售后客服。如果您愿意更新这次的评价：\n"
    "1. 打开拼多多App，进入“个人中心”→“我的评价”；\n"
    "2. 找到这条评价，按页面提示修改或追加评价（以平台当前规则为准）。\n" + _OPTIONAL
)
_DOUYIN = (
    "亲，您好！这里是{shop}的售后客服。如果您愿意更新这次的评价：\n"
    "1. 打开抖音App，进入“我”→“我的订单”（或“商品评价”）；\n"
    "2. 找到这笔订单的评价，按页面提示修改或追加评价（以平台当前规则为准）。\n" + _OPTIONAL
)
_KUAISHOU = (
    "亲，您好！这里是{shop}的售后客服。如果您愿意更新这次的评价：\n"
    "1. 打开快手App，进入“我”→“我的订单”；\n"
    "2. 找到这笔订单的评价，按页面提示修改或追加评价（以平台当前规则为准）。\n" + _OPTIONAL
)
_OTHER = (
    "亲，您好！这里是{shop}的售后客服。如果您愿意更新这次的评价，可以在购物平台的订单或评价页面"
    "找到这条评价，按页面提示修改或追加评价（以平台当前规则为准）。\n" + _OPTIONAL
)
_GUIDES = {
    Platform.TAOBAO: _TAOBAO,
    Platform.TMALL: _TAOBAO,
    Platform.JD: _JD,
    Platform.PDD: _PDD,
    Platform.DOUYIN: _DOUYIN,
    Platform.KUAISHOU: _KUAISHOU,
}


def revision_deadline(ticket):
    """The last day (local date) the buyer may revise, from the review's time and the shop's
    window; None when the review time is unknown."""
    rated = ticket.review.rated_at
    if rated is None:
        return None
    return _local_date(rated + dt.timedelta(days=ticket.shop.effective_revision_window_days))


def revision_guide_for(ticket):
    """A copyable message (Chinese) telling the buyer how to revise or add a follow-up if they
    wish, for the ticket's platform. Never mentions a remedy."""
    template = _GUIDES.get(ticket.platform, _OTHER)
    deadline = revision_deadline(ticket)
    values = {
        "shop": ticket.shop.name,
        "app": "天猫或淘宝App" if ticket.platform == Platform.TMALL else "淘宝App",
        "deadline": f"（本条评价可修改至{deadline.year}年{deadline.month}月{deadline.day}日）" if deadline else "",
    }
    return render_script(template, values)

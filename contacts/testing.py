"""Builders for tests of buyers: reviews and tickets written straight to the database, so a test
states exactly the history it needs (the push API is tested elsewhere)."""

import datetime as dt
import itertools

from django.utils import timezone

from reviews.models import Review
from tickets.choices import TicketStatus
from tickets.models import ContactAttempt, Ticket

from .models import Buyer

_n = itertools.count(1)


def make_buyer(platform="taobao", *, nick="tony", phone="13812345678", **fields):
    return Buyer.objects.create(
        platform=platform, open_id=f"open-{next(_n)}", nick=nick, phone=phone, region="浙江 杭州", **fields
    )


def make_review(buyer, shop, *, tier="negative", rated_at=None, content="质量太差", **fields):
    return Review.objects.create(
        shop=shop,
        platform=shop.platform,
        review_id=f"r-{next(_n)}",
        order_id=f"o-{next(_n)}",
        buyer=buyer,
        tier=tier,
        stars={"negative": 1, "neutral": 3, "positive": 5}[tier],
        content=content,
        rated_at=rated_at or timezone.now(),
        **fields,
    )


def make_ticket(buyer, shop, *, review=None, status=TicketStatus.ASSIGNED, assignee=None, **fields):
    review = review or make_review(buyer, shop)
    return Ticket.objects.create(
        review=review,
        shop=shop,
        platform=shop.platform,
        tier=review.tier or "negative",
        status=status,
        assignee=assignee,
        **fields,
    )


def make_attempt(ticket, *, at, channel="phone", result="no_answer", agent=None):
    return ContactAttempt.objects.create(ticket=ticket, agent=agent, channel=channel, result=result, created_at=at)


def days_ago(days, hours=0):
    return timezone.now() - dt.timedelta(days=days, hours=hours)

"""What review events mean (API.md § Push review events, Meaning and Precise rules): late and
out-of-order events, tiers, the shop's rules, revised/deleted/follow-up/replied, reopening, and
verified outcomes."""

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from django.utils import timezone as dj_timezone

from reviews.models import InboundEvent, Review
from tickets.models import Ticket

from .conftest import event

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=8)))
ACTOR = "API key: shop A sync"


def at(minutes):
    return (BASE + timedelta(minutes=minutes)).isoformat()


def created(minutes=0, review_id="r-1", **overrides):
    """A full review.created event (negative, 1 star, unless overridden)."""
    return event(event_id=f"created-{review_id}-{minutes}", occurred_at=at(minutes), review_id=review_id, **overrides)


def later(kind, minutes, review_id="r-1", **fields):
    """A minimal event of another type, as a platform sends it: no order, buyer or item."""
    data = {
        "event_id": f"{kind}-{review_id}-{minutes}",
        "type": f"review.{kind}",
        "occurred_at": at(minutes),
        "platform": "taobao",
        "shop": "tb-a",
        "review_id": review_id,
    }
    data.update(fields)
    return data


def revised(minutes, review_id="r-1", **rating):
    return later("revised", minutes, review_id, rating=rating)


def followup(minutes, review_id="r-1", **fields):
    return later("followup", minutes, review_id, followup={"content": "用了几天又坏了", **fields})


@pytest.fixture
def send(push):
    """Push events one request each; returns each one's result."""

    def _send(*events):
        results = []
        for data in events:
            response = push(data)
            assert response.status_code == 200, response.json()
            results.append(response.json()["results"][0])
        return results

    return _send


def timeline(ticket):
    return list(ticket.timeline.values_list("kind", "from_status", "to_status"))


def close_as_agent(ticket, status, outcome):
    """What an agent's outcome claim leaves behind: a closed ticket with an unverified outcome."""
    now = dj_timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(
        status=status,
        outcome=outcome,
        outcome_verified=False,
        closed_at=now,
        resolved_at=now if status == "resolved" else None,
    )


# Late and out-of-order events -----------------------------------------------------------------------------


def test_an_older_revision_after_a_newer_one_is_ignored_and_never_rolls_the_review_back(send):
    [opened] = send(created(0))
    send(revised(20, stars=5))
    [late] = send(revised(10, stars=1, tier="negative"))
    assert late == {
        "index": 0,
        "event_id": "revised-r-1-10",
        "review_id": "r-1",
        "status": "ignored",
        "ticket_id": opened["ticket_id"],
    }
    review = Review.objects.get()
    assert (review.tier, review.stars, review.state_occurred_at.isoformat()) == (
        "positive",
        5,
        "2026-03-02T02:20:00+00:00",
    )
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.outcome, ticket.outcome_verified) == ("resolved", "revised_positive", True)
    assert InboundEvent.objects.get(event_id="revised-r-1-10").status == "ignored"


def test_an_older_created_event_with_nothing_new_is_ignored(send):
    send(created(10, rating={"stars": 2}))
    [late] = send(created(0, rating={"stars": 1}, content="更早的内容"))
    assert late["status"] == "ignored"
    review = Review.objects.get()
    assert (review.tier, review.stars, review.content) == ("neutral", 2, "快递太慢了，衣服有线头")
    assert Ticket.objects.get().tier == "neutral"


def test_a_review_whose_newest_state_is_positive_opens_no_ticket_when_the_negative_one_arrives_late(send):
    [first] = send(revised(10, stars=5))
    [late] = send(created(0))
    assert (first["status"], first["ticket_id"]) == ("created", None)
    # The late event only fills in what the revision did not carry (order, buyer, item).
    assert (late["status"], late["ticket_id"]) == ("updated", None)
    review = Review.objects.select_related("buyer").get()
    assert (review.tier, review.stars, review.order_id, review.buyer.open_id) == (
        "positive",
        5,
        "3901234567890",
        "buyer-open-1",
    )
    assert Ticket.objects.count() == 0


def test_a_deleted_review_stays_deleted_when_its_created_event_arrives_late(send):
    [deleted] = send(later("deleted", 10))
    [late] = send(created(0))
    assert (deleted["status"], deleted["ticket_id"]) == ("created", None)
    assert late["ticket_id"] is None
    assert Review.objects.get().state == "deleted"
    assert Ticket.objects.count() == 0


def test_out_of_order_events_in_one_batch_open_no_ticket_for_a_review_that_ended_positive(push):
    response = push({"events": [revised(10, stars=5), created(0)]})
    assert [r["ticket_id"] for r in response.json()["results"]] == [None, None]
    assert Review.objects.get().tier == "positive"
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_in_any_arrival_order_a_review_that_ended_positive_has_no_open_ticket(send, order):
    events = [created(0), revised(10, stars=3), revised(20, stars=5)]
    send(*[events[i] for i in order])
    review = Review.objects.get()
    assert (review.tier, review.stars, review.state_occurred_at.isoformat()) == (
        "positive",
        5,
        "2026-03-02T02:20:00+00:00",
    )
    assert review.order_id == "3901234567890"
    tickets = list(Ticket.objects.values_list("status", "outcome", "outcome_verified"))
    assert tickets in ([], [("resolved", "revised_positive", True)])


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_in_any_arrival_order_a_negative_followup_before_a_revision_to_positive_leaves_no_open_ticket(send, order):
    events = [created(0), followup(10, negative=True), revised(20, stars=5)]
    send(*[events[i] for i in order])
    review = Review.objects.get()
    assert (review.tier, review.followup_negative) == ("positive", True)
    tickets = list(Ticket.objects.values_list("status", "outcome", "outcome_verified", "reopen_count"))
    assert tickets in ([], [("resolved", "revised_positive", True, 0)])


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_in_either_order_a_deleted_review_has_no_open_ticket(send, order):
    events = [created(0), later("deleted", 10)]
    send(*[events[i] for i in order])
    assert Review.objects.get().state == "deleted"
    assert list(Ticket.objects.values_list("status", "outcome", "outcome_verified")) in (
        [],
        [("resolved", "deleted_by_buyer", True)],
    )


def test_a_whole_life_in_one_batch_ends_as_it_does_one_event_at_a_time(push, send):
    def events_for(review_id):
        return [
            created(0, review_id=review_id),
            revised(10, review_id=review_id, stars=5),
            followup(20, review_id=review_id, negative=True),
        ]

    batch = push({"events": events_for("r-batch")}).json()["results"]
    one_by_one = send(*events_for("r-single"))
    assert [r["status"] for r in batch] == [r["status"] for r in one_by_one] == ["created", "updated", "updated"]
    in_batch = Ticket.objects.get(review__review_id="r-batch")
    single = Ticket.objects.get(review__review_id="r-single")
    assert [r["ticket_id"] for r in batch] == [in_batch.pk] * 3
    assert (in_batch.status, in_batch.reopen_count) == (single.status, single.reopen_count) == ("reopened", 1)
    assert timeline(in_batch) == timeline(single)


# Tiers and the shop's rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rating", "tier", "opens"),
    [
        ({"tier": "positive", "stars": 1}, "positive", False),
        ({"tier": "negative", "stars": 5}, "negative", True),
        ({"tier": "neutral", "stars": 5}, "neutral", True),
        ({"tier": "negative"}, "negative", True),
    ],
)
def test_the_tier_wins_when_tier_and_stars_disagree(send, rating, tier, opens):
    [result] = send(created(0, rating=rating))
    review = Review.objects.get()
    assert (review.tier, review.stars) == (tier, rating.get("stars"))
    assert Ticket.objects.filter(tier=tier).count() == (1 if opens else 0)
    assert (result["ticket_id"] is not None) == opens


@pytest.mark.parametrize(
    ("stars", "tier", "opens"),
    [(1, "negative", True), (2, "neutral", True), (3, "neutral", True), (4, "positive", False), (5, "positive", False)],
)
def test_without_a_tier_the_default_star_rule_decides(send, stars, tier, opens):
    send(created(0, rating={"stars": stars}))
    assert Review.objects.get().tier == tier
    assert list(Ticket.objects.values_list("tier", flat=True)) == ([tier] if opens else [])


@pytest.mark.parametrize(
    ("stars", "tier"), [(1, "negative"), (2, "negative"), (3, "neutral"), (4, "neutral"), (5, "positive")]
)
def test_a_shop_may_move_the_star_limits(send, shop_a, stars, tier):
    shop_a.negative_max_stars, shop_a.neutral_max_stars = 2, 4
    shop_a.save()
    send(created(0, rating={"stars": stars}))
    assert Review.objects.get().tier == tier


def test_a_shop_may_open_tickets_for_negative_reviews_only(send, shop_a):
    shop_a.ticket_tiers = ["negative"]
    shop_a.save()
    send(created(0, review_id="r-neutral", rating={"stars": 3}), created(0, review_id="r-negative"))
    assert list(Ticket.objects.values_list("review__review_id", flat=True)) == ["r-negative"]


def test_the_dsr_rule_is_off_until_the_shop_configures_it(send):
    send(created(0, rating={"stars": 5, "dsr": {"description": 1, "service": 1, "logistics": 1}}))
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize(
    ("dsr", "opens"),
    [
        ({"description": 5, "service": 2, "logistics": 5}, True),
        ({"description": 1, "service": 5, "logistics": 5}, True),
        ({"description": 3, "service": 3, "logistics": 3}, False),
        (None, False),
    ],
)
def test_with_a_dsr_threshold_a_score_at_or_below_it_opens_a_ticket(send, shop_a, dsr, opens):
    shop_a.dsr_ticket_threshold = 2
    shop_a.save()
    rating = {"stars": 5} if dsr is None else {"stars": 5, "dsr": dsr}
    [result] = send(created(0, rating=rating))
    assert Review.objects.get().tier == "positive"
    assert Ticket.objects.count() == (1 if opens else 0)
    assert (result["ticket_id"] is not None) == opens


# review.revised -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rating", [{"tier": "positive"}, {"stars": 5}, {"stars": 4}])
def test_a_revision_to_positive_closes_the_open_ticket_as_revised_positive_verified(send, rating):
    [opened] = send(created(0))
    [result] = send(revised(10, **rating))
    ticket = Ticket.objects.get()
    assert result == {
        "index": 0,
        "event_id": "revised-r-1-10",
        "review_id": "r-1",
        "status": "updated",
        "ticket_id": ticket.pk,
    }
    assert opened["ticket_id"] == ticket.pk
    assert (ticket.status, ticket.outcome, ticket.outcome_verified) == ("resolved", "revised_positive", True)
    assert ticket.closed_at is not None and ticket.resolved_at is not None
    assert timeline(ticket) == [("opened", "", "new"), ("closed", "new", "resolved")]
    closed = ticket.timeline.get(kind="closed")
    assert closed.data == {"outcome": "revised_positive", "verified": True}
    assert closed.actor_label == ACTOR


def test_a_revision_between_neutral_and_negative_keeps_the_open_ticket_and_notes_it(send):
    [opened] = send(created(0))
    [result] = send(revised(10, stars=3))
    ticket = Ticket.objects.get()
    assert result["ticket_id"] == opened["ticket_id"] == ticket.pk
    assert (ticket.status, ticket.tier) == ("new", "negative")
    assert Review.objects.get().tier == "neutral"
    assert timeline(ticket) == [("opened", "", "new"), ("review_revised", "", "")]
    assert ticket.timeline.get(kind="review_revised").data == {
        "from": {"tier": "negative", "stars": 1},
        "to": {"tier": "neutral", "stars": 3},
    }


def test_a_revision_to_neutral_of_a_positive_review_without_a_ticket_opens_one(send):
    [first] = send(created(0, rating={"stars": 5}))
    [result] = send(revised(10, stars=3))
    ticket = Ticket.objects.get()
    assert first["ticket_id"] is None
    assert (result["status"], result["ticket_id"]) == ("updated", ticket.pk)
    assert (ticket.status, ticket.tier) == ("new", "neutral")
    assert timeline(ticket) == [("opened", "", "new")]
    assert ticket.timeline.get().data == {"event": "review.revised", "tier": "neutral", "stars": 3}


def test_a_revision_to_negative_after_the_ticket_closed_opens_a_new_ticket(send):
    [opened] = send(created(0))
    send(revised(10, stars=5))
    [result] = send(revised(20, tier="negative"))
    first, second = Ticket.objects.order_by("id")
    assert opened["ticket_id"] == first.pk
    assert result["ticket_id"] == second.pk
    assert (first.status, first.outcome) == ("resolved", "revised_positive")
    assert (second.status, second.tier) == ("new", "negative")


def test_a_revision_of_an_unknown_review_is_stored_and_opens_a_ticket_when_negative(send):
    [result] = send(revised(0, stars=1))
    ticket = Ticket.objects.get()
    assert (result["status"], result["ticket_id"]) == ("created", ticket.pk)
    assert Review.objects.get().tier == "negative"


# review.deleted -------------------------------------------------------------------------------------------


def test_a_deletion_closes_the_open_ticket_as_deleted_by_buyer_verified(send):
    [opened] = send(created(0))
    [result] = send(later("deleted", 10))
    ticket = Ticket.objects.get()
    assert (result["status"], result["ticket_id"]) == ("updated", opened["ticket_id"])
    assert (ticket.status, ticket.outcome, ticket.outcome_verified) == ("resolved", "deleted_by_buyer", True)
    assert Review.objects.get().state == "deleted"
    assert timeline(ticket) == [("opened", "", "new"), ("closed", "new", "resolved")]


def test_a_deletion_of_an_unknown_review_is_stored_and_opens_nothing(send):
    [result] = send(later("deleted", 0, review_id="r-unknown"))
    assert result == {
        "index": 0,
        "event_id": "deleted-r-unknown-0",
        "review_id": "r-unknown",
        "status": "created",
        "ticket_id": None,
    }
    review = Review.objects.get()
    assert (review.review_id, review.state) == ("r-unknown", "deleted")
    assert InboundEvent.objects.get().status == "created"
    assert Ticket.objects.count() == 0


# review.replied -------------------------------------------------------------------------------------------


def test_a_reply_to_an_unknown_review_is_stored_and_opens_nothing(send):
    [result] = send(later("replied", 0, reply={"content": "亲，已为您补发"}))
    assert (result["status"], result["ticket_id"]) == ("created", None)
    review = Review.objects.get()
    assert (review.reply_content, review.replied_at.isoformat()) == ("亲，已为您补发", "2026-03-02T02:00:00+00:00")
    assert Ticket.objects.count() == 0


def test_a_reply_adds_a_timeline_event_to_the_ticket_and_changes_no_status(send):
    [opened] = send(created(0))
    [result] = send(later("replied", 10, reply={"content": "亲，已为您补发"}))
    ticket = Ticket.objects.get()
    assert (result["status"], result["ticket_id"]) == ("updated", opened["ticket_id"])
    assert ticket.status == "new"
    assert timeline(ticket) == [("opened", "", "new"), ("seller_replied", "", "")]
    reply = ticket.timeline.get(kind="seller_replied")
    assert (reply.data, reply.actor_label) == ({"content": "亲，已为您补发"}, ACTOR)
    assert Review.objects.get().reply_content == "亲，已为您补发"


def test_an_older_reply_than_the_stored_one_is_ignored(send):
    send(created(0), later("replied", 20, reply={"content": "新的解释"}))
    [late] = send(later("replied", 10, reply={"content": "旧的解释"}))
    assert late["status"] == "ignored"
    assert Review.objects.get().reply_content == "新的解释"
    assert Ticket.objects.get().timeline.filter(kind="seller_replied").count() == 1


# review.followup ------------------------------------------------------------------------------------------


def test_a_negative_followup_reopens_the_same_ticket_after_a_revision_to_positive(send):
    [opened] = send(created(0))
    send(revised(10, stars=5))
    [result] = send(followup(20, negative=True))
    ticket = Ticket.objects.get()
    assert (result["status"], result["ticket_id"]) == ("updated", opened["ticket_id"])
    assert (ticket.status, ticket.reopen_count, ticket.outcome, ticket.outcome_verified) == ("reopened", 1, "", False)
    assert (ticket.closed_at, ticket.resolved_at) == (None, None)
    assert timeline(ticket) == [
        ("opened", "", "new"),
        ("closed", "new", "resolved"),
        ("reopened", "resolved", "reopened"),
    ]
    assert ticket.timeline.get(kind="reopened").data == {"previous": {"outcome": "revised_positive", "verified": True}}


@pytest.mark.parametrize(("stars", "status"), [(1, "closed_unresolved"), (3, "closed_unresolved"), (2, "resolved")])
def test_an_unmarked_followup_reopens_a_closed_ticket_of_a_neutral_or_negative_review(send, stars, status):
    [opened] = send(created(0, rating={"stars": stars}))
    close_as_agent(Ticket.objects.get(), status, "buyer_refused")
    [result] = send(followup(10))
    ticket = Ticket.objects.get()
    assert result["ticket_id"] == opened["ticket_id"] == ticket.pk
    assert (ticket.status, ticket.reopen_count) == ("reopened", 1)
    assert timeline(ticket)[-1] == ("reopened", status, "reopened")


def test_a_followup_marked_not_negative_does_not_reopen(send):
    send(created(0))
    close_as_agent(Ticket.objects.get(), "closed_unresolved", "unreachable")
    [result] = send(followup(10, negative=False))
    ticket = Ticket.objects.get()
    assert result["ticket_id"] == ticket.pk
    assert (ticket.status, ticket.outcome, ticket.reopen_count) == ("closed_unresolved", "unreachable", 0)
    assert timeline(ticket) == [("opened", "", "new"), ("followup_added", "", "")]
    assert ticket.timeline.get(kind="followup_added").data == {"content": "用了几天又坏了", "negative": False}


def test_an_unmarked_followup_on_a_review_revised_to_positive_does_not_reopen(send):
    send(created(0), revised(10, stars=5))
    send(followup(20))
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.outcome, ticket.outcome_verified) == ("resolved", "revised_positive", True)
    assert timeline(ticket)[-1] == ("followup_added", "", "")


def test_a_followup_on_an_open_ticket_is_recorded_on_it_without_a_status_change(send):
    send(created(0))
    [result] = send(followup(10, negative=True, image_count=3))
    ticket = Ticket.objects.get()
    assert (result["ticket_id"], ticket.status, ticket.reopen_count) == (ticket.pk, "new", 0)
    review = Review.objects.get()
    assert (review.followup_content, review.followup_image_count, review.followup_negative) == (
        "用了几天又坏了",
        3,
        True,
    )
    assert review.followup_at.isoformat() == "2026-03-02T02:10:00+00:00"
    assert timeline(ticket) == [("opened", "", "new"), ("followup_added", "", "")]


def test_a_followup_of_a_positive_review_without_a_ticket_opens_nothing(send):
    send(created(0, rating={"stars": 5}))
    [result] = send(followup(10, negative=True))
    assert (result["status"], result["ticket_id"]) == ("updated", None)
    assert Ticket.objects.count() == 0


def test_an_older_followup_than_the_stored_one_is_ignored(send):
    send(created(0), followup(20, negative=False))
    [late] = send(later("followup", 10, followup={"content": "旧的追评", "negative": True}))
    assert late["status"] == "ignored"
    assert Review.objects.get().followup_content == "用了几天又坏了"


def test_a_negative_followup_older_than_a_revision_to_positive_does_not_reopen_the_ticket(send):
    """In platform order the follow-up came first and the revision closed the ticket after it,
    so whatever order the events arrive in, the ticket ends closed."""
    [opened] = send(created(0))
    send(revised(20, stars=5))
    [late] = send(followup(10, negative=True))
    ticket = Ticket.objects.get()
    assert late["ticket_id"] == opened["ticket_id"]
    assert (ticket.status, ticket.outcome, ticket.outcome_verified) == ("resolved", "revised_positive", True)
    assert Review.objects.get().followup_content == "用了几天又坏了"


def test_every_ticket_change_writes_a_timeline_event(send):
    send(
        created(0),
        revised(5, stars=3),
        later("replied", 6, reply={"content": "已联系买家"}),
        revised(10, stars=5),
        followup(15, negative=True),
        later("deleted", 20),
    )
    ticket = Ticket.objects.get()
    assert timeline(ticket) == [
        ("opened", "", "new"),
        ("review_revised", "", ""),
        ("seller_replied", "", ""),
        ("closed", "new", "resolved"),
        ("reopened", "resolved", "reopened"),
        ("closed", "reopened", "resolved"),
    ]
    assert set(ticket.timeline.values_list("actor_label", flat=True)) == {ACTOR}
    assert (ticket.status, ticket.outcome, ticket.outcome_verified, ticket.reopen_count) == (
        "resolved",
        "deleted_by_buyer",
        True,
        1,
    )


# Verified outcomes ----------------------------------------------------------------------------------------


def test_an_agent_claimed_revision_is_verified_by_the_platform_event(send):
    [opened] = send(created(0))
    close_as_agent(Ticket.objects.get(), "resolved", "revised_positive")
    [result] = send(revised(10, stars=5))
    ticket = Ticket.objects.get()
    assert result["ticket_id"] == opened["ticket_id"]
    assert (ticket.status, ticket.outcome, ticket.outcome_verified) == ("resolved", "revised_positive", True)
    assert timeline(ticket) == [("opened", "", "new"), ("outcome_verified", "", "")]
    assert ticket.timeline.get(kind="outcome_verified").data == {
        "outcome": "revised_positive",
        "claimed": "revised_positive",
        "verified": True,
    }


def test_an_unresolved_close_becomes_resolved_when_the_platform_reports_the_revision(send):
    send(created(0))
    close_as_agent(Ticket.objects.get(), "closed_unresolved", "buyer_refused")
    send(revised(10, stars=5))
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.outcome, ticket.outcome_verified) == ("resolved", "revised_positive", True)
    assert ticket.resolved_at is not None
    assert timeline(ticket) == [("opened", "", "new"), ("outcome_verified", "closed_unresolved", "resolved")]
    assert ticket.timeline.get(kind="outcome_verified").data["claimed"] == "buyer_refused"


def test_an_agent_claimed_deletion_is_verified_by_the_platform_event(send):
    send(created(0))
    close_as_agent(Ticket.objects.get(), "resolved", "deleted_by_buyer")
    send(later("deleted", 10))
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.outcome, ticket.outcome_verified) == ("resolved", "deleted_by_buyer", True)
    assert timeline(ticket)[-1] == ("outcome_verified", "", "")


def test_a_second_confirmation_of_a_verified_outcome_adds_nothing(send):
    send(created(0), revised(10, stars=5))
    send(revised(20, stars=4))
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.outcome, ticket.outcome_verified) == ("resolved", "revised_positive", True)
    assert timeline(ticket) == [("opened", "", "new"), ("closed", "new", "resolved")]

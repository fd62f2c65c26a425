"""The push API under concurrent clients, against the real PostgreSQL: every thread has its own
database connection and commits for real, so idempotency and row locks are what is tested."""

import random
import threading
from datetime import datetime, timedelta, timezone

import pytest
from django.db import connection
from django.db.models import Count
from rest_framework.test import APIClient

from contacts.models import Buyer
from reviews.models import InboundEvent, Review
from tickets.choices import OPEN_STATUSES
from tickets.models import Ticket, TicketEvent

from .conftest import event

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/review-events/"
BASE = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=8)))


def at(minutes):
    return (BASE + timedelta(minutes=minutes)).isoformat()


def push_at_once(key, bodies):
    """POST each body from its own thread, released together by a barrier; returns
    [(status code, JSON body)] in the order of `bodies`."""
    barrier = threading.Barrier(len(bodies))
    responses, errors = [None] * len(bodies), []

    def worker(index, body):
        try:
            client = APIClient()
            barrier.wait(timeout=30)
            response = client.post(URL, body, format="json", HTTP_AUTHORIZATION=f"Bearer {key}")
            responses[index] = (response.status_code, response.json())
        except BaseException as exc:  # reported in the test's thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=pair) for pair in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    return responses


def open_tickets_per_review():
    return dict(
        Ticket.objects.filter(status__in=OPEN_STATUSES)
        .values_list("review__review_id")
        .annotate(n=Count("id"))
        .values_list("review__review_id", "n")
    )


THREADS = 8


def test_the_same_event_pushed_by_many_clients_at_once_lands_exactly_once(key_a):
    responses = push_at_once(key_a, [event() for _ in range(THREADS)])
    ticket = Ticket.objects.get()
    assert [code for code, _body in responses] == [200] * THREADS
    results = [body["results"][0] for _code, body in responses]
    assert sorted(r["status"] for r in results) == ["created"] + ["duplicate"] * (THREADS - 1)
    assert {(r["event_id"], r["review_id"], r["ticket_id"]) for r in results} == {("e-1", "r-1", ticket.pk)}
    assert all(body["accepted"] == 1 and body["rejected"] == 0 for _code, body in responses)
    assert (Review.objects.count(), InboundEvent.objects.count(), Buyer.objects.count()) == (1, 1, 1)
    assert list(TicketEvent.objects.values_list("ticket_id", "kind")) == [(ticket.pk, "opened")]


def test_the_same_event_without_event_id_in_different_offsets_at_once_lands_exactly_once(key_a):
    same_instant = ["2026-03-02T10:15:00+08:00", "2026-03-02T02:15:00Z", "2026-03-02T03:15:00+01:00"]
    bodies = []
    for i in range(THREADS):
        data = event(occurred_at=same_instant[i % len(same_instant)])
        del data["event_id"]
        bodies.append(data)
    responses = push_at_once(key_a, bodies)
    ticket = Ticket.objects.get()
    assert [code for code, _body in responses] == [200] * THREADS
    results = [body["results"][0] for _code, body in responses]
    assert sorted(r["status"] for r in results) == ["created"] + ["duplicate"] * (THREADS - 1)
    assert {r["ticket_id"] for r in results} == {ticket.pk}
    assert (Review.objects.count(), InboundEvent.objects.count()) == (1, 1)


def test_different_events_about_one_new_review_at_once_give_one_review_and_one_ticket(key_a):
    responses = push_at_once(key_a, [event(event_id=f"e-{i}") for i in range(THREADS)])
    ticket = Ticket.objects.get()
    assert [code for code, _body in responses] == [200] * THREADS
    results = [body["results"][0] for _code, body in responses]
    # The first to lock the review creates it; the rest describe the same instant: nothing new.
    assert sorted(r["status"] for r in results) == ["created"] + ["ignored"] * (THREADS - 1)
    assert {r["ticket_id"] for r in results} == {ticket.pk}
    assert (Review.objects.count(), InboundEvent.objects.count(), Buyer.objects.count()) == (1, THREADS, 1)


def test_a_negative_review_and_its_revision_to_positive_racing_end_with_no_open_ticket(key_a):
    reviews = [f"r-{i}" for i in range(20)]
    negatives = {"events": [event(event_id=f"c-{r}", review_id=r, occurred_at=at(0)) for r in reviews]}
    positives = {
        "events": [
            {
                "event_id": f"v-{r}",
                "type": "review.revised",
                "occurred_at": at(10),
                "platform": "taobao",
                "shop": "tb-a",
                "review_id": r,
                "rating": {"stars": 5},
            }
            for r in reversed(reviews)
        ]
    }
    responses = push_at_once(key_a, [negatives, positives])
    assert [(code, body["accepted"]) for code, body in responses] == [(200, 20), (200, 20)]
    assert set(Review.objects.values_list("tier", "stars")) == {("positive", 5)}
    assert open_tickets_per_review() == {}
    assert set(Ticket.objects.values_list("status", "outcome", "outcome_verified")) <= {
        ("resolved", "revised_positive", True)
    }


def test_overlapping_batches_from_many_clients_all_land_with_one_open_ticket_per_review(key_a):
    review_ids = [f"r-{i:02d}" for i in range(24)]
    bodies = []
    for client in range(6):
        rng = random.Random(client)
        chosen = rng.sample(review_ids, 18)
        events = []
        for n, review_id in enumerate(chosen):
            stars = rng.choice([1, 2, 3])
            events.append(
                event(
                    event_id=f"c{client}-{review_id}",
                    review_id=review_id,
                    occurred_at=at(client * 60 + n),
                    rating={"stars": stars},
                    buyer={"id": f"b-{int(review_id[2:]) % 5}", "nick": f"买家{client}"},
                )
            )
            if n % 3 == 0:
                events.append(
                    {
                        "event_id": f"f{client}-{review_id}",
                        "type": "review.followup",
                        "occurred_at": at(client * 60 + n + 30),
                        "platform": "taobao",
                        "shop": "tb-a",
                        "review_id": review_id,
                        "followup": {"content": "追评", "negative": True},
                    }
                )
        bodies.append({"events": events})

    responses = push_at_once(key_a, bodies)
    sent = sum(len(body["events"]) for body in bodies)
    assert [code for code, _body in responses] == [200] * len(bodies)
    assert [body["accepted"] for _code, body in responses] == [len(body["events"]) for body in bodies]
    assert all(r["status"] in ("created", "updated", "ignored") for _c, body in responses for r in body["results"])
    touched = {e["review_id"] for body in bodies for e in body["events"]}
    assert Review.objects.count() == len(touched)
    assert open_tickets_per_review() == dict.fromkeys(sorted(touched), 1)
    assert Ticket.objects.count() == len(touched)
    assert InboundEvent.objects.count() == sent
    assert Buyer.objects.count() == 5
    # Every result names the ticket of its review.
    ticket_of = dict(Ticket.objects.values_list("review__review_id", "id"))
    assert all(r["ticket_id"] == ticket_of[r["review_id"]] for _c, body in responses for r in body["results"])

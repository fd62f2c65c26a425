import pytest

from reviews.models import InboundEvent, Review
from tickets.models import Ticket

from .conftest import event

pytestmark = pytest.mark.django_db


def test_a_negative_review_opens_one_ticket(push):
    response = push(event())
    assert response.status_code == 200
    body = response.json()
    ticket = Ticket.objects.get()
    assert body == {
        "accepted": 1,
        "rejected": 0,
        "results": [{"index": 0, "event_id": "e-1", "review_id": "r-1", "status": "created", "ticket_id": ticket.pk}],
    }
    assert ticket.status == "new" and ticket.tier == "negative"
    assert Review.objects.get().tier == "negative"


def test_the_same_event_twice_gives_one_review_and_one_ticket(push):
    first = push(event()).json()["results"][0]
    second = push(event(content="changed payload")).json()["results"][0]
    assert second["status"] == "duplicate"
    assert second["ticket_id"] == first["ticket_id"]
    assert Review.objects.count() == 1 and Ticket.objects.count() == 1
    assert Review.objects.get().content == "快递太慢了，衣服有线头"
    assert InboundEvent.objects.count() == 1

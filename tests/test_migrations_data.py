"""Data migrations do what they say on existing rows."""

import importlib

import pytest
from django.apps import apps

from tickets.models import Ticket

from .conftest import event

pytestmark = pytest.mark.django_db

backfill = importlib.import_module("tickets.migrations.0007_backfill_ticket_items")


def test_tickets_opened_before_statistics_get_their_sku_and_item_title_from_the_review(push):
    push(event())
    push(event(event_id="e-2", review_id="r-2", item={"id": "9", "sku": "KEEP", "title": "已有"}))
    Ticket.objects.filter(review__review_id="r-1").update(item_sku="", item_title="")
    Ticket.objects.filter(review__review_id="r-2").update(item_sku="KEEP-OWN", item_title="自己的")

    backfill.copy_items_from_reviews(apps, None)

    assert dict(Ticket.objects.values_list("review__review_id", "item_sku")) == {"r-1": "6523-BLK-M", "r-2": "KEEP-OWN"}
    assert Ticket.objects.get(review__review_id="r-1").item_title == "加厚保暖羽绒服"

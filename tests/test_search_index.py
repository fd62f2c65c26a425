"""The queue's keyword search (`q`: order id, buyer nick, review text) is trigram-indexed on
PostgreSQL: the indexes exist and match the expression Django's `icontains` compares on."""

import pytest
from django.db import connection

from contacts.models import Buyer
from reviews.models import Review

pytestmark = pytest.mark.django_db

INDEXES = {"review_order_id_trgm", "review_content_trgm", "buyer_nick_trgm"}


def test_the_search_indexes_exist_as_gin_trigram_indexes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [sorted(INDEXES)])
        found = dict(cursor.fetchall())
    assert set(found) == INDEXES
    assert all("USING gin" in d and "gin_trgm_ops" in d and "upper(" in d for d in found.values())


@pytest.mark.parametrize(
    ("queryset", "index"),
    [
        (lambda: Review.objects.filter(content__icontains="衣服有线头").order_by(), "review_content_trgm"),
        (lambda: Review.objects.filter(order_id__icontains="3901").order_by(), "review_order_id_trgm"),
        (lambda: Buyer.objects.filter(nick__icontains="tony").order_by(), "buyer_nick_trgm"),
    ],
)
def test_an_icontains_search_can_use_its_trigram_index(queryset, index):
    with connection.cursor() as cursor:
        # An empty table is cheapest to scan; forbid that to see whether the index applies at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = queryset().query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan

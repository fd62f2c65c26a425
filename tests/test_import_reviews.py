import io
import json
import re
import sys
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError

from contacts.models import Buyer
from reviews.management.commands import import_reviews
from reviews.models import InboundEvent, Review
from tickets.models import Ticket

from .conftest import event

pytestmark = pytest.mark.django_db

HEADER = (
    "event_id,review_id,occurred_at,order_id,buyer.id,buyer.nick,buyer.region,item.sku,item.title,item.price,"
    "rating.stars,rating.tier,rating.dsr.description,rating.dsr.service,rating.dsr.logistics,content,image_count"
)


def row(n, *, stars="5", tier="", price="59.90", buyer=None, content="挺好的", dsr=("5", "5", "5")):
    buyer = f"buyer-{n}" if buyer is None else buyer
    cells = [
        f"e-{n}",
        f"r-{n}",
        "2026-03-02T10:15:00+08:00",
        f"39012345678{n:02d}",
        buyer,
        "t**y",
        "浙江 杭州",
        "6523-BLK-M",
        "加厚保暖羽绒服",
        price,
        stars,
        tier,
        *dsr,
        content,
        "0",
    ]
    return ",".join(cells)


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return str(path)


def run(*args):
    """Run the command as the shell would: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_reviews", *args, "--no-progress", stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue() + f"CommandError: {exc}\n"
    return 0, out.getvalue(), err.getvalue()


def summary(output):
    return {m[1]: int(m[2].replace(",", "")) for m in re.finditer(r"^  ([a-z ]+?)\s+([\d,]+)$", output, re.MULTILINE)}


def test_a_csv_file_stores_every_row_and_opens_tickets_for_the_neutral_and_negative_ones(shop_a, tmp_path):
    lines = [HEADER, row(1, stars="1", dsr=("2", "3", "1")), row(2, stars="", tier="neutral"), row(3)]
    status, out, err = run(write(tmp_path, "reviews.csv", "\n".join(lines) + "\n"), "--shop", "tb-a")
    assert (status, err) == (0, "")
    assert summary(out) == {
        "read": 3,
        "created": 3,
        "updated": 0,
        "duplicate": 0,
        "ignored": 0,
        "rejected": 0,
        "tickets opened": 2,
    }
    first = Review.objects.get(review_id="r-1")
    assert (first.platform, first.tier, first.stars, first.dsr) == (
        "taobao",
        "negative",
        1,
        {"description": 2, "service": 3, "logistics": 1},
    )
    assert (first.item_sku, first.item_price, first.buyer.open_id) == ("6523-BLK-M", Decimal("59.90"), "buyer-1")
    assert Review.objects.get(review_id="r-2").stars is None
    assert sorted(Ticket.objects.values_list("review__review_id", "tier")) == [("r-1", "negative"), ("r-2", "neutral")]
    assert set(InboundEvent.objects.values_list("source", "event_type")) == {("import", "review.created")}


def test_a_jsonl_file_applies_every_event_type_in_order(shop_a, tmp_path):
    events = [
        event(event_id="e-1"),
        event(
            event_id="e-2",
            type="review.replied",
            occurred_at="2026-03-02T12:00:00+08:00",
            reply={"content": "亲，非常抱歉，客服会联系您处理。"},
        ),
        event(
            event_id="e-3",
            type="review.revised",
            occurred_at="2026-03-04T09:00:00+08:00",
            rating={"tier": "positive"},
            content="问题解决了",
        ),
    ]
    text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)
    status, out, _err = run(write(tmp_path, "events.jsonl", text), "--shop", "tb-a")
    assert status == 0
    assert summary(out) == {
        "read": 3,
        "created": 1,
        "updated": 2,
        "duplicate": 0,
        "ignored": 0,
        "rejected": 0,
        "tickets opened": 1,
    }
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.outcome, ticket.outcome_verified) == ("resolved", "revised_positive", True)
    review = Review.objects.get()
    assert (review.tier, review.content, review.reply_content) == (
        "positive",
        "问题解决了",
        "亲，非常抱歉，客服会联系您处理。",
    )


def test_bad_rows_are_listed_by_line_number_and_none_of_them_is_stored(shop_a, tmp_path):
    lines = [
        HEADER,  # line 1
        row(2, stars="1"),  # line 2: fine
        row(3, stars="6"),  # line 3: stars out of range
        "",  # line 4: blank, skipped
        row(5, buyer=""),  # line 5: no buyer id
        row(6, stars="1", content='"两行的\n评价内容"'),  # lines 6-7: fine, a quoted cell over two lines
        row(8, price="12.345", stars="five"),  # line 8: two problems
    ]
    status, out, err = run(write(tmp_path, "reviews.csv", "\n".join(lines) + "\n"), "--shop", "tb-a")
    assert status == 1
    assert err.splitlines() == [
        "line 3 (review r-3): rating.stars: Must be between 1 and 5.",
        "line 5 (review r-5): buyer.id: This field is required.",
        "line 8 (review r-8): item.price: At most 2 decimal places.; rating.stars: Must be a whole number.",
        "CommandError: 3 row(s) rejected (listed above); the other rows were stored. "
        "Fix those rows and re-run the file: rows already stored come back as duplicates.",
    ]
    assert summary(out)["read"] == 5
    assert (summary(out)["created"], summary(out)["rejected"], summary(out)["tickets opened"]) == (2, 3, 2)
    assert sorted(Review.objects.values_list("review_id", flat=True)) == ["r-2", "r-6"]
    assert Review.objects.get(review_id="r-6").content == "两行的\n评价内容"
    assert sorted(InboundEvent.objects.values_list("platform_review_id", flat=True)) == ["r-2", "r-6"]
    assert sorted(Buyer.objects.values_list("open_id", flat=True)) == ["buyer-2", "buyer-6"]


def test_running_the_same_file_twice_gives_duplicates_and_no_new_ticket(shop_a, tmp_path):
    path = write(tmp_path, "reviews.csv", "\n".join([HEADER, row(1, stars="1"), row(2)]) + "\n")
    assert run(path, "--shop", "tb-a")[0] == 0
    status, out, _err = run(path, "--shop", "tb-a")
    assert status == 0
    assert summary(out) == {
        "read": 2,
        "created": 0,
        "updated": 0,
        "duplicate": 2,
        "ignored": 0,
        "rejected": 0,
        "tickets opened": 0,
    }
    assert (Review.objects.count(), Ticket.objects.count(), InboundEvent.objects.count()) == (2, 1, 2)


def test_stdin_is_read_when_the_file_is_a_dash_and_the_format_is_given(shop_a, monkeypatch):
    text = json.dumps(event(), ensure_ascii=False) + "\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    status, out, _err = run("-", "--shop", "tb-a", "--format", "jsonl")
    assert status == 0
    assert out.startswith("Imported stdin into tb-a")
    assert summary(out)["created"] == 1
    assert InboundEvent.objects.get().source == "import"


def test_stdin_without_a_format_is_refused_before_reading(shop_a, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"{}\n")))
    status, _out, err = run("-", "--shop", "tb-a")
    assert status == 1
    assert "Reading stdin: say --format csv or --format jsonl." in err


def test_rows_of_another_shop_or_platform_are_rejected_and_the_others_land(shop_a, shop_b, tmp_path):
    events = [event(event_id="e-1", review_id="r-1"), event(event_id="e-2", review_id="r-2", shop="jd-b")]
    events.append(event(event_id="e-3", review_id="r-3", platform="jd"))
    text = "\n".join(json.dumps(e, ensure_ascii=False) for e in events)
    status, out, err = run(write(tmp_path, "events.ndjson", text), "--shop", "tb-a")
    assert status == 1
    assert err.splitlines()[:2] == [
        "line 2 (review r-2): shop: Belongs to 'jd-b', not to --shop tb-a.",
        "line 3 (review r-3): platform: Must be taobao, the shop's platform.",
    ]
    assert summary(out)["rejected"] == 2
    assert list(Review.objects.values_list("shop__external_id", "review_id")) == [("tb-a", "r-1")]


def test_an_unknown_shop_is_a_command_error_and_stores_nothing(shop_a, tmp_path):
    status, out, err = run(write(tmp_path, "reviews.csv", HEADER + "\n" + row(1) + "\n"), "--shop", "tb-nope")
    assert status == 1
    assert "Unknown shop 'tb-nope'" in err
    assert out == ""
    assert Review.objects.count() == 0


def test_a_file_that_is_not_utf8_is_refused_with_the_line_number_and_nothing_is_stored(shop_a, tmp_path):
    data = (HEADER + "\n" + row(2) + "\n").encode() + (row(3, content="质量太差") + "\n").encode("gbk")
    status, out, err = run(write(tmp_path, "reviews.csv", data), "--shop", "tb-a")
    assert status == 1
    assert re.search(r"The file is not valid utf-8: line 3, byte \d+ \(0x[0-9a-f]{2}\)\. Nothing was imported\.", err)
    assert "--encoding (e.g. gb18030)" in err
    assert out == ""
    assert Review.objects.count() == 0


def test_a_gb18030_file_imports_with_the_encoding_option(shop_a, tmp_path):
    path = write(tmp_path, "reviews.csv", HEADER + "\n" + row(1, content="质量太差", stars="1") + "\n", "gb18030")
    status, _out, _err = run(path, "--shop", "tb-a", "--encoding", "gb18030")
    assert status == 0
    assert Review.objects.get().content == "质量太差"


def test_a_byte_order_mark_crlf_line_ends_and_blank_lines_are_tolerated(shop_a, tmp_path):
    text = "\ufeff" + HEADER + "\r\n\r\n" + row(1) + "\r\n   \r\n" + row(2) + "\r\n\r\n"
    status, out, err = run(write(tmp_path, "reviews.csv", text), "--shop", "tb-a")
    assert (status, err) == (0, "")
    assert summary(out)["read"] == 2
    assert sorted(Review.objects.values_list("review_id", "content")) == [("r-1", "挺好的"), ("r-2", "挺好的")]


def test_a_json_line_that_does_not_parse_is_rejected_with_its_line_number(shop_a, tmp_path):
    text = json.dumps(event()) + "\n\n" + '{"type": "review.created",\n' + "[1, 2]\n"
    status, out, err = run(write(tmp_path, "events.jsonl", text), "--shop", "tb-a")
    assert status == 1
    lines = err.splitlines()
    assert lines[0].startswith("line 3: event: Not valid JSON")
    assert lines[1] == "line 4: event: An event must be a JSON object."
    assert (summary(out)["read"], summary(out)["created"], summary(out)["rejected"]) == (3, 1, 2)


def test_csv_cells_are_typed_and_defaults_come_from_the_shop(shop_a, tmp_path):
    text = (
        "review_id,occurred_at,type,rating.tier,followup.content,followup.negative,image_count,extra\n"
        "r-1,2026-03-02T10:15:00+08:00,review.followup,,又坏了,是,\n"
        "r-2,2026-03-02T10:15:00+08:00,review.followup,,还行,maybe,2\n"
    )
    status, _out, err = run(write(tmp_path, "followups.csv", text), "--shop", "tb-a")
    assert status == 1
    assert err.splitlines()[:2] == [
        "Ignoring unknown column(s): extra.",
        "line 3 (review r-2): followup.negative: Must be true or false.",
    ]
    review = Review.objects.get()
    assert (review.shop_id, review.platform, review.followup_content, review.followup_negative) == (
        shop_a.pk,
        "taobao",
        "又坏了",
        True,
    )


def test_a_csv_header_without_review_id_is_a_command_error(shop_a, tmp_path):
    status, _out, err = run(
        write(tmp_path, "reviews.csv", "id,occurred_at\nr-1,2026-03-02T10:15:00+08:00\n"), "--shop", "tb-a"
    )
    assert status == 1
    assert "The CSV header has no review_id column" in err


def test_a_file_with_an_unknown_extension_needs_a_format(shop_a, tmp_path):
    status, _out, err = run(write(tmp_path, "reviews.txt", ""), "--shop", "tb-a")
    assert status == 1
    assert "pass --format csv or jsonl" in err


def test_a_row_the_database_refuses_is_reported_and_its_chunk_neighbours_still_land(shop_a, tmp_path, monkeypatch):
    real = import_reviews.review_events_ingest

    def refuse_r2(items, **kwargs):
        if any(event.review_id == "r-2" for _i, event, _s in items):
            raise IntegrityError("value violates a constraint")
        return real(items, **kwargs)

    monkeypatch.setattr(import_reviews, "review_events_ingest", refuse_r2)
    path = write(tmp_path, "reviews.csv", "\n".join([HEADER, row(1), row(2), row(3)]) + "\n")
    status, out, err = run(path, "--shop", "tb-a")
    assert status == 1
    assert err.splitlines()[0] == "line 3 (review r-2): event: The database refused it: value violates a constraint"
    assert (summary(out)["created"], summary(out)["rejected"]) == (2, 1)
    assert sorted(Review.objects.values_list("review_id", flat=True)) == ["r-1", "r-3"]


def test_the_summary_names_the_file_and_the_shop_and_lists_every_count(shop_a, tmp_path):
    path = write(tmp_path, "reviews.csv", "\n".join([HEADER, row(1, stars="1")]) + "\n")
    _status, out, _err = run(path, "--shop", "tb-a")
    assert out == (
        "Imported reviews.csv into tb-a (taobao, 甲店):\n"
        "  read                   1\n"
        "  created                1\n"
        "  updated                0\n"
        "  duplicate              0\n"
        "  ignored                0\n"
        "  rejected               0\n"
        "  tickets opened         1\n"
    )

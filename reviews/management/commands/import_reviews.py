"""Backfill review events from a CSV or JSON-lines file through the same ingest service as the push API."""

import codecs
import csv
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import orjson
from django.core.management.base import BaseCommand, CommandError
from django.db import DataError, IntegrityError
from django.db.models import Max
from tqdm import tqdm

from reviews.choices import EventSource, EventStatus, EventType
from reviews.models import Shop
from reviews.services import EventResult, review_events_ingest
from reviews.validation import EventInvalid, validate_event
from tickets.models import Ticket

CHUNK_SIZE = 500  # the ingest service is one transaction per call; 500 is what the push API batches
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}

# CSV columns: API.md's event fields, nested objects flattened with dots. Others are ignored.
CSV_COLUMNS = frozenset(
    {
        "event_id",
        "type",
        "occurred_at",
        "platform",
        "shop",
        "review_id",
        "order_id",
        "sub_order_id",
        "buyer.id",
        "buyer.nick",
        "buyer.phone",
        "buyer.region",
        "item.id",
        "item.sku",
        "item.title",
        "item.price",
        "item.sku_text",
        "rating.tier",
        "rating.stars",
        "rating.dsr.description",
        "rating.dsr.service",
        "rating.dsr.logistics",
        "content",
        "image_count",
        "followup.content",
        "followup.image_count",
        "followup.negative",
        "reply.content",
    }
)
_INT_COLUMNS = frozenset(
    {
        "rating.stars",
        "rating.dsr.description",
        "rating.dsr.service",
        "rating.dsr.logistics",
        "image_count",
        "followup.image_count",
    }
)
_BOOL_COLUMNS = frozenset({"followup.negative"})
_INT_RE = re.compile(r"[+-]?\d+(?:\.0*)?")  # spreadsheets like to write 5 as 5.0
_TRUE = frozenset({"true", "t", "yes", "y", "1", "是"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "否"})
_MAX_DECODE_ERRORS = 5


class Command(BaseCommand):
    help = (
        "Backfill review events from a CSV or JSON-lines file (or - for stdin) into one shop, through the same "
        "validation and ingest service as the push API (source: import). CSV: a header row of API.md field names, "
        "nested ones flattened with dots (buyer.id, rating.stars, rating.dsr.description, item.price, "
        "followup.negative); empty cells are absent; type defaults to review.created, platform to the shop's, "
        "shop to --shop. JSON lines: one API.md event per line. Each row is stored whole or not at all; bad rows are "
        "listed with their line number and the file's other rows still land. Re-running a file is safe: its events "
        "come back as duplicates. Exit status: 0 when every row was accepted, 1 when any row was rejected or the "
        "import could not run."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .csv, .jsonl or .ndjson file, or - to read stdin (then give --format).")
        parser.add_argument("--shop", required=True, help="The shop's external id; every row must belong to it.")
        parser.add_argument(
            "--format", dest="file_format", choices=["csv", "jsonl"], help="Override detection by file extension."
        )
        parser.add_argument(
            "--encoding", default="utf-8", help="The file's text encoding (default utf-8; e.g. gb18030 for Excel)."
        )
        parser.add_argument("--no-progress", action="store_true", help="Do not show the progress bar.")

    def handle(self, *args, file, shop, file_format, encoding, no_progress, **options):
        shop_obj = _shop_or_error(shop)
        file_format = _format_or_error(file, file_format)
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise CommandError(f"Unknown encoding {encoding!r}.")
        stream = options.get("stderr") or sys.stderr

        def warn(message):
            tqdm.write(message, file=stream)  # above the progress bar, not through it

        label = "stdin" if file == "-" else Path(file).name

        with _open_spooled(file) as raw:
            line_count = _check_decodes(raw, encoding)
            progress = tqdm(
                total=line_count,
                unit=" lines",
                desc=f"import {label}",
                file=stream,
                disable=no_progress or not stream.isatty(),
                mininterval=0.5,
            )
            with progress:
                lines = _decoded_lines(raw, encoding, progress)
                rows = _csv_rows(lines, shop_obj, warn) if file_format == "csv" else _jsonl_rows(lines)
                counts = self._import(rows, shop_obj, f"File import: {label}", stream)

        self._summary(counts, label, shop_obj)
        if counts["rejected"]:
            raise CommandError(
                f"{counts['rejected']} row(s) rejected (listed above); the other rows were stored. "
                "Fix those rows and re-run the file: rows already stored come back as duplicates."
            )

    def _import(self, rows, shop, actor_label, stream):
        counts = Counter()
        tickets_before = Ticket.objects.aggregate(top=Max("id"))["top"] or 0
        ticket_ids, pending = set(), []

        def reject(line, fields, review_id=None):
            counts["rejected"] += 1
            where = f"line {line}" + (f" (review {review_id})" if review_id else "")
            problems = "; ".join(f"{path or 'event'}: {' '.join(msgs)}" for path, msgs in fields.items())
            tqdm.write(f"{where}: {problems}", file=stream)

        def flush():
            for result, line in self._ingest(pending, actor_label):
                if result.status == EventStatus.REJECTED:
                    reject(line, result.error["fields"], result.review_id)
                    continue
                counts[result.status] += 1
                if result.status != EventStatus.DUPLICATE and result.ticket_id is not None:
                    ticket_ids.add(result.ticket_id)
            pending.clear()

        for line, data, problems in rows:
            counts["read"] += 1
            if problems:
                reject(line, problems)
                continue
            try:
                event = validate_event(data)
            except EventInvalid as exc:
                review_id = data.get("review_id") if isinstance(data, dict) else None
                reject(line, exc.fields, review_id if isinstance(review_id, str) else None)
                continue
            if event.shop != shop.external_id:
                reject(
                    line, {"shop": [f"Belongs to {event.shop!r}, not to --shop {shop.external_id}."]}, event.review_id
                )
            elif event.platform != shop.platform:
                reject(line, {"platform": [f"Must be {shop.platform}, the shop's platform."]}, event.review_id)
            else:
                pending.append((line, event, shop))
                if len(pending) >= CHUNK_SIZE:
                    flush()
        if pending:
            flush()
        counts["tickets_opened"] = sum(1 for pk in ticket_ids if pk > tickets_before)
        return counts

    def _ingest(self, items, actor_label):
        """Yield (EventResult, line) for each item of a chunk."""
        # A chunk the database refuses is retried row by row, so one unstorable row is reported
        # instead of sinking its 499 neighbours.
        try:
            results = review_events_ingest(items, source=EventSource.IMPORT, actor_label=actor_label)
        except (IntegrityError, DataError):
            results = None
        if results is not None:
            yield from ((result, result.index) for result in results)
            return
        for item in items:
            line, event, _shop = item
            try:
                (result,) = review_events_ingest([item], source=EventSource.IMPORT, actor_label=actor_label)
            except (IntegrityError, DataError) as exc:
                result = _refused(line, event, exc)
            yield result, line

    def _summary(self, counts, label, shop):
        self.stdout.write(f"Imported {label} into {shop.external_id} ({shop.platform}, {shop.name}):")
        for key, title in (
            ("read", "read"),
            ("created", "created"),
            ("updated", "updated"),
            ("duplicate", "duplicate"),
            ("ignored", "ignored"),
            ("rejected", "rejected"),
            ("tickets_opened", "tickets opened"),
        ):
            self.stdout.write(f"  {title:<15}{counts[key]:>9,}")


def _refused(line, event, exc):
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return EventResult(
        index=line,
        event_id=event.event_id,
        review_id=event.review_id,
        status=EventStatus.REJECTED,
        error={"code": "not_stored", "message": message, "fields": {"": [f"The database refused it: {message}"]}},
    )


def _shop_or_error(external_id):
    shop = Shop.objects.filter(external_id=external_id).first()
    if shop is None:
        raise CommandError(f"Unknown shop {external_id!r}. Create it first: manage.py create_shop.")
    if not shop.is_active:
        raise CommandError(f"Shop {external_id!r} is inactive.")
    return shop


def _format_or_error(file, given):
    if given:
        return given
    if file == "-":
        raise CommandError("Reading stdin: say --format csv or --format jsonl.")
    detected = FORMATS.get(Path(file).suffix.lower())
    if detected is None:
        raise CommandError(f"Cannot tell the format of {file!r} from its extension; pass --format csv or jsonl.")
    return detected


class _open_spooled:
    """The input as a seekable binary file: the file itself, or stdin spooled to memory or disk."""

    # Seekable, so the whole input is checked for encoding before anything is stored.

    def __init__(self, file):
        self.file = file
        self.handle = None

    def __enter__(self):
        if self.file == "-":
            self.handle = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
            shutil.copyfileobj(sys.stdin.buffer, self.handle)
            self.handle.seek(0)
            return self.handle
        try:
            self.handle = open(self.file, "rb")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Cannot read {self.file}: {exc.strerror}.")
        return self.handle

    def __exit__(self, *exc_info):
        self.handle.close()


def _decode(raw_line, line_no, encoding):
    # The BOM that Excel and Notepad put first would otherwise glue itself to the first column name.
    codec = "utf-8-sig" if line_no == 1 and codecs.lookup(encoding).name == "utf-8" else encoding
    return raw_line.decode(codec)


def _check_decodes(raw, encoding):
    """Count the lines, refusing the whole file (before storing anything) when one does not decode."""
    bad, count = [], 0
    for count, raw_line in enumerate(raw, start=1):  # noqa: B007
        try:
            _decode(raw_line, count, encoding)
        except UnicodeDecodeError as exc:
            bad.append(f"line {count}, byte {exc.start + 1} (0x{raw_line[exc.start]:02x})")
            if len(bad) == _MAX_DECODE_ERRORS:
                break
    if bad:
        is_utf8 = codecs.lookup(encoding).name == "utf-8"
        hint = " Save the file as UTF-8, or pass --encoding (e.g. gb18030)." if is_utf8 else ""
        raise CommandError(f"The file is not valid {encoding}: {'; '.join(bad)}. Nothing was imported.{hint}")
    raw.seek(0)
    return count


def _decoded_lines(raw, encoding, progress):
    """Yield (line number, text) for every physical line, advancing the progress bar."""
    for line_no, raw_line in enumerate(raw, start=1):
        progress.update(1)
        yield line_no, _decode(raw_line, line_no, encoding)


def _jsonl_rows(lines):
    """Yield (line, event dict, problems) for every non-blank line."""
    for line_no, text in lines:
        if not text.strip():
            continue
        try:
            yield line_no, orjson.loads(text), None
        except orjson.JSONDecodeError as exc:
            yield line_no, None, {"": [f"Not valid JSON: {exc}."]}


def _csv_rows(lines, shop, warn):
    """Yield (first line of the record, event dict, problems) for every non-blank CSV record."""
    line_of = {}

    def texts():
        for line_no, text in lines:
            line_of["last"] = line_no
            yield text

    reader = csv.reader(texts())
    header, start = None, 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield start, None, {"": [f"Not valid CSV: {exc}."]}
            start = line_of.get("last", start) + 1
            continue
        line_no, start = start, line_of.get("last", start) + 1
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = _csv_header(cells, warn)
            continue
        if len(cells) > len(header):
            problem = f"Has {len(cells)} cells but the header has {len(header)} (an unquoted comma?)."
            yield line_no, None, {"": [problem]}
            continue
        yield line_no, _csv_event(header, cells, shop), None
    if header is None:
        raise CommandError("The CSV file has no header row.")


def _csv_header(cells, warn):
    names = [cell.strip() for cell in cells]
    duplicates = sorted({name for name in names if name and names.count(name) > 1})
    if duplicates:
        raise CommandError(f"The CSV header repeats column(s): {', '.join(duplicates)}.")
    unknown = [name for name in names if name and name not in CSV_COLUMNS]
    if unknown:
        warn(f"Ignoring unknown column(s): {', '.join(unknown)}.")
    missing = [name for name in ("review_id", "occurred_at") if name not in names]
    if missing:
        raise CommandError(f"The CSV header has no {' or '.join(missing)} column (is the header row missing?).")
    return [name if name in CSV_COLUMNS else None for name in names]


def _csv_event(header, cells, shop):
    data = {}
    for name, cell in zip(header, cells, strict=False):
        if name is None or not cell.strip():
            continue
        *parents, leaf = name.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _cell_value(name, cell)
    data.setdefault("type", EventType.CREATED.value)
    data.setdefault("platform", shop.platform)
    data.setdefault("shop", shop.external_id)
    return data


def _cell_value(name, cell):
    """A cell's text as the JSON type of its column; unparsable text is passed on for validation to report."""
    if name in _INT_COLUMNS and _INT_RE.fullmatch(cell.strip()):
        return int(cell.strip().split(".")[0])
    if name in _BOOL_COLUMNS:
        flag = cell.strip().lower()
        if flag in _TRUE:
            return True
        if flag in _FALSE:
            return False
    return cell

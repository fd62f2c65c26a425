"""Time-window polling shared by the marketplace connectors (Taobao, JD).

A marketplace answers "reviews created between start and end", a limited number per query. The
connector walks time forward in windows; a window is the unit of progress: its reviews are
stored together with a cursor saying "everything created up to here is stored", in one
transaction (see services._store_page). A run that dies mid-window stored nothing of it and
starts the same window again; a committed window is never fetched again.

The cursor is compact JSON:
    {"since": first covered second, "through": last second stored, "win": window length in
     seconds, "bf": [backfill from, backfill until] (optional), "rev": last revision sweep}
Times are ISO 8601 with +08:00, the platforms' own clock.

After the windows have caught up with now (minus `settle_seconds`, so reviews still being indexed
by the platform are not skipped), and at most every `revision_interval_seconds`, the connector
re-polls the recent revision window for neutral and negative reviews and compares what it sees
with what ReviewDesk stored (`review_state`, injected by the pull service): changed results,
new replies, follow-ups, deletions become events with deterministic event ids, so a repeat is a
duplicate.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

import orjson
from django.utils import timezone

from .base import BaseConnector, ConnectorConfigError, Page, PayloadError

CHINA = ZoneInfo("Asia/Shanghai")
SECOND = timedelta(seconds=1)
CURSOR_MAX_LENGTH = 500


class WindowCapped(Exception):
    """A query of this window reached the platform's result cap: split the window."""


@dataclass(slots=True)
class WindowCursor:
    since: datetime
    through: datetime
    win: int
    backfill: tuple[datetime, datetime] | None = None
    revised_at: datetime | None = None

    def dumps(self):
        data = {"since": _iso(self.since), "through": _iso(self.through), "win": self.win}
        if self.backfill:
            data["bf"] = [_iso(self.backfill[0]), _iso(self.backfill[1])]
        if self.revised_at:
            data["rev"] = _iso(self.revised_at)
        return orjson.dumps(data).decode()

    @classmethod
    def loads(cls, text):
        try:
            data = orjson.loads(text)
            backfill = data.get("bf")
            return cls(
                since=datetime.fromisoformat(data["since"]),
                through=datetime.fromisoformat(data["through"]),
                win=int(data["win"]),
                backfill=(datetime.fromisoformat(backfill[0]), datetime.fromisoformat(backfill[1]))
                if backfill
                else None,
                revised_at=datetime.fromisoformat(data["rev"]) if data.get("rev") else None,
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError):
            raise ConnectorConfigError(
                f"The saved cursor {text[:80]!r} is not a window cursor; clear it to start again."
            ) from None


def _iso(moment):
    return moment.astimezone(CHINA).isoformat()


def platform_time(moment):
    """'YYYY-MM-DD HH:MM:SS' in China time, as both platforms write and read times."""
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def parse_platform_time(text):
    """A platform time string (China time, no offset) as an aware datetime, or PayloadError."""
    # fromisoformat is ten times faster than strptime; the length check keeps it to this one shape.
    try:
        if len(text) != 19 or text[10] != " ":
            raise ValueError
        return datetime.fromisoformat(text).replace(tzinfo=CHINA)
    except (TypeError, ValueError):
        raise PayloadError(f"The platform sent the time {text!r}, not 'YYYY-MM-DD HH:MM:SS'.") from None


def floor_second(moment):
    return moment.replace(microsecond=0)


def text_key(text):
    """A short stable digest of a text, for event ids that change when the text changes."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class ReviewSnapshot:
    """What ReviewDesk stored of a review, for comparing with what the platform shows now."""

    review_id: str
    order_id: str
    tier: str
    state: str
    reply_content: str
    followup_content: str


class WindowedConnector(BaseConnector):
    """Walks created-time windows forward; subclasses query one window and map records to events."""

    max_days_back: ClassVar[int] = 180  # the platform does not answer for older start dates
    settle_seconds: ClassVar[int] = 60
    initial_days: ClassVar[int] = 30  # a new connector starts this far back; backfill_reviews goes further
    revision_days: ClassVar[int] = 30
    revision_interval_seconds: ClassVar[int] = 3600
    target_window_events: ClassVar[int] = 1200  # below the 1,500 cap of one query, so few windows need halving
    min_window_seconds: ClassVar[int] = 1
    max_window_seconds: ClassVar[int] = 7 * 86400
    first_window_seconds: ClassVar[int] = 3600
    client_class: ClassVar[type]  # the platform's signed HTTP client, built from the connector
    max_page_size: ClassVar[int]
    session_label: ClassVar[str] = "access token"  # what the platform calls the seller's authorisation

    def __init__(self, connector):
        super().__init__(connector)
        if not connector.app_key or not connector.app_secret:
            raise ConnectorConfigError("The app key and app secret are not both set.")
        if not connector.token:
            raise ConnectorConfigError(f"The {self.session_label} is not set.")
        self.client = self.client_class(connector)
        self.page_size = max(1, min(connector.page_size, self.max_page_size))
        self.shop = connector.shop
        self.review_state = None  # callable(review_ids=…, tiers=…, rated_from=…, rated_to=…) -> {id: ReviewSnapshot}

    def close(self):
        self.client.close()

    # Subclasses ---------------------------------------------------------------------------------

    def query_window(self, start, end, *, tiers=None, sample=False):
        """Records created in [start, end] (inclusive seconds); raise WindowCapped when a query hit the cap.
        `sample`: one small page of the first query only (test connection)."""
        raise NotImplementedError

    def window_events(self, records, observed_at):
        """API.md events for records seen for the first time."""
        raise NotImplementedError

    def revision_events(self, start, end, observed_at):
        """Events for what changed since it was stored, among reviews created in [start, end]."""
        raise NotImplementedError

    # Clock --------------------------------------------------------------------------------------

    def now(self):
        return timezone.now()

    def earliest(self, now):
        # A minute of margin, so a start date computed now is still inside the limit when the request lands.
        return floor_second(now - timedelta(days=self.max_days_back) + timedelta(minutes=1))

    def horizon(self, now):
        """The last second windows may cover: reviews younger than settle_seconds may not be indexed yet."""
        return floor_second(now - timedelta(seconds=self.settle_seconds))

    # Cursor -------------------------------------------------------------------------------------

    def initial_cursor(self, now, days=None):
        since = max(floor_second(now - timedelta(days=days or self.initial_days)), self.earliest(now))
        return WindowCursor(since=since, through=since - SECOND, win=self.first_window_seconds)

    def read_cursor(self, cursor, now):
        return WindowCursor.loads(cursor) if cursor else self.initial_cursor(now)

    def with_backfill(self, cursor, days, now):
        """The cursor extended so that reviews of the last `days` days are fetched (clamped to the platform's limit)."""
        start = max(floor_second(now - timedelta(days=days)), self.earliest(now))
        if not cursor:
            return self.initial_cursor(now, days=days).dumps()
        state = WindowCursor.loads(cursor)
        covered_from = state.backfill[0] if state.backfill else state.since
        if start < covered_from:
            until = state.backfill[1] if state.backfill else state.since - SECOND
            # `since` is the start of what the cursor covers once the backfill is done; the backfill
            # part stays in "bf" until its last window is stored.
            state.backfill, state.since = (start, until), start
        return state.dumps()

    # Paging -------------------------------------------------------------------------------------

    def prefetchable(self, cursor):
        """Whether the page after `cursor` is a plain window (no database read), so the pull service
        may fetch it while the page before it is being stored."""
        now = self.now()
        state = self.read_cursor(cursor, now)
        return bool(state.backfill) or max(state.through + SECOND, self.earliest(now)) <= self.horizon(now)

    def fetch_page(self, cursor, *, limit):
        """One committed unit: a backfill window, the next window, a revision sweep, or nothing."""
        now = self.now()
        state = self.read_cursor(cursor, now)
        earliest = self.earliest(now)
        if state.backfill:
            start, until = max(state.backfill[0], earliest), state.backfill[1]
            if start > until:
                state.backfill = None
                return Page([], state.dumps(), True)
            records, end, state.win = self._next_window(start, until, state.win)
            state.backfill = (end + SECOND, until) if end < until else None
            return Page(self.window_events(records, floor_second(now)), state.dumps(), True)

        horizon = self.horizon(now)
        start = max(state.through + SECOND, earliest)
        if start <= horizon:
            if start > state.through + SECOND:  # the connector was off for longer than the platform keeps reviews
                state.since = start
            records, end, state.win = self._next_window(start, horizon, state.win)
            state.through = end
            return Page(self.window_events(records, floor_second(now)), state.dumps(), True)

        due = state.revised_at is None or now - state.revised_at >= timedelta(seconds=self.revision_interval_seconds)
        if due and state.through >= state.since:
            sweep_from = max(state.since, floor_second(now - timedelta(days=self.revision_days)), earliest)
            events = self.revision_events(sweep_from, state.through, floor_second(now))
            state.revised_at = floor_second(now)
            return Page(events, state.dumps(), False)
        return Page([], state.dumps(), False)

    def _next_window(self, start, hard_end, win):
        """(records, end, next window length) for the window from `start`, halved until no query is capped."""
        length = max(self.min_window_seconds, min(win, self.max_window_seconds))
        while True:
            end = min(start + timedelta(seconds=length) - SECOND, hard_end)
            try:
                records = self.query_window(start, end)
            except WindowCapped:
                span = int((end - start).total_seconds()) + 1
                if span <= self.min_window_seconds:
                    raise PayloadError(
                        f"More reviews than the platform returns for one query were created within the second "
                        f"{platform_time(start)}; they cannot all be fetched."
                    ) from None
                length = max(self.min_window_seconds, span // 2)
                continue
            span = int((end - start).total_seconds()) + 1
            # Aim the next window at target_window_events, growing at most fourfold at a time.
            wanted = span * self.target_window_events // max(len(records), 1)
            next_length = max(self.min_window_seconds, min(wanted, span * 4, self.max_window_seconds))
            return records, end, next_length

    def windows(self, start, end, *, tiers=None):
        """Every record created in [start, end], walking windows (used by revision sweeps)."""
        records, win = [], self.first_window_seconds * 24
        while start <= end:
            length = max(self.min_window_seconds, min(win, self.max_window_seconds))
            window_end = min(start + timedelta(seconds=length) - SECOND, end)
            try:
                found = self.query_window(start, window_end, tiers=tiers)
            except WindowCapped:
                span = int((window_end - start).total_seconds()) + 1
                if span <= self.min_window_seconds:
                    raise PayloadError(f"Too many reviews within the second {platform_time(start)}.") from None
                win = span // 2
                continue
            records.extend(found)
            win = length * 2 if len(found) < self.target_window_events else length
            start = window_end + SECOND
        return records

    def stored(self, **query):
        if self.review_state is None:
            return {}
        return self.review_state(**query)

    def test_connection(self):
        now = self.now()
        end = self.horizon(now)
        records = self.query_window(end - timedelta(days=1) + SECOND, end, sample=True)
        found = f"{len(records)} review" + ("" if len(records) == 1 else "s")
        return f"Connected: the platform accepted the credentials and signature ({found} in a sample of the last day)."

"""The connector interface every pull source implements, its registry and its typed errors.

A connector turns one `Connector` row into pages of API.md review events. It knows its
platform's transport, signing and paging; it knows nothing about the database. The pull
service (`services.connector_pull`) validates the events, stores each page together with its
`next_cursor` in one transaction, and records status and back-off.

The cursor is opaque to everything but the connector that wrote it: an offset token for the
JSON feed, and for a time-window poller (Taobao, JD) whatever it needs to resume exactly, e.g.
a compact JSON `{"start": …, "end": …, "page": …}` (at most 500 characters).
"""

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class Page:
    """One fetched page: API.md event dicts, where to resume after them, and whether more is waiting."""

    events: list[dict]
    next_cursor: str
    has_more: bool


class ConnectorError(Exception):
    """A fetch failed for a reason the person configuring the connector can act on."""

    retry_after: float | None = None

    def __init__(self, message, *, retry_after=None):
        super().__init__(message)
        self.message = message
        if retry_after is not None:
            self.retry_after = retry_after

    def __str__(self):
        return self.message


class ConnectorConfigError(ConnectorError):
    """The connector row cannot work as configured (unknown kind, missing credentials)."""


class TransportError(ConnectorError):
    """No usable HTTP answer: DNS, refused connection, TLS, timeout, or an over-long body."""


class HttpStatusError(ConnectorError):
    """The source answered with a status that is not success."""

    def __init__(self, message, *, status_code=None, retry_after=None):
        super().__init__(message, retry_after=retry_after)
        self.status_code = status_code


class AuthError(HttpStatusError):
    """Credentials refused: HTTP 401/403, or a platform's invalid or expired session."""


class RateLimited(HttpStatusError):
    """Too many requests: HTTP 429 or a platform's rate-limit error; honour `retry_after` seconds."""


class PayloadError(ConnectorError):
    """An answer that is not the documented shape: not JSON, a wrong envelope, a stuck cursor."""


class PageRejected(ConnectorError):
    """A well-formed page holding invalid events: the whole page is refused, nothing is stored."""

    def __init__(self, message, *, problems):
        super().__init__(message)
        self.problems = problems  # [(index, {field path: [problem]})]


class BaseConnector:
    """Fetches pages for one Connector row; subclasses set `kind`, implement `fetch_page`, may override the rest."""

    # Used as a context manager by the pull service, so a session is reused across a run's pages and closed.

    kind: ClassVar[str]

    def __init__(self, connector):
        self.connector = connector

    def fetch_page(self, cursor, *, limit):
        """Return the Page after `cursor` ("" for the beginning), at most `limit` events; raise ConnectorError."""
        raise NotImplementedError

    def test_connection(self):
        """Make one cheap authenticated request and return a sentence saying what was found."""
        page = self.fetch_page(self.connector.cursor, limit=1)
        found = f"{len(page.events)} event" + ("" if len(page.events) == 1 else "s")
        more = "more waiting" if page.has_more else "nothing more waiting"
        return f"Connected: the source answered with {found} after the current cursor, {more}."

    def close(self):
        """Release network resources held across pages."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


_IMPLEMENTATIONS = {}  # Connector.kind -> BaseConnector subclass


def register(cls):
    """Class decorator: make `cls` the implementation for Connector rows of `cls.kind`."""
    _IMPLEMENTATIONS[str(cls.kind)] = cls
    return cls


def registered_kinds():
    return sorted(_IMPLEMENTATIONS)


def connector_for(connector):
    """The implementation instance for a Connector row, or ConnectorConfigError for an unknown kind."""
    cls = _IMPLEMENTATIONS.get(connector.kind)
    if cls is None:
        raise ConnectorConfigError(f"No connector implementation for kind {connector.kind!r}.")
    return cls(connector)

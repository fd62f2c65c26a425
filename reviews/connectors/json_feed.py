"""The generic JSON feed connector (issue 2 § Pull).

`GET <feed_url>?cursor=<cursor>&limit=<page size>` with `Authorization: Bearer <token>` (the very
first request has no cursor) must answer `{"events": [API.md events], "next_cursor": "…",
"has_more": true|false}`. The envelope is checked strictly here; the events are validated by
the pull service like pushed ones.
"""

import orjson

from ..choices import ConnectorKind
from .base import BaseConnector, ConnectorConfigError, Page, PayloadError, register
from .http import BearerAuth, http_request, new_session

CURSOR_MAX_LENGTH = 500  # Connector.cursor's column


@register
class JsonFeedConnector(BaseConnector):
    """Pages through a feed that already speaks API.md's event format."""

    kind = ConnectorKind.JSON_FEED
    timeout = (5.0, 30.0)  # (connect, read) seconds
    max_body_bytes = 20 * 1024 * 1024

    def __init__(self, connector):
        super().__init__(connector)
        if not connector.feed_url:
            raise ConnectorConfigError("No feed URL is set.")
        self._session = None

    def fetch_page(self, cursor, *, limit):
        """Return the Page after `cursor`; raise a ConnectorError naming what went wrong."""
        if self._session is None:
            self._session = new_session()
        params = {"cursor": cursor, "limit": limit} if cursor else {"limit": limit}
        # A feed may be public; when it is not, a missing token shows up as the feed's 401.
        auth = BearerAuth(self.connector.token) if self.connector.token else None
        body = http_request(
            self._session,
            "GET",
            self.connector.feed_url,
            params=params,
            auth=auth,
            timeout=self.timeout,
            max_bytes=self.max_body_bytes,
            quote_body=False,
        )
        return parse_envelope(body, cursor=cursor, limit=limit)

    def close(self):
        if self._session is not None:
            self._session.close()
            self._session = None


def parse_envelope(body, *, cursor, limit):
    """The Page in a feed answer, or PayloadError saying exactly which part of the envelope is wrong."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # Not quoted: the feed URL is typed by a supervisor and may point at a service inside the
        # network, whose answer must not come back to them through this message.
        raise PayloadError(f"The feed's answer is not JSON ({exc}); it is {len(body)} bytes long.")
    if not isinstance(data, dict):
        raise PayloadError(
            "The feed's answer must be a JSON object with events, next_cursor and has_more, "
            f"not a JSON {_json_type(data)}."
        )

    problems = []
    events = data.get("events")
    if not isinstance(events, list):
        problems.append(
            "events " + ("is missing" if "events" not in data else f"must be an array, not {_json_type(events)}")
        )
    next_cursor = data.get("next_cursor")
    if not isinstance(next_cursor, str):
        problems.append(
            "next_cursor "
            + ("is missing" if "next_cursor" not in data else f"must be a string, not {_json_type(next_cursor)}")
        )
    elif not next_cursor.strip() or "\x00" in next_cursor:
        problems.append("next_cursor must be a non-empty string")
    elif len(next_cursor) > CURSOR_MAX_LENGTH:
        problems.append(f"next_cursor is longer than {CURSOR_MAX_LENGTH} characters")
    has_more = data.get("has_more")
    if not isinstance(has_more, bool):
        problems.append(
            "has_more "
            + ("is missing" if "has_more" not in data else f"must be true or false, not {_json_type(has_more)}")
        )
    if problems:
        raise PayloadError("The feed's answer is not the expected envelope: " + "; ".join(problems) + ".")

    if len(events) > limit:
        raise PayloadError(f"The feed sent {len(events)} events when at most {limit} were asked for.")
    if has_more and next_cursor == cursor:
        # Following it would fetch the same page forever.
        raise PayloadError("The feed says has_more but returned the cursor it was given; it is not advancing.")
    return Page(events=events, next_cursor=next_cursor, has_more=has_more)


def _json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"

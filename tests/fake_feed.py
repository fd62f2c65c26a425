"""A JSON review feed over real HTTP on loopback, for the pull connector tests."""

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from .fake_http import LoopbackServer, send_reply


@dataclass
class Reply:
    """A scripted answer: status, raw body, headers, and seconds to wait before answering."""

    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class SeenRequest:
    cursor: str | None
    limit: str | None
    authorization: str | None


def envelope(events, next_cursor, has_more):
    return json.dumps({"events": events, "next_cursor": next_cursor, "has_more": has_more}).encode()


class FakeFeed(LoopbackServer):
    """Serves `events` in pages by offset cursor ("c<offset>") to the right bearer token.

    `script` holds answers for the next requests, in order: a Reply is sent as is, None serves the
    next page normally. Every request is recorded in `requests`.
    """

    path = "/feed"

    def __init__(self, token):
        self.token = token
        self.events = []
        self.script = deque()
        self.requests = []
        self._lock = threading.Lock()
        super().__init__(_handler_for(self))

    @property
    def host(self):
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    @property
    def cursors(self):
        return [seen.cursor for seen in self.requests]

    def answer(self, query, authorization):
        cursor, limit = query.get("cursor", [None])[0], query.get("limit", [None])[0]
        with self._lock:
            self.requests.append(SeenRequest(cursor, limit, authorization))
            scripted = self.script.popleft() if self.script else None
        if scripted is not None:
            return scripted
        if authorization != f"Bearer {self.token}":
            return Reply(401, b'{"error": {"code": "not_authenticated"}}')
        offset = int(cursor[1:]) if cursor else 0
        chunk = self.events[offset : offset + int(limit)]
        end = offset + len(chunk)
        return Reply(200, envelope(chunk, f"c{end}", end < len(self.events)), {"Content-Type": "application/json"})


def _handler_for(feed):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            parts = urlsplit(self.path)
            reply = feed.answer(parse_qs(parts.query), self.headers.get("Authorization"))
            if reply.delay:
                time.sleep(reply.delay)
            send_reply(self, reply)

        def log_message(self, *args):
            pass

    return Handler


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

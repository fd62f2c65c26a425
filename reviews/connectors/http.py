"""HTTP plumbing shared by connectors: timeouts, a body-size cap, and requests' failures turned
into typed ConnectorErrors with messages a supervisor can act on."""

import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests

from .base import AuthError, HttpStatusError, RateLimited, TransportError

USER_AGENT = "ReviewDesk-connector/1"
MAX_RETRY_AFTER_SECONDS = 24 * 3600  # a broken header must not park a connector for a year
_SNIPPET_CHARS = 200


class BearerAuth(requests.auth.AuthBase):
    """`Authorization: Bearer <token>`; passed as auth so requests never swaps in ~/.netrc credentials."""

    def __init__(self, token):
        self.token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def new_session():
    session = requests.Session()
    session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
    return session


def http_request(session, method, url, *, timeout, max_bytes, quote_body=True, **kwargs):
    """Send one request and return the body of a 2xx answer; anything else raises a ConnectorError.
    `quote_body=False`: an error answer's body is not quoted in the message (a URL someone typed
    may point inside the network, and the message is shown to them)."""
    # The whole answer must also arrive within connect + read timeout (checked between chunks), so
    # a server dripping bytes cannot hold a worker for long. Redirects are not followed, so
    # credentials only ever go to the configured host.
    host = _host(url)
    connect_timeout, read_timeout = timeout
    deadline = time.monotonic() + connect_timeout + read_timeout
    try:
        response = session.request(method, url, timeout=timeout, stream=True, allow_redirects=False, **kwargs)
    except requests.exceptions.ConnectTimeout:
        raise TransportError(f"Connecting to {host} timed out after {connect_timeout:g} s.")
    except requests.exceptions.ReadTimeout:
        raise TransportError(f"{host} did not answer within {read_timeout:g} s.")
    except requests.exceptions.SSLError as exc:
        raise TransportError(f"The TLS handshake with {host} failed: {_reason(exc)}")
    except requests.exceptions.ConnectionError as exc:
        raise TransportError(f"Could not connect to {host}: {_reason(exc)}")
    except requests.exceptions.RequestException as exc:
        raise TransportError(f"The request to {host} failed: {_reason(exc)}")
    with response:
        body = _read_capped(response, host, max_bytes, deadline, read_timeout)
        _check_status(response, body, host, quote_body=quote_body)
    return body


def retry_after_seconds(value):
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), capped; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, min(seconds, float(MAX_RETRY_AFTER_SECONDS)))


def _read_capped(response, host, max_bytes, deadline, read_timeout):
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TransportError(f"{host} sent {int(declared)} bytes; at most {max_bytes} are accepted per page.")
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(chunk_size=16384):
            size += len(chunk)
            if size > max_bytes:
                raise TransportError(f"{host} sent more than {max_bytes} bytes; at most that is accepted per page.")
            if time.monotonic() > deadline:
                raise TransportError(f"{host} did not finish its answer within the time allowed.")
            chunks.append(chunk)
    except requests.exceptions.RequestException as exc:
        if "timed out" in str(exc).lower():
            raise TransportError(f"{host} did not answer within {read_timeout:g} s.")
        raise TransportError(f"The answer from {host} broke off: {_reason(exc)}")
    return b"".join(chunks)


def _check_status(response, body, host, *, quote_body=True):
    code = response.status_code
    if 200 <= code < 300:
        return
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    if 300 <= code < 400:
        location = urlsplit(response.headers.get("Location", ""))._replace(query="", fragment="").geturl()
        raise HttpStatusError(
            f"{host} redirected (HTTP {code}) to {location or 'nowhere'}; set the final address as the URL.",
            status_code=code,
        )
    if code in (401, 403):
        raise AuthError(f"{host} refused the credentials (HTTP {code}); check the access token.", status_code=code)
    if code == 429:
        wait = f"it asks to wait {retry_after:g} s" if retry_after is not None else "no Retry-After given"
        raise RateLimited(f"{host} is rate limiting (HTTP 429); {wait}.", status_code=code, retry_after=retry_after)
    kind = "failed" if code >= 500 else "rejected the request"
    detail = _snippet(body) if quote_body or not body.strip() else f" ({len(body)} bytes)."
    raise HttpStatusError(f"{host} {kind} with HTTP {code}{detail}", status_code=code, retry_after=retry_after)


def _snippet(body):
    text = re.sub(r"\s+", " ", body[: _SNIPPET_CHARS * 4].decode("utf-8", "replace")).strip()
    if not text:
        return "."
    return ": " + (text[:_SNIPPET_CHARS] + "…" if len(text) > _SNIPPET_CHARS else text)


def _host(url):
    parts = urlsplit(url)
    return parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else url[:100]


def _reason(exc):
    """The innermost readable cause ("[Errno 111] Connection refused"), not urllib3's object reprs."""
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\][^')\"]*", text)
    if match:
        return match.group(0).strip().rstrip(".") + "."
    cause = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    while isinstance(getattr(cause, "reason", None), BaseException):
        cause = cause.reason
    text = str(cause)
    return (text[:300] + "…" if len(text) > 300 else text) or type(exc).__name__

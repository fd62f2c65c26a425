"""Taobao / Tmall through the Taobao Open Platform (TOP): `taobao.traderates.get`.

Request: POST form fields to the gateway (default https://eco.taobao.com/router/rest) with the
system parameters method, app_key, session, timestamp ("YYYY-MM-DD HH:MM:SS", China time),
format=json, v=2.0, sign_method (md5 | hmac) and sign (see signing.top_sign), plus
rate_type=get, role=buyer (reviews buyers gave the shop), result (good | neutral | bad),
start_date / end_date, page_no, page_size (≤ 150), use_has_next=true and fields.

Answer: {"traderates_get_response": {"trade_rates": {"trade_rate": [...]}, "has_next": bool}}
or {"error_response": {"code", "msg", "sub_code", "sub_msg"}}. One query returns at most 1,500
rates in total, and start dates older than 180 days are refused: windows that reach the cap are
halved (windowed.WindowedConnector) and starts are clamped.
"""

import contextlib
import re

import orjson

from ..choices import ConnectorKind, EventType, ReviewState, Tier
from .base import AuthError, ConnectorError, PayloadError, RateLimited, register
from .http import http_request, new_session
from .signing import top_sign
from .windowed import (
    CHINA,
    SECOND,
    WindowCapped,
    WindowedConnector,
    parse_platform_time,
    platform_time,
    text_key,
)

GATEWAY_URL = "https://eco.taobao.com/router/rest"
TRADERATES_GET = "taobao.traderates.get"
MAX_PAGE_SIZE = 150
RESULT_CAP = 1500  # rates one query can reach, whatever the paging
BUYER_ID_FIELD = "buyer_open_uid"
FIELDS = "tid,oid,role,nick,result,created,rated_nick,item_title,item_price,content,reply,num_iid," + BUYER_ID_FIELD
TIERS = {"good": Tier.POSITIVE, "neutral": Tier.NEUTRAL, "bad": Tier.NEGATIVE}
ALL_RESULTS = ("good", "neutral", "bad")
RECHECKED_RESULTS = ("neutral", "bad")  # a revision turns these into good; replies matter on these

# TOP's error codes (open.taobao.com "错误码"): 7 app call limited, 26 missing session, 27 invalid
# session, 53 insufficient user permission, 25 invalid signature, 28/29 invalid app key.
RATE_LIMIT_CODES = {7}
SESSION_CODES = {26, 27, 53}
CREDENTIAL_CODES = {25, 28, 29}
_BAN_SECONDS = re.compile(r"ban will last for (\d+) more seconds", re.IGNORECASE)


class TopError(ConnectorError):
    pass


def response_key(method):
    """taobao.traderates.get -> traderates_get_response"""
    return method.removeprefix("taobao.").replace(".", "_") + "_response"


def top_error(error):
    """The typed ConnectorError for a TOP error_response, its message naming code, sub_code and texts."""
    code = error.get("code")
    with contextlib.suppress(TypeError, ValueError):
        code = int(code)
    msg, sub_code, sub_msg = error.get("msg") or "", error.get("sub_code") or "", error.get("sub_msg") or ""
    detail = (
        f"code {code} {msg}".strip()
        + (f", sub_code {sub_code}" if sub_code else "")
        + (f": {sub_msg}" if sub_msg else "")
    )
    if code in RATE_LIMIT_CODES or sub_code.startswith("accesscontrol.limited") or sub_code.endswith("-limited"):
        match = _BAN_SECONDS.search(sub_msg)
        wait = float(match.group(1)) if match else None
        return RateLimited(f"Taobao is rate limiting this app ({detail}).", retry_after=wait, status_code=200)
    if code in SESSION_CODES or "session" in sub_code:
        return AuthError(
            f"Taobao refused the session key ({detail}). Ask the shop to authorise the app again and paste the new "
            "session key into the connector.",
            status_code=200,
        )
    if code in CREDENTIAL_CODES:
        return AuthError(
            f"Taobao refused the app credentials ({detail}); check the app key and secret.", status_code=200
        )
    return TopError(f"Taobao refused the call ({detail}).")


class TopClient:
    """Signs and sends TOP calls; one HTTP session for all the calls of a run."""

    timeout = (5.0, 30.0)
    max_body_bytes = 20 * 1024 * 1024

    def __init__(self, connector):
        self.connector = connector
        self.url = connector.feed_url or GATEWAY_URL
        self._session = None

    def system_params(self, method, now):
        return {
            "method": method,
            "app_key": self.connector.app_key,
            "session": self.connector.token,
            "timestamp": platform_time(now),
            "format": "json",
            "v": "2.0",
            "sign_method": self.connector.sign_method,
        }

    def call(self, method, params, *, now):
        """The method's response object; a TOP error_response raises the matching ConnectorError."""
        if self._session is None:
            self._session = new_session()
        form = self.system_params(method, now) | {k: str(v) for k, v in params.items() if v not in (None, "")}
        form["sign"] = top_sign(form, self.connector.app_secret, self.connector.sign_method)
        body = http_request(
            self._session, "POST", self.url, data=form, timeout=self.timeout, max_bytes=self.max_body_bytes
        )
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            start = body[:80].decode("utf-8", "replace").strip() or "(empty)"
            raise PayloadError(f"Taobao's answer is not JSON; it starts with: {start}") from None
        if not isinstance(data, dict):
            raise PayloadError("Taobao's answer is not a JSON object.")
        if isinstance(data.get("error_response"), dict):
            raise top_error(data["error_response"])
        answer = data.get(response_key(method))
        if not isinstance(answer, dict):
            raise PayloadError(f"Taobao's answer has no {response_key(method)} object.")
        return answer

    def close(self):
        if self._session is not None:
            self._session.close()
            self._session = None


def trade_rates(answer):
    """The trade_rate list of a traderates.get answer (TOP leaves trade_rates out when there are none)."""
    rates = (answer.get("trade_rates") or {}).get("trade_rate") or []
    if not isinstance(rates, list) or not all(isinstance(rate, dict) for rate in rates):
        raise PayloadError("Taobao's trade_rates.trade_rate is not a list of rates.")
    return rates


@register
class TaobaoConnector(WindowedConnector):
    """Pulls buyers' ratings of the shop from TOP in created-time windows."""

    kind = ConnectorKind.TAOBAO
    client_class = TopClient
    max_page_size = MAX_PAGE_SIZE
    session_label = "session key (access token)"

    # Fetching -----------------------------------------------------------------------------------

    def query_window(self, start, end, *, tiers=None, sample=False):
        records = []
        # A sample (test connection) asks once, for any result.
        for result in (None,) if sample else tiers or ALL_RESULTS:
            page_no, reached = 1, 0
            while True:
                answer = self.client.call(
                    TRADERATES_GET,
                    {
                        "fields": FIELDS,
                        "rate_type": "get",
                        "role": "buyer",
                        "result": result,
                        "start_date": platform_time(start),
                        "end_date": platform_time(end),
                        "page_no": page_no,
                        "page_size": 1 if sample else self.page_size,
                        "use_has_next": "true",
                    },
                    now=self.now(),
                )
                rates = trade_rates(answer)
                if sample:
                    return rates
                records.extend(rates)
                reached += len(rates)
                if reached >= RESULT_CAP:
                    raise WindowCapped
                if not answer.get("has_next"):
                    break
                if not rates:
                    raise PayloadError("Taobao says has_next but sent an empty page.")
                page_no += 1
        return records

    def rates_of_trade(self, tid):
        """Every buyer rate of one order (tid may be the order or a sub-order), all results."""
        rates, page_no = [], 1
        while True:
            answer = self.client.call(
                TRADERATES_GET,
                {
                    "fields": FIELDS,
                    "rate_type": "get",
                    "role": "buyer",
                    "tid": tid,
                    "page_no": page_no,
                    "page_size": MAX_PAGE_SIZE,
                    "use_has_next": "true",
                },
                now=self.now(),
            )
            found = trade_rates(answer)
            rates.extend(found)
            if not answer.get("has_next") or not found:
                return rates
            page_no += 1

    # Mapping ------------------------------------------------------------------------------------

    def _base(self, rate, event_type, event_id, occurred_at):
        oid = str(rate.get("oid") or "")
        if not oid:
            raise PayloadError(f"Taobao sent a rate without oid (tid {rate.get('tid')}).")
        return {
            "event_id": event_id,
            "type": event_type,
            "occurred_at": occurred_at.isoformat(),
            "platform": self.shop.platform,
            "shop": self.shop.external_id,
            "review_id": oid,
            "order_id": str(rate.get("tid") or ""),
            "sub_order_id": oid,
        }

    def _tier(self, rate):
        tier = TIERS.get(rate.get("result"))
        if tier is None:
            raise PayloadError(f"Taobao sent rate {rate.get('oid')} with result {rate.get('result')!r}.")
        return tier

    def created_event(self, rate):
        created = parse_platform_time(rate.get("created"))
        event = self._base(rate, EventType.CREATED, f"tb:{rate.get('oid')}:created", created)
        buyer = {"id": rate.get(BUYER_ID_FIELD)}
        if rate.get("nick"):
            buyer["nick"] = rate["nick"]  # masked wherever it is shown; never a key
        item = {"id": str(rate["num_iid"]) if rate.get("num_iid") else None, "title": rate.get("item_title") or None}
        if rate.get("item_price") not in (None, ""):
            item["price"] = str(rate["item_price"])
        event.update(buyer=buyer, item=item, rating={"tier": self._tier(rate)}, content=rate.get("content") or "")
        return event

    def replied_event(self, rate, observed_at):
        reply = rate["reply"]
        event = self._base(rate, EventType.REPLIED, f"tb:{rate['oid']}:reply:{text_key(reply)}", observed_at)
        event["reply"] = {"content": reply}
        return event

    def revised_event(self, rate, observed_at):
        result = rate.get("result")
        event = self._base(rate, EventType.REVISED, f"tb:{rate['oid']}:revised:{result}", observed_at)
        event["rating"] = {"tier": self._tier(rate)}
        if rate.get("content"):
            event["content"] = rate["content"]
        return event

    def deleted_event(self, snapshot, observed_at):
        return {
            "event_id": f"tb:{snapshot.review_id}:deleted",
            "type": EventType.DELETED,
            "occurred_at": observed_at.isoformat(),
            "platform": self.shop.platform,
            "shop": self.shop.external_id,
            "review_id": snapshot.review_id,
        }

    def window_events(self, records, observed_at):
        events = []
        for rate in records:
            events.append(self.created_event(rate))
            if rate.get("reply"):
                events.append(self.replied_event(rate, observed_at))
        return events

    def compare(self, rate, snapshot, observed_at):
        """Events that bring the stored review (or its absence) to what Taobao shows now."""
        if snapshot is None or snapshot.state == ReviewState.PENDING:
            return self.window_events([rate], observed_at)
        if snapshot.state == ReviewState.DELETED:
            return []
        events = []
        if self._tier(rate) != snapshot.tier:
            events.append(self.revised_event(rate, observed_at))
        if rate.get("reply") and rate["reply"] != snapshot.reply_content:
            events.append(self.replied_event(rate, observed_at))
        return events

    # Revisions and pushed messages --------------------------------------------------------------

    def revision_events(self, start, end, observed_at):
        rates = {str(rate["oid"]): rate for rate in self.windows(start, end, tiers=RECHECKED_RESULTS)}
        stored = self.stored(review_ids=list(rates)) | self.stored(
            tiers=(Tier.NEUTRAL, Tier.NEGATIVE), rated_from=start, rated_to=end + SECOND
        )
        events = []
        for oid, rate in rates.items():
            events.extend(self.compare(rate, stored.get(oid), observed_at))
        # Stored neutral/negative reviews Taobao no longer lists as neutral or bad were revised or deleted.
        gone = [
            snap
            for oid, snap in stored.items()
            if oid not in rates and snap.state == ReviewState.ACTIVE and snap.tier in (Tier.NEUTRAL, Tier.NEGATIVE)
        ]
        for order_id in sorted({snap.order_id for snap in gone}):
            now_listed = {str(rate["oid"]): rate for rate in self.rates_of_trade(order_id)}
            for snap in (s for s in gone if s.order_id == order_id):
                rate = now_listed.get(snap.review_id)
                if rate is None:
                    events.append(self.deleted_event(snap, observed_at))
                else:
                    events.extend(self.compare(rate, snap, observed_at))
        return events

    def refetch_events(self, tid, oid=None):
        """Events for one order's rates after a pushed rating message (taobao_trade_TradeRated)."""
        observed_at = self.now().astimezone(CHINA).replace(microsecond=0)
        rates = {str(rate["oid"]): rate for rate in self.rates_of_trade(tid)}
        if oid:
            rates = {key: rate for key, rate in rates.items() if key == str(oid)}
        stored = self.stored(review_ids=list(rates))
        events = []
        for key, rate in rates.items():
            events.extend(self.compare(rate, stored.get(key), observed_at))
        return events

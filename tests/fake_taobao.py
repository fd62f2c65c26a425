"""A fake Taobao Open Platform gateway over real HTTP on loopback: `taobao.traderates.get`.

It checks what TOP checks — system parameters, app key, session, the md5 / hmac signature
(computed here on its own, not with ReviewDesk's signing module), page size ≤ 150, start dates
no older than 180 days — and answers in TOP's formats: `traderates_get_response` with
`trade_rates.trade_rate` and `has_next` (use_has_next=true), or `error_response` with code, msg,
sub_code and sub_msg. One query reaches at most 1,500 rates, as on the platform.

Errors are injected with `script` (like tests/fake_feed.py): an entry that is a dict is sent as
`{"error_response": entry}`, a Reply as is, None serves the request normally.
"""

import bisect
import hashlib
import hmac
import json
import threading
from collections import deque
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .fake_feed import Reply
from .fake_http import LoopbackServer, form_gateway_handler

CHINA = ZoneInfo("Asia/Shanghai")
RESULT_CAP = 1500
MAX_PAGE_SIZE = 150
MAX_DAYS = 180

RATE_LIMITED = {
    "code": 7,
    "msg": "App Call Limited",
    "sub_code": "accesscontrol.limited-by-app-access-count",
    "sub_msg": "This ban will last for 71 more seconds",
}
SESSION_EXPIRED = {
    "code": 27,
    "msg": "Invalid session",
    "sub_code": "session-expired",
    "sub_msg": "SessionKey非法或已过期",
}


def china(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)


def top_text(moment):
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def expected_sign(params, secret, method):
    joined = "".join(k + v for k, v in sorted(params.items()) if k != "sign" and v != "")
    if method == "hmac":
        return hmac.new(secret.encode("utf-8"), joined.encode("utf-8"), hashlib.md5).hexdigest().upper()
    return hashlib.md5((secret + joined + secret).encode("utf-8")).hexdigest().upper()  # noqa: S324 (the platform prescribes MD5)


def make_rate(oid, created, result="bad", *, tid=None, reply="", content=None, buyer=None, nick=None):
    """A trade rate as TOP serialises it (ids as numbers, times without offset, price as text)."""
    return {
        "tid": tid or 3_900_000_000_000 + oid,
        "oid": oid,
        "role": "buyer",
        "nick": nick or f"t**{oid % 97}",
        "result": result,
        "created": created if isinstance(created, str) else top_text(created),
        "rated_nick": "测试旗舰店",
        "item_title": "加厚保暖羽绒服",
        "item_price": "399.00",
        "content": "快递太慢了，衣服有线头" if content is None else content,
        "reply": reply,
        "num_iid": 652300000 + oid % 50,
        "buyer_open_uid": buyer or f"AAH{oid:012d}",
    }


class FakeTaobao(LoopbackServer):
    """Serves `rates` (see make_rate) to the app with `app_key`/`secret` and the seller's `session`."""

    path = "/router/rest"

    def __init__(self, app_key, secret, session, *, now=None):
        self.app_key, self.secret, self.session = app_key, secret, session
        self.now = now or (lambda: datetime.now(CHINA))
        self.script = deque()
        self.requests = []  # the form of every request
        self.check_timestamp = True
        self.delay = 0.0  # seconds each answer waits (to catch a client mid-run)
        self._rates = []
        self._created = []
        self._lock = threading.Lock()
        super().__init__(form_gateway_handler(self))

    # Data ---------------------------------------------------------------------------------------

    @property
    def rates(self):
        return list(self._rates)

    @rates.setter
    def rates(self, rates):
        with self._lock:
            self._rates = sorted(rates, key=lambda r: (r["created"], r["oid"]))
            self._created = [r["created"] for r in self._rates]

    def update(self, oid, **changes):
        """Change a rate in place (a revision, a reply); deleted=True removes it (the buyer deleted it)."""
        with self._lock:
            for index, rate in enumerate(self._rates):
                if rate["oid"] == oid:
                    if changes.get("deleted"):
                        del self._rates[index]
                        del self._created[index]
                    else:
                        rate.update(changes)
                    return
        raise KeyError(oid)

    # Server -------------------------------------------------------------------------------------

    def serve_forever(self):
        self._server.serve_forever(poll_interval=0.05)

    def calls(self, **match):
        return [r for r in self.requests if all(r.get(k) == v for k, v in match.items())]

    def answer(self, form):
        with self._lock:
            self.requests.append(form)
            scripted = self.script.popleft() if self.script else None
        if isinstance(scripted, Reply):
            return scripted
        if isinstance(scripted, dict):
            return _json({"error_response": scripted})
        error = self._check(form)
        if error:
            return _json({"error_response": error})
        return _json({"traderates_get_response": self._traderates(form)})

    def _check(self, form):
        for name in ("method", "app_key", "timestamp", "v", "sign", "sign_method", "format"):
            if not form.get(name):
                return {"code": 40, "msg": "Missing required arguments:" + name}
        if form["app_key"] != self.app_key:
            return {"code": 29, "msg": "Invalid app Key", "sub_code": "isv.appkey-not-exists"}
        if form["sign_method"] not in ("md5", "hmac"):
            return {"code": 42, "msg": "Forbidden request", "sub_msg": "unsupported sign_method"}
        if form["sign"] != expected_sign(form, self.secret, form["sign_method"]):
            return {"code": 25, "msg": "Invalid signature"}
        try:
            sent_at = china(form["timestamp"])
        except ValueError:
            return {"code": 31, "msg": "Invalid timestamp"}
        if self.check_timestamp and abs((self.now() - sent_at).total_seconds()) > 600:
            return {"code": 31, "msg": "Invalid timestamp", "sub_msg": "timestamp is more than 10 minutes off"}
        if not form.get("session"):
            return {"code": 26, "msg": "Missing session"}
        if form["session"] != self.session:
            return {"code": 27, "msg": "Invalid session", "sub_code": "invalid-sessionkey"}
        if form["method"] != "taobao.traderates.get":
            return {"code": 22, "msg": "Invalid method"}
        if form.get("rate_type") != "get" or form.get("role") != "buyer":
            return _param_error("rate_type", "this fake only serves rate_type=get, role=buyer")
        page_size = int(form.get("page_size", "40"))
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            return _param_error("page_size", f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        if int(form.get("page_no", "1")) < 1:
            return _param_error("page_no", "page_no must be at least 1")
        if form.get("start_date") and china(form["start_date"]) < self.now() - timedelta(days=MAX_DAYS):
            return _param_error("start_date", "只能获取距今180天内的评价记录")
        if form.get("result") and form["result"] not in ("good", "neutral", "bad"):
            return _param_error("result", "result must be good, neutral or bad")
        return None

    def _traderates(self, form):
        with self._lock:
            low = bisect.bisect_left(self._created, form["start_date"]) if form.get("start_date") else 0
            high = bisect.bisect_right(self._created, form["end_date"]) if form.get("end_date") else len(self._created)
            candidates = self._rates[low:high]
        result, tid = form.get("result"), form.get("tid")
        matching = [
            r
            for r in reversed(candidates)  # newest first, as TOP lists them
            if (not result or r["result"] == result) and (not tid or str(r["tid"]) == tid or str(r["oid"]) == tid)
        ][:RESULT_CAP]
        page_no, page_size = int(form.get("page_no", "1")), int(form.get("page_size", "40"))
        start = (page_no - 1) * page_size
        page = matching[start : start + page_size]
        fields = form.get("fields", "").split(",")
        body = {}
        if page:
            body["trade_rates"] = {"trade_rate": [{k: r[k] for k in fields if k in r} for r in page]}
        if form.get("use_has_next") == "true":
            body["has_next"] = start + page_size < len(matching)
        else:
            body["total_results"] = len(matching)
        return body


def _param_error(name, message):
    return {"code": 15, "msg": "Remote service error", "sub_code": f"isv.invalid-parameter:{name}", "sub_msg": message}


def _json(data):
    return Reply(200, json.dumps(data, ensure_ascii=False).encode(), {"Content-Type": "application/json;charset=UTF-8"})

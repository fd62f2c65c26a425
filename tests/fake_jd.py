"""A fake JD open-platform (JOS) gateway over real HTTP on loopback:
`jingdong.pop.PopCommentJsfService.getVenderCommentsForJos`.

It checks the JOS signature (MD5 of secret + sorted name+value + secret, upper hex, computed here
on its own), the app key and access token, pageSize ≤ 50, and answers in JOS's formats: the
`…_responce` object with `comments`, `totalItem` and `page`, or `error_response` with code,
zh_desc and en_desc. `script` injects answers as in tests/fake_taobao.py.
"""

import hashlib
import json
import threading
from collections import deque
from zoneinfo import ZoneInfo

from .fake_feed import Reply
from .fake_http import LoopbackServer, form_gateway_handler

CHINA = ZoneInfo("Asia/Shanghai")
METHOD = "jingdong.pop.PopCommentJsfService.getVenderCommentsForJos"
RESPONSE_KEY = "jingdong_pop_PopCommentJsfService_getVenderCommentsForJos_responce"
MAX_PAGE_SIZE = 50
TOKEN_EXPIRED = {"code": "19", "zh_desc": "token已过期或者不存在，请重新授权访问。", "en_desc": "Invalid access_token"}
# JD's score filter: 1 bad (1 star), 2 neutral (2–3 stars), 3 good (4–5 stars).
SCORE_FILTER = {1: {1}, 2: {2, 3}, 3: {4, 5}}


def jd_text(moment):
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def make_comment(comment_id, created, stars=1, *, order_id=None, replies=(), after=None, images=0):
    """A PopCommentJosVo as JOS serialises it."""
    return {
        "commentId": str(comment_id),
        "orderId": order_id or 200000000000 + comment_id,
        "skuid": str(100012345 + comment_id % 7),
        "skuName": "电热烧水壶 304不锈钢 1.7L",
        "content": "烧水有异味，用了两天就漏水",
        "creationTime": created if isinstance(created, str) else jd_text(created),
        "score": stars,
        "images": [{"id": n, "imgUrl": f"//img30.360buyimg.com/{n}.jpg"} for n in range(images)],
        "replies": list(replies),
        "nickName": "j***8",
        "open_id_buyer": f"o-jd-{comment_id:08d}",
        "afterUserComment": after,
    }


class FakeJd(LoopbackServer):
    path = "/routerjson"

    def __init__(self, app_key, secret, access_token):
        self.app_key, self.secret, self.access_token = app_key, secret, access_token
        self.comments = []
        self.script = deque()
        self.requests = []
        self._lock = threading.Lock()
        super().__init__(form_gateway_handler(self))

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
        return _json({RESPONSE_KEY: self._comments(json.loads(form["360buy_param_json"]))})

    def _check(self, form):
        for name in ("method", "app_key", "timestamp", "v", "sign", "360buy_param_json"):
            if not form.get(name):
                return {"code": "10", "zh_desc": f"缺少参数{name}", "en_desc": f"Missing {name}"}
        if form["app_key"] != self.app_key:
            return {"code": "20", "zh_desc": "appKey不存在", "en_desc": "Invalid app_key"}
        joined = "".join(k + v for k, v in sorted(form.items()) if k != "sign" and v != "")
        if form["sign"] != hashlib.md5((self.secret + joined + self.secret).encode("utf-8")).hexdigest().upper():  # noqa: S324 (the platform prescribes MD5)
            return {"code": "14", "zh_desc": "签名无效", "en_desc": "Invalid signature"}
        if form.get("access_token") != self.access_token:
            return TOKEN_EXPIRED
        if form["method"] != METHOD:
            return {"code": "22", "zh_desc": "方法不存在", "en_desc": "Invalid method"}
        business = json.loads(form["360buy_param_json"])
        if not 1 <= int(business.get("pageSize", 10)) <= MAX_PAGE_SIZE:
            return {"code": "66", "zh_desc": "pageSize最大为50", "en_desc": "pageSize must be 1..50"}
        return None

    def _comments(self, business):
        begin, end = business.get("beginTime", ""), business.get("endTime", "9999")
        score = int(business.get("score", 0))
        stars = SCORE_FILTER.get(score)
        with self._lock:
            matching = sorted(
                (
                    c
                    for c in self.comments
                    if begin <= c["creationTime"] <= end and (stars is None or c["score"] in stars)
                ),
                key=lambda c: (c["creationTime"], c["commentId"]),
                reverse=True,
            )
        page, size = int(business.get("page", 1)), int(business.get("pageSize", 10))
        chunk = matching[(page - 1) * size : page * size]
        return {"code": "0", "comments": chunk, "totalItem": len(matching), "page": page}


def _json(data):
    return Reply(200, json.dumps(data, ensure_ascii=False).encode(), {"Content-Type": "application/json;charset=UTF-8"})

"""JD through its open platform (JOS): `jingdong.pop.PopCommentJsfService.getVenderCommentsForJos`.

Request: POST to the gateway (default https://api.jd.com/routerjson) with the system parameters
method, app_key, access_token, timestamp ("YYYY-MM-DD HH:MM:SS", China time), v=2.0, sign
(signing.jos_sign) and the business parameters as one JSON string, `360buy_param_json`:
{"beginTime", "endTime", "score" (0 all, 1 bad, 2 neutral, 3 good), "page", "pageSize" (≤ 50)}.

Answer: {"jingdong_pop_PopCommentJsfService_getVenderCommentsForJos_responce": {"code": "0",
"comments": [PopCommentJosVo…], "totalItem": n, "page": p}} or
{"error_response": {"code", "zh_desc", "en_desc"}}. A comment carries commentId, orderId,
skuid, skuName, score (1–5 stars), content, creationTime, images, replies, nickName and the
buyer's open id `open_id_buyer`; a follow-up review (追评) arrives as `afterUserComment`
{"content", "created", "images"}. JD reviews cannot be edited: stars map to a tier with the
shop's rule (Shop.tier_for_stars), and later changes are follow-ups and seller replies.
"""

import orjson

from ..choices import ConnectorKind, EventType, ReviewState
from .base import AuthError, ConnectorError, PayloadError, RateLimited, register
from .http import http_request, new_session
from .signing import jos_sign
from .windowed import WindowedConnector, parse_platform_time, platform_time, text_key

GATEWAY_URL = "https://api.jd.com/routerjson"
COMMENTS_METHOD = "jingdong.pop.PopCommentJsfService.getVenderCommentsForJos"
RESPONSE_KEY = "jingdong_pop_PopCommentJsfService_getVenderCommentsForJos_responce"  # sic, JOS spells it so
MAX_PAGE_SIZE = 50
ALL_SCORES = (0,)
RECHECKED_SCORES = (1, 2)  # JD's bad and neutral filters: follow-ups and replies matter on these
# JOS gateway codes: 19 invalid access_token, 18/20 app key problems; 7 and 67 call limits.
TOKEN_CODES = {"19"}
CREDENTIAL_CODES = {"18", "20", "21"}
RATE_LIMIT_CODES = {"7", "67"}
MAX_IMAGES = 100


def jos_error(error):
    code = str(error.get("code", ""))
    detail = f"code {code}: {error.get('en_desc') or ''} {error.get('zh_desc') or ''}".strip()
    if code in RATE_LIMIT_CODES or "limit" in str(error.get("en_desc", "")).lower():
        return RateLimited(f"JD is rate limiting this app ({detail}).", status_code=200)
    if code in TOKEN_CODES:
        return AuthError(
            f"JD refused the access token ({detail}). Authorise the app again and paste the new token.",
            status_code=200,
        )
    if code in CREDENTIAL_CODES:
        return AuthError(f"JD refused the app credentials ({detail}); check the app key and secret.", status_code=200)
    return ConnectorError(f"JD refused the call ({detail}).")


class JosClient:
    timeout = (5.0, 30.0)
    max_body_bytes = 20 * 1024 * 1024

    def __init__(self, connector):
        self.connector = connector
        self.url = connector.feed_url or GATEWAY_URL
        self._session = None

    def call(self, method, business, *, now):
        if self._session is None:
            self._session = new_session()
        form = {
            "method": method,
            "app_key": self.connector.app_key,
            "access_token": self.connector.token,
            "timestamp": platform_time(now),
            "v": "2.0",
            "360buy_param_json": orjson.dumps(business).decode(),
        }
        form["sign"] = jos_sign(form, self.connector.app_secret)
        body = http_request(
            self._session, "POST", self.url, data=form, timeout=self.timeout, max_bytes=self.max_body_bytes
        )
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise PayloadError("JD's answer is not JSON.") from None
        if not isinstance(data, dict):
            raise PayloadError("JD's answer is not a JSON object.")
        if isinstance(data.get("error_response"), dict):
            raise jos_error(data["error_response"])
        return data

    def close(self):
        if self._session is not None:
            self._session.close()
            self._session = None


@register
class JdConnector(WindowedConnector):
    """Pulls the shop's product comments from JOS in created-time windows."""

    kind = ConnectorKind.JD
    client_class = JosClient
    max_page_size = MAX_PAGE_SIZE

    def query_window(self, start, end, *, tiers=None, sample=False):
        records = []
        for score in tiers or ALL_SCORES:
            page = 1
            while True:
                business = {
                    "beginTime": platform_time(start),
                    "endTime": platform_time(end),
                    "score": score,
                    "page": page,
                    "pageSize": 1 if sample else self.page_size,
                }
                answer = self.client.call(COMMENTS_METHOD, business, now=self.now()).get(RESPONSE_KEY)
                if not isinstance(answer, dict) or not isinstance(answer.get("comments", []), list):
                    raise PayloadError(f"JD's answer has no {RESPONSE_KEY}.comments list.")
                if str(answer.get("code", "0")) != "0":
                    raise ConnectorError(f"JD answered code {answer.get('code')}: {answer.get('resultMsg') or ''}")
                comments = answer.get("comments") or []
                if sample:
                    return comments
                records.extend(comments)
                total = answer.get("totalItem") or 0
                if len(comments) < self.page_size or page * self.page_size >= total:
                    break
                page += 1
        return records

    # Mapping ------------------------------------------------------------------------------------

    def _base(self, comment, event_type, event_id, occurred_at):
        return {
            "event_id": event_id,
            "type": event_type,
            "occurred_at": occurred_at.isoformat(),
            "platform": self.shop.platform,
            "shop": self.shop.external_id,
            "review_id": str(comment["commentId"]),
        }

    def created_event(self, comment):
        stars = comment.get("score")
        if not isinstance(stars, int) or not 1 <= stars <= 5:
            raise PayloadError(f"JD sent comment {comment.get('commentId')} with score {stars!r}.")
        cid = comment["commentId"]
        event = self._base(
            comment, EventType.CREATED, f"jd:{cid}:created", parse_platform_time(comment.get("creationTime"))
        )
        buyer = {"id": comment.get("open_id_buyer")}
        if comment.get("nickName"):
            buyer["nick"] = comment["nickName"]
        sku = str(comment["skuid"]) if comment.get("skuid") else None
        event.update(
            order_id=str(comment.get("orderId") or ""),
            buyer=buyer,
            item={"id": sku, "sku": sku, "title": comment.get("skuName") or None},
            rating={"tier": self.shop.tier_for_stars(stars).value, "stars": stars},
            content=comment.get("content") or "",
            image_count=min(len(comment.get("images") or []), MAX_IMAGES),
        )
        return event

    def followup_event(self, comment):
        after = comment["afterUserComment"]
        event = self._base(
            comment,
            EventType.FOLLOWUP,
            f"jd:{comment['commentId']}:followup",
            parse_platform_time(after.get("created")),
        )
        event["followup"] = {
            "content": after.get("content") or "",
            "image_count": min(len(after.get("images") or []), MAX_IMAGES),
        }
        return event

    def replied_event(self, comment, reply):
        event = self._base(
            comment,
            EventType.REPLIED,
            f"jd:{comment['commentId']}:reply:{text_key(reply['content'])}",
            parse_platform_time(reply.get("creationTime")),
        )
        event["reply"] = {"content": reply["content"]}
        return event

    @staticmethod
    def latest_reply(comment):
        replies = [r for r in comment.get("replies") or [] if isinstance(r, dict) and r.get("content")]
        return max(replies, key=lambda r: r.get("creationTime") or "") if replies else None

    def later_events(self, comment, snapshot=None):
        events = []
        after = comment.get("afterUserComment")
        has_followup = isinstance(after, dict) and after.get("content") is not None
        if has_followup and (snapshot is None or snapshot.followup_content != (after.get("content") or "")):
            events.append(self.followup_event(comment))
        reply = self.latest_reply(comment)
        if reply and (snapshot is None or snapshot.reply_content != reply["content"]):
            events.append(self.replied_event(comment, reply))
        return events

    def window_events(self, records, observed_at):
        events = []
        for comment in records:
            events.append(self.created_event(comment))
            events.extend(self.later_events(comment))
        return events

    def revision_events(self, start, end, observed_at):
        comments = {str(c["commentId"]): c for c in self.windows(start, end, tiers=RECHECKED_SCORES)}
        stored = self.stored(review_ids=list(comments))
        events = []
        for cid, comment in comments.items():
            snapshot = stored.get(cid)
            if snapshot is None or snapshot.state == ReviewState.PENDING:
                events.extend(self.window_events([comment], observed_at))
            elif snapshot.state == ReviewState.ACTIVE:
                events.extend(self.later_events(comment, snapshot))
        return events

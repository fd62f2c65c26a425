"""Oversized and malformed input on every form and filter outside the ticket page (issue 7; the
ticket page's forms are in test_workspace_actions.py): the admin's add and change forms, the login
form, the language and duty switches, the buyer page, the audit log, the dashboard, the ticket
lists, SKU alerts and the CSV exports.

Bad input gets a clear error beside the field (or, for a filter, above the list) with the view's
usual status, never a 500, and nothing is stored: each test compares every table before and after.
"""

import datetime as dt
import re
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client

from contacts.models import BuyerNote, ContactEtiquette
from reviews.models import Connector, PersonalToken, Review
from tickets.models import (
    AgentProfile,
    BusinessCalendar,
    CalendarDay,
    CallScript,
    Cause,
    CauseKeywordRule,
    CompliancePhrase,
    FollowUpVisit,
    Notification,
    Remedy,
    SlaPolicy,
    Ticket,
)

from .conftest import event
from .factories import UserFactory
from .workspace import login

pytestmark = pytest.mark.django_db

MB = "x" * 1_000_000  # a ~1 MB value: over every max_length, under DATA_UPLOAD_MAX_MEMORY_SIZE
NUL = "a\x00b"  # PostgreSQL refuses NUL in text
HUGE = str(10**30)  # beyond every integer column
BAD_DATES = ["2026-13-45", "0000-01-01", "99999-01-01", "2026-02-30", "yesterday"]


def over(n):
    """One character more than a max_length of `n` (CJK, as the desk's users type)."""
    return "字" * (n + 1)


# Whole-database snapshot ---------------------------------------------------------------------


def _tables():
    models = [
        m
        for label in ("reviews", "contacts", "tickets", "auth")
        for m in apps.get_app_config(label).get_models(include_auto_created=True)
    ]
    return [*models, LogEntry, AccessAttempt, AccessFailureLog]


def snapshot():
    """Every row of every table a form could write: what a refused input must leave as it was."""
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in _tables()}


def assert_unchanged(before):
    after = snapshot()
    changed = [label for label in before if before[label] != after[label]]
    assert not changed, f"rows changed in {changed}"


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# The world the forms work on -----------------------------------------------------------------


class World:
    pass


@pytest.fixture
def world(push, shop_a, shop_b, agent, supervisor, key_a):
    """One row of every model the admin edits, and a ticket of shop A held by `agent`."""
    w = World()
    w.shop, w.shop_b, w.agent, w.supervisor = shop_a, shop_b, agent, supervisor
    assert push(event()).status_code == 200
    w.ticket = Ticket.objects.get()
    Ticket.objects.filter(pk=w.ticket.pk).update(assignee=agent, status="assigned")
    w.review = Review.objects.get()
    w.buyer = w.review.buyer
    w.api_key = shop_a.api_keys.get()
    w.token = PersonalToken(name="script", user=agent)
    w.token.set_new_key()
    w.token.save()
    w.connector = Connector.objects.create(
        shop=shop_a, name="feed", kind="json_feed", feed_url="https://feed.example.com/a", token="s3cret"
    )
    w.calendar = BusinessCalendar.objects.create(name="工作日")
    w.holiday = CalendarDay.objects.create(calendar=w.calendar, date=dt.date(2026, 10, 1), kind="holiday", name="国庆")
    w.sla = SlaPolicy.objects.create(shop=shop_a, tier="negative", calendar=w.calendar)
    w.cause = Cause.objects.get(code="poor_quality")
    w.rule = CauseKeywordRule.objects.filter(cause=w.cause).first()
    w.script = CallScript.objects.order_by("pk").first()
    w.phrase = CompliancePhrase.objects.order_by("pk").first()
    w.notification = Notification.objects.create(recipient=agent, ticket=w.ticket, kind="assigned", message="新工单")
    w.note = BuyerNote.objects.create(buyer=w.buyer, author=agent, tags=["impatient"], text="下午才接电话")
    w.etiquette = ContactEtiquette.objects.create(shop=shop_a)
    w.visit = FollowUpVisit.objects.create(ticket=w.ticket, agent=agent, due_on=dt.date(2026, 4, 1))
    w.remedy = Remedy.objects.create(
        ticket=w.ticket, kind="coupon", amount=Decimal("10.00"), status="pending_approval", offered_by=agent
    )
    w.profile = AgentProfile.objects.get(user=agent)
    w.root = get_user_model().objects.create_superuser("root", password="pw-123456")
    return w


@pytest.fixture
def root(world):
    return login(world.root)


# Admin forms ---------------------------------------------------------------------------------


class _FormValues(HTMLParser):
    """The (name, value) pairs a browser would submit for the form with id `form_id`."""

    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.pairs = form_id, False, []
        self.select = self.textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        kind = (a.get("type") or "text").lower()
        if tag == "input" and a.get("name") and kind not in ("submit", "button", "image", "file", "reset"):
            if kind not in ("checkbox", "radio") or "checked" in a:
                self.pairs.append((a["name"], a.get("value") or ("on" if kind in ("checkbox", "radio") else "")))
        elif tag == "select":
            self.select = {"name": a.get("name"), "multiple": "multiple" in a, "options": [], "selected": []}
        elif tag == "option" and self.select is not None:
            value = a.get("value", "")
            self.select["options"].append(value)
            if "selected" in a:
                self.select["selected"].append(value)
        elif tag == "textarea":
            self.textarea = [a.get("name"), ""]

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            s, self.select = self.select, None
            chosen = s["selected"] or ([] if s["multiple"] else s["options"][:1])
            self.pairs.extend((s["name"], value) for value in chosen)
        elif tag == "textarea" and self.textarea is not None:
            name, value = self.textarea
            self.textarea = None
            self.pairs.append((name, value.removeprefix("\n")))


def form_values(html, form_id):
    parser = _FormValues(form_id)
    parser.feed(html)
    data = {}
    for name, value in parser.pairs:
        data.setdefault(name, []).append(value)
    return data


# Each admin form: its URL and the fields to fill in for a valid submission (None removes one).
ADMIN_FORMS = {
    "shop-add": (
        lambda w: "/admin/reviews/shop/add/",
        lambda w: {"external_id": "tb-new", "platform": "taobao", "name": "新开的店"},
    ),
    "shop-change": (lambda w: f"/admin/reviews/shop/{w.shop.pk}/change/", lambda w: {}),
    "apikey-add": (
        lambda w: "/admin/reviews/apikey/add/",
        lambda w: {"name": "ERP sync", "shops": [str(w.shop.pk)]},
    ),
    "apikey-change": (lambda w: f"/admin/reviews/apikey/{w.api_key.pk}/change/", lambda w: {}),
    "personaltoken-add": (
        lambda w: "/admin/reviews/personaltoken/add/",
        lambda w: {"name": "export script", "user": str(w.agent.pk)},
    ),
    "personaltoken-change": (lambda w: f"/admin/reviews/personaltoken/{w.token.pk}/change/", lambda w: {}),
    "connector-add": (
        lambda w: "/admin/reviews/connector/add/",
        lambda w: {
            "name": "淘宝",
            "shop": str(w.shop.pk),
            "kind": "taobao",
            "app_key": "12345678",
            "app_secret": "app-secret",
            "token": "session-key",
        },
    ),
    "connector-change": (lambda w: f"/admin/reviews/connector/{w.connector.pk}/change/", lambda w: {}),
    "review-change": (lambda w: f"/admin/reviews/review/{w.review.pk}/change/", lambda w: {}),
    "agentprofile-add": (
        lambda w: "/admin/tickets/agentprofile/add/",
        lambda w: {"user": str(UserFactory(username="newcomer").pk), "shops": [str(w.shop.pk)]},
    ),
    "agentprofile-change": (lambda w: f"/admin/tickets/agentprofile/{w.profile.pk}/change/", lambda w: {}),
    "calendar-add": (
        lambda w: "/admin/tickets/businesscalendar/add/",
        lambda w: {"name": "客服排班", "days-0-date": "2026-05-01", "days-0-kind": "holiday"},
    ),
    "calendar-change": (lambda w: f"/admin/tickets/businesscalendar/{w.calendar.pk}/change/", lambda w: {}),
    "slapolicy-add": (
        lambda w: "/admin/tickets/slapolicy/add/",
        lambda w: {"shop": str(w.shop.pk), "tier": "neutral"},
    ),
    "slapolicy-change": (lambda w: f"/admin/tickets/slapolicy/{w.sla.pk}/change/", lambda w: {}),
    "notification-change": (lambda w: f"/admin/tickets/notification/{w.notification.pk}/change/", lambda w: {}),
    "cause-add": (
        lambda w: "/admin/tickets/cause/add/",
        lambda w: {
            "code": "new_cause",
            "group": "other",
            "name_zh": "新原因",
            "name_en": "New cause",
            "keyword_rules-TOTAL_FORMS": "1",
            "keyword_rules-0-keywords": "起球",
            "keyword_rules-0-priority": "0",
        },
    ),
    "cause-change": (lambda w: f"/admin/tickets/cause/{w.cause.pk}/change/", lambda w: {}),
    "keywordrule-add": (
        lambda w: "/admin/tickets/causekeywordrule/add/",
        lambda w: {"cause": str(w.cause.pk), "keywords": "起球"},
    ),
    "keywordrule-change": (lambda w: f"/admin/tickets/causekeywordrule/{w.rule.pk}/change/", lambda w: {}),
    "callscript-add": (
        lambda w: "/admin/tickets/callscript/add/",
        lambda w: {"name": "开场白", "body": "您好，我是{shop}的客服。"},
    ),
    "callscript-change": (lambda w: f"/admin/tickets/callscript/{w.script.pk}/change/", lambda w: {}),
    "phrase-add": (
        lambda w: "/admin/tickets/compliancephrase/add/",
        lambda w: {"text": "好评送", "kind": "phrase", "reason": "以好处换好评"},
    ),
    "phrase-change": (lambda w: f"/admin/tickets/compliancephrase/{w.phrase.pk}/change/", lambda w: {}),
    "visit-add": (
        lambda w: "/admin/tickets/followupvisit/add/",
        lambda w: {"ticket": str(w.ticket.pk), "agent": str(w.agent.pk), "due_on": "2026-04-02"},
    ),
    "visit-change": (lambda w: f"/admin/tickets/followupvisit/{w.visit.pk}/change/", lambda w: {}),
    "buyer-change": (lambda w: f"/admin/contacts/buyer/{w.buyer.pk}/change/", lambda w: {}),
    "buyernote-add": (
        lambda w: "/admin/contacts/buyernote/add/",
        lambda w: {"buyer": str(w.buyer.pk), "author": str(w.agent.pk), "tags": ["picky"], "text": "很挑剔"},
    ),
    "buyernote-change": (lambda w: f"/admin/contacts/buyernote/{w.note.pk}/change/", lambda w: {}),
    "etiquette-add": (
        lambda w: "/admin/contacts/contactetiquette/add/",
        lambda w: {"shop": str(w.shop_b.pk)},
    ),
    "etiquette-change": (lambda w: f"/admin/contacts/contactetiquette/{w.etiquette.pk}/change/", lambda w: {}),
}


def admin_form(client, world, name):
    """(url, the form's submission as the page offers it, completed to be valid)."""
    url_of, valid = ADMIN_FORMS[name]
    url = url_of(world)
    page = client.get(url)
    assert page.status_code == 200, url
    form_id = re.search(r'<form [^>]*id="(\w+_form)"', page.content.decode()).group(1)
    data = form_values(page.content.decode(), form_id)
    fill(data, valid(world))
    data["_save"] = ["Save"]
    return url, data


def fill(data, values):
    for name, value in values.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value if isinstance(value, list) else [value]


def assert_admin_field_error(response, field):
    """The form again (200) with the admin's error note, and the error beside `field` (a name, or
    `prefix-0-name` for an inline row; None: an error of the whole form)."""
    assert response.status_code == 200, (response.status_code, response.content[:3000])
    html = response.content.decode()
    assert 'class="errornote"' in html, html[:3000]
    if field is None:
        assert re.search(r'class="errorlist (nonfield|nonform)"', html), "no error of the whole form"
        return
    name = field.rsplit("-", 1)[-1]
    spots = [m.end() for m in re.finditer(rf'class="[^"]*\bfield-{re.escape(name)}\b[^"]*"', html)]
    assert spots, f"no field-{name} on the page"
    assert any('class="errorlist' in html[end : end + 400] for end in spots), f"no error shown beside {field}"


@pytest.mark.parametrize("name", ADMIN_FORMS)
def test_each_admin_form_saves_its_baseline_submission(root, world, name):
    """The table below changes one field of these submissions: each is valid as it stands."""
    url, data = admin_form(root, world, name)
    logged = LogEntry.objects.count()

    response = root.post(url, data)

    assert response.status_code == 302, response.content.decode()[:5000]
    assert LogEntry.objects.count() == logged + 1


# One bad field per row: (form, field, value, where the error shows; None for the whole form).
# JSON that PostgreSQL cannot store (NUL, an unpaired surrogate, NaN), too deep to parse, or cut off.
JSON_BAD = ['["\\u0000"]', '["\\ud800"]', "[" * 100_000, "[NaN]", '{"mon": [["09:00", "18:00"]']
ADMIN_BAD_INPUT = [
    # Shops
    ("shop-add", "external_id", over(128), "external_id"),
    ("shop-add", "external_id", NUL, "external_id"),
    ("shop-add", "external_id", "tb-a", "external_id"),  # taken
    ("shop-add", "name", MB, "name"),
    ("shop-add", "name", None, "name"),
    ("shop-add", "platform", "alibaba", "platform"),
    ("shop-add", "platform", ["taobao", "alibaba"], "platform"),  # repeated: the last counts
    ("shop-add", "ticket_tiers", '["awful"]', "ticket_tiers"),
    *[("shop-add", "ticket_tiers", value, "ticket_tiers") for value in JSON_BAD],
    ("shop-add", "dsr_ticket_threshold", HUGE, "dsr_ticket_threshold"),
    ("shop-add", "dsr_ticket_threshold", "-1", "dsr_ticket_threshold"),
    ("shop-add", "dsr_ticket_threshold", "9", "dsr_ticket_threshold"),
    ("shop-add", "negative_max_stars", "abc", "negative_max_stars"),
    ("shop-add", "neutral_max_stars", "0", None),
    ("shop-add", "revision_window_days", "1.5", "revision_window_days"),
    ("shop-change", "name", over(255), "name"),
    ("shop-change", "ticket_tiers", "[" * 100_000, "ticket_tiers"),
    # API keys and personal tokens
    ("apikey-add", "name", over(100), "name"),
    ("apikey-add", "name", NUL, "name"),
    ("apikey-add", "shops", None, "shops"),
    ("apikey-add", "shops", ["999999"], "shops"),
    ("apikey-add", "shops", ["abc"], "shops"),
    ("apikey-add", "shops", [HUGE], "shops"),
    # revoked_at is read-only: a revoked key stays revoked (tests/test_admin_scoping.py).
    ("apikey-change", "name", NUL, "name"),
    ("personaltoken-add", "user", None, "user"),
    ("personaltoken-add", "user", HUGE, "user"),
    ("personaltoken-add", "name", MB, "name"),
    ("personaltoken-change", "name", NUL, "name"),
    # Connectors (credentials are stored encrypted)
    ("connector-add", "name", over(100), "name"),
    ("connector-add", "shop", "abc", "shop"),
    ("connector-add", "kind", "weibo", "kind"),
    ("connector-add", "app_key", over(64), "app_key"),
    ("connector-add", "app_key", None, "app_key"),  # Taobao needs it
    ("connector-add", "token", NUL, "token"),
    ("connector-add", "token", MB, "token"),
    ("connector-add", "app_secret", NUL, "app_secret"),
    ("connector-add", "message_secret", MB, "message_secret"),
    ("connector-add", "sign_method", "sha512", "sign_method"),
    ("connector-add", "feed_url", "not a url", "feed_url"),
    ("connector-add", "feed_url", "https://example.com/" + "a" * 500, "feed_url"),
    ("connector-add", "page_size", HUGE, "page_size"),
    ("connector-add", "page_size", "501", "page_size"),
    ("connector-add", "page_size", "-5", "page_size"),
    ("connector-add", "poll_interval_seconds", "1e3", "poll_interval_seconds"),
    ("connector-add", "poll_interval_seconds", "5", "poll_interval_seconds"),
    ("connector-add", "next_run_at_0", "2026-02-30", "next_run_at"),
    ("connector-add", "next_run_at_0", None, "next_run_at"),
    ("connector-change", "kind", "taobao", "app_key"),  # a Taobao connector needs its app key
    ("connector-change", "feed_url", None, "feed_url"),
    ("connector-change", "token", NUL, "token"),
    ("connector-change", "page_size", "0", "page_size"),
    # Reviews
    ("review-change", "content", NUL, "content"),
    ("review-change", "review_id", over(128), "review_id"),
    ("review-change", "stars", HUGE, "stars"),
    ("review-change", "item_price", "1.234", "item_price"),
    ("review-change", "item_price", "1" * 12, "item_price"),
    ("review-change", "item_price", "NaN", "item_price"),
    ("review-change", "tier", "awful", "tier"),
    ("review-change", "rated_at_0", "2026-13-45", "rated_at"),
    ("review-change", "buyer", "abc", "buyer"),
    ("review-change", "buyer", HUGE, "buyer"),
    ("review-change", "review_id", None, "review_id"),
    # Agents
    ("agentprofile-add", "user", None, "user"),
    ("agentprofile-add", "user", str(10**30), "user"),
    ("agentprofile-add", "role", "boss", "role"),
    ("agentprofile-add", "capacity", HUGE, "capacity"),
    ("agentprofile-add", "capacity", "-1", "capacity"),
    ("agentprofile-add", "remedy_cap", "-0.01", "remedy_cap"),
    ("agentprofile-add", "remedy_cap", "0.001", "remedy_cap"),
    ("agentprofile-add", "remedy_cap", HUGE, "remedy_cap"),
    ("agentprofile-add", "remedy_cap", "Infinity", "remedy_cap"),
    ("agentprofile-add", "shops", ["abc"], "shops"),
    ("agentprofile-add", "skills", '"senior"', "skills"),
    *[("agentprofile-add", "skills", value, "skills") for value in JSON_BAD],
    ("agentprofile-add", "shift_schedule", '{"mon": [["18:00", "09:00"]]}', "shift_schedule"),
    ("agentprofile-add", "shift_schedule", '{"funday": []}', "shift_schedule"),
    ("agentprofile-add", "shift_schedule", '{"mon": [[9, 18]]}', "shift_schedule"),
    *[("agentprofile-add", "shift_schedule", value, "shift_schedule") for value in JSON_BAD],
    ("agentprofile-change", "last_assigned_at_0", "99999-01-01", "last_assigned_at"),
    ("agentprofile-change", "skills", '["\\u0000"]', "skills"),
    ("agentprofile-change", "capacity", "abc", "capacity"),
    # Calendars, holidays, SLA policies
    ("calendar-add", "name", over(100), "name"),
    ("calendar-add", "name", "工作日", "name"),  # taken
    ("calendar-add", "timezone", "Mars/Olympus", "timezone"),
    ("calendar-add", "timezone", "../../etc/passwd", "timezone"),
    ("calendar-add", "timezone", NUL, "timezone"),
    ("calendar-add", "weekly_hours", "{}", "weekly_hours"),
    ("calendar-add", "weekly_hours", '{"mon": [["09:00", "25:00"]]}', None),
    *[("calendar-add", "weekly_hours", value, "weekly_hours") for value in JSON_BAD],
    ("calendar-add", "makeup_day_hours", '[["x", "y"]]', None),
    ("calendar-add", "days-0-date", "2026-13-45", "days-0-date"),
    ("calendar-add", "days-0-date", "0000-01-01", "days-0-date"),
    ("calendar-add", "days-0-date", "99999-01-01", "days-0-date"),
    ("calendar-add", "days-0-kind", "party", "days-0-kind"),
    ("calendar-add", "days-0-name", over(100), "days-0-name"),
    ("calendar-add", "days-0-name", NUL, "days-0-name"),
    ("calendar-add", "days-0-hours", '[["12:00", "09:00"]]', "days-0-hours"),
    *[("calendar-add", "days-0-hours", value, "days-0-hours") for value in JSON_BAD],
    ("calendar-add", "days-TOTAL_FORMS", "abc", None),
    ("calendar-add", "days-TOTAL_FORMS", HUGE, None),
    ("calendar-change", "days-0-date", "2026-02-30", "days-0-date"),
    ("calendar-change", "days-0-kind", None, "days-0-kind"),
    ("slapolicy-add", "tier", "negative", None),  # shop A has its negative policy
    ("slapolicy-add", "tier", "awful", "tier"),
    ("slapolicy-add", "calendar", "999999", "calendar"),
    ("slapolicy-add", "first_contact_minutes", HUGE, "first_contact_minutes"),
    ("slapolicy-add", "first_contact_minutes", "-60", "first_contact_minutes"),
    ("slapolicy-add", "resolution_minutes", "ten", "resolution_minutes"),
    ("slapolicy-add", "warning_ratio", "0.999", "warning_ratio"),
    ("slapolicy-add", "warning_ratio", "1.5", "warning_ratio"),
    ("slapolicy-add", "warning_ratio", "-0.5", "warning_ratio"),
    ("slapolicy-add", "warning_ratio", "NaN", "warning_ratio"),
    ("slapolicy-add", "breach_action", "panic", "breach_action"),
    ("slapolicy-change", "resolution_margin_hours", HUGE, "resolution_margin_hours"),
    ("notification-change", "read_at_0", "2026-13-45", "read_at"),
    ("notification-change", "read_at_0", "0000-01-01", "read_at"),
    # Causes, keyword rules, call scripts, compliance phrases
    ("cause-add", "code", "not a slug!", "code"),
    ("cause-add", "code", "poor_quality", "code"),  # taken
    ("cause-add", "code", "a" * 65, "code"),
    ("cause-add", "group", "weather", "group"),
    ("cause-add", "name_zh", over(100), "name_zh"),
    ("cause-add", "name_en", NUL, "name_en"),
    ("cause-add", "position", HUGE, "position"),
    ("cause-add", "position", "-1", "position"),
    ("cause-add", "keyword_rules-0-keywords", NUL, "keyword_rules-0-keywords"),
    ("cause-add", "keyword_rules-0-priority", HUGE, "keyword_rules-0-priority"),
    ("cause-add", "keyword_rules-0-platform", "weibo", "keyword_rules-0-platform"),
    ("cause-change", "name_zh", None, "name_zh"),
    ("keywordrule-add", "cause", "999999", "cause"),
    ("keywordrule-add", "keywords", None, "keywords"),
    ("keywordrule-add", "keywords", NUL, "keywords"),
    ("keywordrule-add", "priority", "1.5", "priority"),
    ("keywordrule-add", "priority", "-" + HUGE, "priority"),
    ("keywordrule-add", "platform", "weibo", "platform"),
    ("keywordrule-change", "priority", "abc", "priority"),
    ("callscript-add", "name", over(100), "name"),
    ("callscript-add", "body", NUL, "body"),
    ("callscript-add", "body", "好评返现" + MB, "body"),
    ("callscript-add", "body", None, "body"),
    ("callscript-add", "cause", "no_such_cause", "cause"),
    ("callscript-add", "cause", over(64), "cause"),
    ("callscript-add", "platform", "weibo", "platform"),
    ("callscript-change", "body", "好评返现", "body"),
    ("phrase-add", "text", over(200), "text"),
    ("phrase-add", "text", NUL, "text"),
    ("phrase-add", "text", None, "text"),
    ("phrase-add", "kind", "glob", "kind"),
    ("phrase-add", "reason", over(200), "reason"),
    ("phrase-change", "text", MB, "text"),
    # Follow-up visits
    ("visit-add", "ticket", None, "ticket"),
    ("visit-add", "ticket", "abc", "ticket"),
    ("visit-add", "ticket", HUGE, "ticket"),
    ("visit-add", "agent", "-1", "agent"),
    *[("visit-add", "due_on", value, "due_on") for value in BAD_DATES],
    ("visit-add", "note", NUL, "note"),
    ("visit-add", "done_at_0", "2026-13-45", "done_at"),
    ("visit-change", "due_on", None, "due_on"),
    # Buyers, buyer notes, contact etiquette
    ("buyer-change", "open_id", over(128), "open_id"),
    ("buyer-change", "open_id", NUL, "open_id"),
    ("buyer-change", "open_id", None, "open_id"),
    ("buyer-change", "platform", "weibo", "platform"),
    ("buyer-change", "region", MB, "region"),
    ("buyer-change", "time_zone", "Mars/Olympus", "time_zone"),
    ("buyer-change", "time_zone", "Asia/", "time_zone"),
    ("buyer-change", "time_zone", over(64), "time_zone"),
    ("buyernote-add", "buyer", None, "buyer"),
    ("buyernote-add", "buyer", "abc", "buyer"),
    ("buyernote-add", "buyer", HUGE, "buyer"),
    ("buyernote-add", "author", "999999", "author"),
    ("buyernote-add", "tags", ["picky", "rude"], "tags"),
    ("buyernote-add", "tags", [NUL], "tags"),
    ("buyernote-add", "tags", ["\\u0000"], "tags"),
    ("buyernote-add", "tags", ["[" * 100_000], "tags"),
    ("buyernote-add", "tags", ["1"], "tags"),
    ("buyernote-add", "text", NUL, "text"),
    ("buyernote-add", "created_at_0", "2026-13-45", "created_at"),
    ("buyernote-change", "tags", ["\\ud800"], "tags"),
    ("etiquette-add", "shop", None, "shop"),
    ("etiquette-add", "shop", str(0), "shop"),
    ("etiquette-add", "max_attempts_per_day", "0", "max_attempts_per_day"),
    ("etiquette-add", "max_attempts_per_day", HUGE, "max_attempts_per_day"),
    ("etiquette-add", "min_minutes_between_calls", "-1", "min_minutes_between_calls"),
    ("etiquette-add", "quiet_hours_start", "25:00", "quiet_hours_start"),
    ("etiquette-add", "quiet_hours_end", "9pm", "quiet_hours_end"),
    ("etiquette-add", "default_time_zone", "Mars/Olympus", "default_time_zone"),
    ("etiquette-add", "default_time_zone", NUL, "default_time_zone"),
    ("etiquette-change", "shop", str(10**30), "shop"),
    ("etiquette-change", "default_time_zone", over(64), "default_time_zone"),
]


def _case_id(case):
    form, field, value, _where = case
    shown = repr(value)
    return f"{form}:{field}={shown[:24]}{'…' if len(shown) > 24 else ''}"


@pytest.mark.parametrize(("form", "field", "value", "where"), ADMIN_BAD_INPUT, ids=map(_case_id, ADMIN_BAD_INPUT))
def test_bad_admin_input_is_shown_beside_the_field_and_stores_nothing(root, world, form, field, value, where):
    url, data = admin_form(root, world, form)
    fill(data, {field: value})
    before = snapshot()

    response = root.post(url, data)

    assert_admin_field_error(response, where)
    assert_unchanged(before)


# Admin lists: search, filters, date drill-down, list editing and actions ---------------------------

ADMIN_LISTS = [
    "/admin/reviews/shop/",
    "/admin/reviews/review/",
    "/admin/reviews/inboundevent/",
    "/admin/reviews/connector/",
    "/admin/reviews/apikey/",
    "/admin/tickets/ticket/",
    "/admin/tickets/ticketevent/",
    "/admin/tickets/cause/",
    "/admin/tickets/callscript/",
    "/admin/tickets/compliancephrase/",
    "/admin/tickets/agentprofile/",
    "/admin/tickets/followupvisit/",
    "/admin/contacts/buyer/",
    "/admin/contacts/buyernote/",
    "/admin/contacts/personaldatareveal/",
]
LIST_QUERIES = [
    f"q={quote(NUL)}",
    "q=" + "x" * 100_000,
    "q=%ED%A0%80%FF%zz",
    "o=abc",
    "o=99.-98",
    "p=abc",
    "p=" + HUGE,
    "platform__exact=weibo",
    "shop__id__exact=abc",
    "shops__id__exact=" + HUGE,
    "is_active__exact=maybe",
    "due_on__gte=2026-13-45",
    "e=1&e=2",
    # Any lookup on a list's own fields passes Django's checks: refused when it cannot be run.
    "id__gt=" + HUGE,
    "id__regex=(",
    "id__year=99999",
    "id__in=1,abc",
]
# The date drill-down (date_hierarchy) of the lists that have one.
DRILL_DOWNS = {
    "/admin/reviews/review/": "rated_at",
    "/admin/tickets/ticketevent/": "created_at",
    "/admin/contacts/buyernote/": "created_at",
    "/admin/contacts/personaldatareveal/": "created_at",
}
BAD_DRILL_DOWNS = [
    "{f}__year=99999",
    "{f}__year=0",
    "{f}__year=abc&{f}__month=13",
    "{f}__year=2026&{f}__month=2&{f}__day=30",
    "{f}__year=9999&{f}__month=12&{f}__day=31",
    f"{{f}}__year={HUGE}",
]


@pytest.mark.parametrize("query", LIST_QUERIES)
def test_bad_admin_list_queries_are_refused_or_ignored_never_a_500(root, world, query):
    for url in ADMIN_LISTS:
        response = root.get(f"{url}?{query}")
        assert response.status_code in (200, 302), (url, query, response.status_code)
        if response.status_code == 302:
            assert response["Location"].endswith("?e=1"), response["Location"]


@pytest.mark.parametrize("query", BAD_DRILL_DOWNS)
def test_a_bad_date_drill_down_is_refused_never_a_500(root, world, query):
    for url, field in DRILL_DOWNS.items():
        response = root.get(f"{url}?{query.format(f=field)}")
        assert response.status_code in (200, 302), (url, query, response.status_code)
        if response.status_code == 302:
            assert response["Location"].endswith("?e=1"), response["Location"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("position", HUGE), ("position", "-1"), ("position", "abc"), ("position", ""), ("id", "999999"), ("id", "abc")],
)
def test_bad_list_editing_of_causes_is_shown_in_the_list_and_stores_nothing(root, world, field, value):
    page = root.get("/admin/tickets/cause/")
    data = form_values(page.content.decode(), "changelist-form")
    data.update({f"form-0-{field}": [value], "_save": ["Save"]})
    data.pop("action", None)
    before = snapshot()

    response = root.post("/admin/tickets/cause/", data)

    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert 'class="errornote"' in html
    if field != "id":  # a forged hidden id has no box to show its error beside
        assert re.search(rf'<td class="field-{field}"><ul class="errorlist', html), html[-8000:]
    assert_unchanged(before)


ADMIN_ACTIONS = [
    ("/admin/tickets/remedy/", "approve"),
    ("/admin/tickets/remedy/", "reject"),
    ("/admin/tickets/agentprofile/", "go_on_duty"),
    ("/admin/reviews/apikey/", "revoke"),
    ("/admin/reviews/personaltoken/", "revoke"),
    ("/admin/reviews/connector/", "pull_now"),
    ("/admin/reviews/connector/", "no_such_action"),
    ("/admin/reviews/shop/", "delete_selected"),
]


NOT_IDS = "The selection is not valid; no items have been changed."
NONE_SELECTED = "Items must be selected in order to perform actions on them. No items have been changed."


@pytest.mark.parametrize(
    ("selected", "message"),
    [(["abc"], NOT_IDS), ([NUL], NOT_IDS), (["1", "1.5"], NOT_IDS), ([HUGE], None), (["-1"], None), ([], None)],
)
@pytest.mark.parametrize(("url", "action"), ADMIN_ACTIONS)
def test_an_admin_action_on_a_forged_selection_does_nothing(root, world, url, action, selected, message):
    before = snapshot()

    response = root.post(url, {"action": action, "_selected_action": selected, "index": "0"})

    assert response.status_code in (200, 302), response.status_code
    if message and action != "no_such_action":
        assert message in texts(response)
    if not selected:
        assert NONE_SELECTED in texts(response) or action == "no_such_action"
    assert_unchanged(before)


def test_an_admin_form_with_too_many_fields_is_a_400(root, world):
    before = snapshot()
    response = root.post("/admin/reviews/apikey/", {"action": "revoke", "_selected_action": ["1"] * 1200})
    assert response.status_code == 400
    assert_unchanged(before)


# Our pages: helpers ----------------------------------------------------------------------------


def form_on_page(response, testid):
    """The HTML of the form marked `data-testid=testid`."""
    html = response.content.decode()
    assert f'data-testid="{testid}"' in html, f"no {testid} on the page"
    form = html[html.index(f'data-testid="{testid}"') :]
    return form[: form.index("</form>")]


def assert_error_beside(form_html, field):
    """The form's own error markup: beside the box named `field`, or of the whole form (None)."""
    if field is None:
        assert 'class="errorlist nonfield"' in form_html, form_html
        return
    boxes = [b for b in re.split(r'(?=<div class="field)', form_html) if f'name="{field}"' in b]
    assert boxes, f"no {field} box in the form"
    assert any('class="errorlist' in box for box in boxes), f"no error beside {field}: {boxes}"


def post_raw(client, url, body):
    """POST a hand-written urlencoded body (invalid percent-encoding and the like)."""
    return client.generic("POST", url, body.encode("latin-1"), content_type="application/x-www-form-urlencoded")


# The buyer page: reveal, note, list mark -------------------------------------------------------

BUYER_BAD_INPUT = [
    ("reveal", {"field": "email", "reason": "回访"}, "field"),
    ("reveal", {"field": NUL, "reason": "回访"}, "field"),
    ("reveal", {"field": ["phone", "email"], "reason": "回访"}, "field"),  # the last counts
    ("reveal", {"reason": "回访"}, "field"),
    ("reveal", {"field": "phone"}, "reason"),
    ("reveal", {"field": "phone", "reason": "   "}, "reason"),
    ("reveal", {"field": "phone", "reason": over(500)}, "reason"),
    ("reveal", {"field": "phone", "reason": MB}, "reason"),
    ("reveal", {"field": "phone", "reason": NUL}, "reason"),
    ("reveal", "field=%ED%A0%80&reason=%FF%zz", "field"),
    ("note", {}, None),
    ("note", {"text": " \n\t "}, None),
    ("note", {"text": over(2000)}, "text"),
    ("note", {"text": MB}, "text"),
    ("note", {"text": NUL}, "text"),
    ("note", {"tags": "impatient", "text": over(2000)}, "text"),
    ("note", {"tags": ["rude"]}, "tags"),
    ("note", {"tags": ["impatient", NUL]}, "tags"),
    ("list-mark", {"mark": "blacklist"}, "reason"),
    ("list-mark", {"mark": "whitelist", "reason": over(500)}, "reason"),
    ("list-mark", {"mark": "blacklist", "reason": MB}, "reason"),
    ("list-mark", {"mark": "blacklist", "reason": NUL}, "reason"),
    ("list-mark", {"mark": "greylist", "reason": "恶意"}, "mark"),
    ("list-mark", {"reason": "恶意"}, "mark"),
]
BUYER_FORMS = {"reveal": "reveal-form", "note": "note-form", "list-mark": "list-mark-form"}


@pytest.mark.parametrize(("action", "data", "field"), BUYER_BAD_INPUT)
def test_bad_buyer_page_input_is_shown_beside_the_field_and_stores_nothing(world, action, data, field):
    client = login(world.supervisor)
    url = f"/buyers/{world.buyer.pk}/{'notes' if action == 'note' else action}/"
    before = snapshot()

    response = post_raw(client, url, data) if isinstance(data, str) else client.post(url, data)

    assert response.status_code == 400, response.status_code
    assert texts(response) == ["Please correct the errors below."]
    assert_error_beside(form_on_page(response, BUYER_FORMS[action]), field)
    assert "revealed-value" not in response.content.decode()
    assert_unchanged(before)


# Login, language and duty switches, notifications, remedy decisions ----------------------------

LOGIN_BAD_INPUT = [
    ({"username": NUL, "password": "pw-123456"}, "username"),
    ({"password": "pw-123456"}, "username"),
    ({"username": "agent_a"}, "password"),
    ({"username": "agent_a", "password": ""}, "password"),
    ({"username": "agent_a", "password": NUL}, "password"),
    ({"username": ["agent_a", NUL], "password": "pw-123456"}, "username"),
    ("username=%ED%A0%80%00&password=%FF", "username"),
]


@pytest.mark.parametrize(("data", "field"), LOGIN_BAD_INPUT)
def test_a_malformed_login_is_shown_beside_the_field_and_nobody_logs_in(world, data, field):
    client = Client()
    before = snapshot()

    response = post_raw(client, "/login/", data) if isinstance(data, str) else client.post("/login/", data)

    assert response.status_code == 200, response.status_code
    assert_error_beside(form_on_page(response, "login-form"), field)
    assert "_auth_user_id" not in client.session
    assert_unchanged(before)  # not even a failed attempt: the password was never checked


@pytest.mark.parametrize(
    ("username", "password"),
    [("agent_a", MB), ("agent_a", "pw-123456 "), (over(150), "pw-123456"), (MB, "pw-123456"), ("字" * 300, "x")],
)
def test_an_oversized_username_or_password_is_a_failed_login_counted_for_the_lockout(world, username, password):
    """Django's login form does not check the username's length: the login is tried, fails, and
    the lockout counts it under the username's first 255 characters (what its column holds)."""
    client = Client()
    users = list(get_user_model().objects.order_by("pk").values())

    response = client.post("/login/", {"username": username, "password": password})

    assert response.status_code == 200
    assert_error_beside(form_on_page(response, "login-form"), None)
    assert "_auth_user_id" not in client.session
    assert list(get_user_model().objects.order_by("pk").values()) == users
    assert AccessAttempt.objects.get().username == username[:255]


@pytest.mark.parametrize("next_url", [NUL, "//evil.example/", "https://evil.example/", MB[:10_000], "/\\\\evil"])
def test_a_login_with_a_bad_next_goes_to_a_page_of_the_desk(world, next_url):
    response = Client().post("/login/", {"username": "agent_a", "password": "pw-123456", "next": next_url})

    assert response.status_code == 302
    assert "evil" not in response["Location"] and not response["Location"].startswith("//")


@pytest.mark.parametrize(
    "data",
    [
        {"language": "xx"},
        {"language": NUL},
        {"language": MB},
        {"language": "zh-hans\x00"},
        {"language": ["en", "xx"]},
        {},
        "language=%ED%A0%80&next=%FF%zz",
    ],
)
def test_an_unknown_language_is_ignored_and_the_switch_goes_back(world, data):
    client = login(world.agent)
    before = snapshot()

    response = (
        post_raw(client, "/i18n/setlang/", data) if isinstance(data, str) else client.post("/i18n/setlang/", data)
    )

    assert response.status_code == 302
    assert "django_language" not in response.cookies
    assert_unchanged(before)


@pytest.mark.parametrize("next_url", [NUL, "//evil.example/", "https://evil.example/x", MB[:10_000], ""])
def test_the_language_switch_never_sends_anyone_away_from_the_desk(world, next_url):
    response = login(world.agent).post("/i18n/setlang/", {"language": "en", "next": next_url})

    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
    assert "evil" not in response["Location"] and not response["Location"].startswith("//")


@pytest.mark.parametrize(
    "data",
    [{"on_duty": "maybe"}, {"on_duty": NUL}, {"on_duty": MB}, {"on_duty": HUGE}, {}, {"on_duty": ["1", "2"]}],
)
def test_a_malformed_duty_switch_says_so_and_changes_nothing(world, data):
    client = login(world.agent)
    before = snapshot()

    response = client.post("/duty/", {**data, "next": "/pool/"})

    assert response.status_code == 302 and response["Location"] == "/pool/"
    assert texts(response) == ["Choose on duty or off duty."]
    assert_unchanged(before)


def test_a_duty_switch_with_invalid_percent_encoding_says_so(world):
    client = login(world.agent)
    before = snapshot()
    response = post_raw(client, "/duty/", "on_duty=%ED%A0%80&next=/pool/")
    assert response.status_code == 302
    assert texts(response) == ["Choose on duty or off duty."]
    assert_unchanged(before)


@pytest.mark.parametrize("next_url", ["abc", "%FF%zz"])
def test_a_next_that_is_not_a_path_goes_back_to_the_queue(world, next_url):
    """redirect() would take a string without "/" or "." for a URL pattern name (NoReverseMatch,
    a 500): only a local path is followed."""
    response = login(world.agent).post("/duty/", {"on_duty": "maybe", "next": next_url})
    assert response.status_code == 302 and response["Location"] == "/"


@pytest.mark.parametrize("notification_id", ["abc", NUL, "²", "-1", "1.0", MB[:5000]])
def test_marking_a_malformed_notification_read_says_so_and_changes_nothing(world, notification_id):
    client = login(world.agent)
    before = snapshot()
    response = client.post("/notifications/read/", {"id": notification_id})
    assert response.status_code == 302
    assert texts(response) == ["Unknown notification."]
    assert_unchanged(before)


def test_marking_a_notification_id_beyond_any_column_read_changes_nothing(world):
    client = login(world.agent)
    before = snapshot()
    response = client.post("/notifications/read/", {"id": HUGE})
    assert response.status_code == 302
    assert_unchanged(before)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"approve": "maybe"}, "Select a valid choice. maybe is not one of the available choices."),
        ({}, "This field is required."),
        ({"approve": "0", "reason": over(2000)}, "Ensure this value has at most 2000 characters (it has 2001)."),
        ({"approve": "0", "reason": NUL}, "Null characters are not allowed."),
        ({"approve": "0", "reason": MB}, "Ensure this value has at most 2000 characters (it has 1000000)."),
    ],
)
def test_a_malformed_remedy_decision_says_why_and_changes_nothing(world, data, message):
    client = login(world.supervisor)
    before = snapshot()
    response = client.post(f"/remedies/{world.remedy.pk}/decide/", {**data, "next": "/approvals/"})
    assert response.status_code == 302 and response["Location"] == "/approvals/"
    assert message in texts(response)
    assert_unchanged(before)


# Filters (GET) ---------------------------------------------------------------------------------

# (query string, whether it is refused with a message); the rest are read sensibly or ignored.
TICKET_FILTERS = [
    ("status=bogus", True),
    ("status=new&status=bogus", True),
    ("status=new&status=assigned", False),
    ("platform=weibo", True),
    ("platform=taobao&platform=weibo", True),
    ("tier=awful", True),
    ("sla=late", True),
    ("outcome=won", True),
    ("verified=maybe", True),
    *[(f"created_after={day}", True) for day in BAD_DATES],
    ("created_before=2026-03-02T25:00", True),
    ("created_before=2026-03-02T10:00:00%2B99:00", True),
    ("created_after=9999-12-31T23:59:59-23:59", True),
    ("created_after=0001-01-01T00:00:00%2B14:00", True),
    ("created_before=9999-12-31", False),
    ("created_after=0001-01-01", False),
    ("assignee=abc", True),
    ("assignee=%C2%B2", True),  # "²" is a digit to str.isdigit()
    (f"assignee={HUGE}", False),
    ("q=" + "x" * 201, True),
    (f"q={quote(NUL)}", True),
    (f"shop={quote(NUL)}", True),
    (f"cause={quote(NUL)}", True),
    ("q=%ED%A0%80%FF%zz", False),  # decoded with replacement characters
    ("shop=" + "x" * 100_000, False),
    ("page=abc", False),
    (f"page={HUGE}", False),
    ("page=-1", False),
]


@pytest.mark.parametrize("path", ["/", "/pool/", "/tickets/"])
@pytest.mark.parametrize(("query", "refused"), TICKET_FILTERS)
def test_bad_ticket_list_filters_are_listed_above_the_list(world, path, query, refused):
    response = login(world.supervisor).get(f"{path}?{query}")

    assert response.status_code == 200, response.status_code
    assert ('data-testid="filter-errors"' in response.content.decode()) == refused


@pytest.mark.parametrize(("query", "refused"), TICKET_FILTERS)
def test_bad_ticket_export_filters_are_a_400_with_the_problems(world, query, refused):
    response = login(world.supervisor).get(f"/dashboard/tickets.csv?{query}")

    if refused:
        assert response.status_code == 400, response.status_code
        assert 'data-testid="dashboard-errors"' in response.content.decode()
    else:
        assert response.status_code == 200, response.status_code
        assert response["Content-Type"].startswith("text/csv")


DASHBOARD_FILTERS = [
    *[(f"from={day}", "from") for day in BAD_DATES],
    ("to=2026-03-02T10:00", "to"),
    (f"from={quote(NUL)}", "from"),
    ("from=%ED%A0%80", "from"),
    ("from=" + "9" * 100_000, "from"),
    ("from=2026-03-10&to=2026-03-01", "to"),
    ("from=2020-01-01&to=2026-01-01", "to"),
    ("from=9999-12-01&to=9999-12-31", "to"),
    ("platform=weibo", "platform"),
    ("platform=taobao&platform=weibo", "platform"),
    ("from=2026-03-01&from=2026-13-45", "from"),
]


DASHBOARD_LABELS = {"from": "From", "to": "To", "platform": "Platform"}  # as the form names them


@pytest.mark.parametrize(("query", "field"), DASHBOARD_FILTERS)
@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/export/agent.csv", "/dashboard/export/day.csv"])
def test_bad_dashboard_filters_are_a_400_naming_the_parameter(world, path, query, field):
    response = login(world.supervisor).get(f"{path}?{query}")

    assert response.status_code == 400, response.status_code
    html = response.content.decode()
    assert 'data-testid="dashboard-filters"' in html
    assert re.search(rf'data-testid="dashboard-errors"><li data-field="{field}">{DASHBOARD_LABELS[field]}: ', html), (
        html[-3000:]
    )


@pytest.mark.parametrize(
    "query",
    [
        f"shop={quote(NUL)}",  # no shop has it: empty figures
        "shop=%ED%A0%80",
        "shop=" + "x" * 100_000,
        "shop=tb-a&shop=jd-b",
        "from=0001-01-01&to=0001-01-03",
        "to=0001-01-03",  # the default 30 days would start before year 1
        "from=0001-02-01&to=0001-02-03",
        "from=9999-12-01&to=9999-12-29",
        "page=abc",
    ],
)
@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/export/agent.csv", "/dashboard/export/day.csv"])
def test_odd_but_well_formed_dashboard_filters_show_figures(world, path, query):
    response = login(world.supervisor).get(f"{path}?{query}")

    assert response.status_code == 200, response.status_code


def test_an_unknown_breakdown_is_a_404(world):
    assert login(world.supervisor).get("/dashboard/export/bogus.csv").status_code == 404


@pytest.mark.parametrize(
    "factor",
    ["abc", "nan", "NaN", "inf", "-inf", "-5", "0", HUGE, "1e400", quote(NUL), "", "2&factor=nan", "x" * 100_000],
)
def test_a_bad_sku_alert_factor_says_so_and_falls_back_to_the_default(world, factor):
    response = login(world.supervisor).get(f"/dashboard/feedback/?factor={factor}")

    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    shown = re.search(r'name="factor"[^>]* value="([^"]*)"', html).group(1)
    assert 1 <= float(shown) <= 100, shown
    assert ('data-testid="factor-errors"' in html) == (factor != ""), html[-2000:]


@pytest.mark.parametrize("factor", ["1", "2.5", "100"])
def test_a_good_sku_alert_factor_is_used_without_a_complaint(world, factor):
    html = login(world.supervisor).get(f"/dashboard/feedback/?factor={factor}").content.decode()

    assert float(re.search(r'name="factor"[^>]* value="([^"]*)"', html).group(1)) == float(factor)
    assert 'data-testid="factor-errors"' not in html


AUDIT_FILTERS = [
    *[(f"date_from={day}", "date_from") for day in BAD_DATES],
    ("date_to=2026-02-30", "date_to"),
    ("date_from=2026-03-10&date_to=2026-03-01", "date_to"),
    ("kind=bogus", "kind"),
    (f"kind={quote(NUL)}", "kind"),
    ("actor=" + quote(over(150)), "actor"),
    (f"actor={quote(NUL)}", "actor"),
    ("shop=999999", "shop"),
    ("shop=abc", "shop"),
    (f"shop={HUGE}", "shop"),
    ("ticket=abc", "ticket"),
    ("ticket=0", "ticket"),
    ("ticket=1.5", "ticket"),
    ("ticket=" + "9" * 100_000, "ticket"),
    ("date_to=9999-12-31", "date_to"),
    ("date_from=0001-01-01&date_to=9999-12-31", "date_to"),
]


@pytest.mark.parametrize(("query", "field"), AUDIT_FILTERS)
def test_bad_audit_log_filters_are_listed_above_the_list(world, query, field):
    response = login(world.supervisor).get(f"/audit/?{query}")

    assert response.status_code == 200, response.status_code
    assert field in response.context["form"].errors
    assert 'data-testid="filter-errors"' in response.content.decode()
    assert response.context["page"] is None


@pytest.mark.parametrize(
    "query",
    [
        "date_to=9999-12-30",
        "date_from=0001-01-01",
        "date_from=0001-01-01&date_to=9999-12-30",
        f"ticket={HUGE}",
        "actor=%ED%A0%80",
        "page=abc",
        f"page={HUGE}",
        "kind=note&kind=api_key_use",
    ],
)
def test_odd_but_well_formed_audit_log_filters_show_the_list(world, query):
    response = login(world.supervisor).get(f"/audit/?{query}")

    assert response.status_code == 200, response.status_code
    assert not response.context["form"].errors
    assert response.context["page"] is not None


@pytest.mark.parametrize("query", ["page=abc", f"page={HUGE}", "page=-1", f"page={quote(NUL)}"])
def test_a_bad_page_number_shows_a_page_of_notifications(world, query):
    assert login(world.agent).get(f"/notifications/?{query}").status_code == 200


def test_bad_ticket_list_filters_in_an_htmx_poll_get_the_rows(world):
    response = login(world.supervisor).get(f"/pool/?status=bogus&created_after={BAD_DATES[0]}", HTTP_HX_REQUEST="true")
    assert response.status_code == 200


@pytest.mark.parametrize("ticket", ["abc", quote(NUL), "%C2%B2", HUGE, "-1", "", "1&ticket=abc"])
def test_a_bad_ticket_for_the_evidence_pack_is_a_404(world, ticket):
    response = login(world.supervisor).get(f"/buyers/{world.buyer.pk}/evidence/?ticket={ticket}")
    assert response.status_code == 404


@pytest.mark.parametrize("object_id", ["abc", HUGE, "%00", "-1"])
@pytest.mark.parametrize("model", ["reviews/shop", "reviews/connector", "tickets/agentprofile", "contacts/buyer"])
def test_an_admin_change_page_of_a_malformed_id_goes_back_to_the_list(root, world, model, object_id):
    response = root.get(f"/admin/{model}/{object_id}/change/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": NUL, "password": "pw-123456"}, "username"),
        ({"username": "root", "password": NUL}, "password"),
        ({"username": "root"}, "password"),
        ({"username": MB, "password": "pw-123456"}, None),
    ],
)
def test_a_malformed_admin_login_is_refused_with_the_error_on_the_page(world, data, field):
    client = Client()
    users = list(get_user_model().objects.order_by("pk").values())

    response = client.post("/admin/login/?next=/admin/", data)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="errornote"' in html
    if field:
        rows = [row for row in html.split('<div class="form-row">') if f'name="{field}"' in row.split("</div>")[0]]
        assert rows and 'class="errorlist' in rows[0], f"no error beside {field}"
    assert "_auth_user_id" not in client.session
    assert list(get_user_model().objects.order_by("pk").values()) == users


@pytest.mark.parametrize(
    "data",
    [
        {"old_password": NUL, "new_password1": "Xy-8c2!kq9", "new_password2": "Xy-8c2!kq9"},
        {"old_password": MB, "new_password1": "Xy-8c2!kq9", "new_password2": "Xy-8c2!kq9"},
        {"old_password": "pw-123456", "new_password1": "Xy-8c2!kq9", "new_password2": "Xy-8c2!kq0"},
        {"old_password": "pw-123456", "new_password1": NUL, "new_password2": NUL},
        {},
    ],
)
def test_a_malformed_password_change_is_refused_and_keeps_the_password(root, world, data):
    before = snapshot()

    response = root.post("/admin/password_change/", data)

    assert response.status_code == 200
    assert 'class="errornote"' in response.content.decode()
    assert_unchanged(before)


def test_the_new_messages_read_in_chinese(root, world):
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
    response = root.post("/admin/reviews/apikey/", {"action": "revoke", "_selected_action": ["abc"]}, **zh)
    assert texts(response) == ["所选条目无效，未做任何更改。"]

    url, data = admin_form(root, world, "agentprofile-add")
    fill(data, {"skills": '["\\ud800"]'})
    assert "文本不能包含未配对的代理字符。" in root.post(url, data, **zh).content.decode()

    response = login(world.supervisor).get("/audit/?date_to=9999-12-31", **zh)
    assert "请输入 9999-12-31 之前的日期。" in response.content.decode()

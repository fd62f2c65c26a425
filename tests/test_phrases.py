"""Timeline lines and notifications in each reader's language: they are written once, by a
colleague who reads Chinese or by a worker, and read by people who read English or Chinese."""

# ruff: noqa: F811 - pytest finds the shared fixtures (tests/workspace.py) by the names imported here

import datetime as dt

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from tickets import phrases
from tickets.choices import TimelineKind
from tickets.models import Notification, TicketEvent
from tickets.phrases import Phrase, label, names, render, stored, text
from tickets.sla import sla_sweep

from .workspace import login, pool_ticket, ticket  # noqa: F401

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def work_the_ticket_in_chinese(ticket, agent):
    """A colleague's day on the ticket, with a Chinese browser."""
    client = login(agent)
    posts = [
        ("contact-attempts", {"channel": "im", "result": "message_sent"}),
        ("contact-attempts", {"channel": "phone", "result": "reached"}),
        ("cause", {"cause": "damaged"}),
        ("remedies", {"kind": "coupon", "amount": "10.00", "status": "offered"}),
        ("escalate", {"reason": "买家情绪激动，请主管处理"}),
    ]
    for action, data in posts:
        response = client.post(f"/tickets/{ticket.pk}/{action}/", data, **ZH)
        assert response.status_code == 302, (action, response.content.decode()[:1000])
    return client


def test_a_timeline_written_in_chinese_reads_in_english_for_an_english_reader(ticket, agent):
    client = work_the_ticket_in_chinese(ticket, agent)

    stored_messages = list(TicketEvent.objects.filter(ticket=ticket).values_list("message", flat=True))
    with translation.override("zh-hans"):
        assert str(phrases.contact_attempt("im", "message_sent")) in stored_messages  # as written

    english = client.get(f"/tickets/{ticket.pk}/", **EN).content.decode()
    chinese = client.get(f"/tickets/{ticket.pk}/", **ZH).content.decode()
    with translation.override("en"):
        for sentence in (
            "IM: Message sent",
            "Phone: Reached",
            "Coupon 10.00: Offered.",
            "Contacting the buyer.",
        ):
            assert sentence in english, sentence
    with translation.override("zh-hans"):
        contact = str(phrases.contact_attempt("phone", "reached"))
        remedy = str(phrases.remedy_recorded("coupon", 10, "offered"))
    assert contact in chinese and remedy in chinese
    assert contact not in english and remedy not in english
    # What someone typed stays as they typed it, in both.
    assert "买家情绪激动，请主管处理" in english and "买家情绪激动，请主管处理" in chinese


def test_every_sentence_the_desk_writes_has_a_chinese_translation(ticket, agent, supervisor):
    work_the_ticket_in_chinese(ticket, agent)
    sla_sweep(now=timezone.now() + dt.timedelta(days=30))
    written = list(TicketEvent.objects.exclude(phrase=None).values_list("phrase", flat=True))
    written += list(Notification.objects.exclude(phrase=None).values_list("phrase", flat=True))
    msgids = {p["id"] for p in written}
    assert len(msgids) >= 8, msgids
    with translation.override("zh-hans"):
        untranslated = sorted(m for m in msgids if gettext(m) == m)
    assert untranslated == []


def test_notifications_written_by_the_sla_sweep_read_in_the_readers_language(ticket, agent, supervisor):
    with translation.override("zh-hans"):
        sla_sweep(now=timezone.now() + dt.timedelta(days=30))
    notice = Notification.objects.filter(recipient=agent).first()
    assert notice is not None and notice.phrase is not None

    client = login(agent)
    english = client.get("/notifications/", **EN).content.decode()
    chinese = client.get("/notifications/", **ZH).content.decode()
    with translation.override("en"):
        expected_en = render(notice.phrase)
    with translation.override("zh-hans"):
        expected_zh = render(notice.phrase)
    assert expected_en != expected_zh
    assert expected_en in english and expected_zh not in english
    assert expected_zh in chinese


def test_the_api_timeline_speaks_the_requests_language(ticket, agent, api, key_a):
    work_the_ticket_in_chinese(ticket, agent)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key_a}")

    def messages(headers):
        response = api.get(f"/api/v1/tickets/{ticket.pk}/", **headers)
        assert response.status_code == 200
        return [line["message"] for line in response.json()["timeline"]]

    english, chinese = messages(EN), messages(ZH)
    assert "Phone: Reached" in english
    with translation.override("zh-hans"):
        assert str(phrases.contact_attempt("phone", "reached")) in chinese


def test_the_audit_log_lists_ticket_changes_in_the_readers_language(ticket, agent, supervisor):
    work_the_ticket_in_chinese(ticket, agent)
    english = login(supervisor).get("/audit/", **EN).content.decode()
    assert "Phone: Reached" in english
    assert "Coupon 10.00: Offered." in english


def test_a_phrase_renders_each_kind_of_argument():
    said = Phrase(
        "%(a)s|%(b)s|%(c)s|%(d)s|%(e)s",
        a="王芳",
        b=label("outcome", "buyer_refused"),
        c=names(zh="破损", en="Damaged"),
        d=text("someone"),
        e=Phrase("Ticket #%(ticket)s: %(message)s", ticket=7, message=Phrase("Follow-up visit done.")),
    )
    with translation.override("en"):
        assert str(said) == "王芳|Buyer refused|Damaged|someone|Ticket #7: Follow-up visit done."
    with translation.override("zh-hans"):
        chinese = str(said)
    a, b, c, d, e = chinese.split("|")
    assert a == "王芳" and c == "破损"
    assert b == gettext_zh("Buyer refused") and d == gettext_zh("someone") and b != "Buyer refused"
    assert e.startswith(gettext_zh("Ticket #%(ticket)s: %(message)s").split("%")[0])
    # Stored and read back as JSON, it says the same.
    assert stored(said)["message"] == str(said)
    with translation.override("en"):
        assert render(stored(said)["phrase"]) == "王芳|Buyer refused|Damaged|someone|Ticket #7: Follow-up visit done."


def gettext_zh(msgid):
    with translation.override("zh-hans"):
        return gettext(msgid)


@pytest.mark.parametrize(
    "phrase",
    [
        None,
        "text",
        {},
        {"id": "%(outcome)s"},  # an argument that is missing
        {"id": "%(outcome)s", "args": {"outcome": {"label": "outcome", "value": "bribed"}}},  # unknown choice
        {"id": "%(x)s", "args": {"x": {"label": "no_such_kind", "value": "a"}}},
        {"id": "%(x)s", "args": {"x": {"phrase": {"id": "%(y)s"}}}},  # a nested phrase that no longer fits
        {"id": "%(x)d", "args": {"x": "not a number"}},
        {"id": "x", "args": ["not", "a", "dict"]},
    ],
)
def test_a_stored_phrase_that_no_longer_fits_prints_the_stored_message(phrase):
    assert render(phrase, "as written") == "as written"


def test_typed_text_is_stored_as_typed_without_a_phrase(ticket, agent):
    response = login(agent).post(f"/tickets/{ticket.pk}/notes/", {"text": "约好明天下午回访"}, **EN)
    assert response.status_code == 302
    note = TicketEvent.objects.get(ticket=ticket, kind=TimelineKind.NOTE)
    assert (note.message, note.phrase, note.display_message) == ("约好明天下午回访", None, "约好明天下午回访")

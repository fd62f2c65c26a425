"""The interface speaks Chinese and English completely: every message has a Chinese translation,
and the compiled catalogue is the one the sources say."""

import gettext
import re
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES"


def _po_entries():
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    entries = []
    for block in text.split("\n\n"):
        if "#, fuzzy" in block:
            entries.append(("<fuzzy>", ""))
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr ((?:".*"\n?)+)', block, re.M)
        if msgid and msgstr:

            def join(match):
                return "".join(re.findall(r'"(.*)"', match.group(1)))

            entries.append((join(msgid), join(msgstr)))
    return [(i, s) for i, s in entries if i]


def test_every_message_has_a_chinese_translation():
    untranslated = [msgid for msgid, msgstr in _po_entries() if not msgstr]
    assert untranslated == []


def test_the_compiled_catalogue_matches_the_sources():
    with (LOCALE / "django.mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    for msgid, msgstr in _po_entries():
        expected = msgstr.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        assert catalogue.gettext(msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")) == expected


@pytest.mark.django_db
def test_the_desk_answers_in_the_browsers_language(client, django_user_model):
    admin = django_user_model.objects.create_superuser("boss", password="pw-123456")
    client.force_login(admin)
    chinese = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    english = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "工单" in chinese and "SLA 策略" in chinese
    assert "Tickets" in english and "SLA policies" in english

"""Timeline and notification texts that every reader sees in their own language.

A timeline line or a notification is written once, often by a Celery worker or by a colleague
who reads Chinese, and read later by people who read English or Chinese. So besides the text as
written (`message`, kept for the API, exports and the admin), the row stores the sentence as its
message id and arguments (`phrase`), and pages print it again in the reader's language:

    Phrase(gettext_noop("Closed: %(outcome)s, claimed."), outcome=label("outcome", "buyer_refused"))

An argument is a plain value (a name, an amount, a reason someone typed: printed as it is), a
choice label (`label(kind, value)`: looked up in the reader's language), the names of a row that
has one per language (`names(zh=…, en=…)`, a cause), or another phrase. A stored phrase that no
longer fits (an unknown choice, a msgid whose arguments changed) is printed as the stored message.
"""

from django.utils.translation import get_language, gettext, gettext_noop

from reviews.choices import Tier

from .choices import ContactChannel, ContactResult, Outcome, RemedyKind, RemedyStatus

# The choice kinds a phrase may name, with their TextChoices.
CHOICES = {
    "tier": Tier,
    "outcome": Outcome,
    "remedy_kind": RemedyKind,
    "remedy_status": RemedyStatus,
    "channel": ContactChannel,
    "result": ContactResult,
}
# Plain English sentences marked with gettext_noop, translated when printed (assignment rules).
TEXT = "text"


class Phrase:
    """A sentence to store: its msgid (marked for translation where it is written, with
    gettext_noop) and its arguments. str() prints it in the active language."""

    __slots__ = ("msgid", "args")

    def __init__(self, msgid, **args):
        self.msgid, self.args = msgid, args

    def as_json(self):
        return {"id": self.msgid, "args": {name: _arg_json(value) for name, value in self.args.items()}}

    def __str__(self):
        return render(self.as_json())

    def __add__(self, other):
        """Two sentences printed one after the other (a contact attempt and its override)."""
        return Phrase("%(first)s %(second)s", first=self, second=other)

    def __repr__(self):
        return f"Phrase({self.msgid!r}, **{self.args!r})"


def label(kind, value):
    """A choice argument: `value` of CHOICES[kind], printed as its label in the reader's language."""
    return {"label": kind, "value": value}


def text(msgid):
    """A plain sentence argument (marked with gettext_noop where it is defined)."""
    return {"label": TEXT, "value": msgid}


def names(**by_language):
    """An argument with a name per language, e.g. names(zh=cause.name_zh, en=cause.name_en)."""
    return {"names": {code: name for code, name in by_language.items() if name}}


def stored(message):
    """The model fields of a message: {"message": the text in the active language, "phrase": the
    phrase to print it again in another, or None for text someone typed}."""
    if isinstance(message, Phrase):
        phrase = message.as_json()
        return {"message": render(phrase), "phrase": phrase}
    return {"message": message, "phrase": None}


def render(phrase, fallback=""):
    """`phrase` (as stored) in the active language; `fallback` when there is none or it no longer
    fits."""
    if not isinstance(phrase, dict):
        return fallback
    try:
        args = phrase.get("args") or {}
        return gettext(phrase["id"]) % {name: _arg_text(value) for name, value in args.items()}
    except (KeyError, TypeError, ValueError, AttributeError):
        return fallback


def _arg_json(value):
    if isinstance(value, Phrase):
        return {"phrase": value.as_json()}
    if isinstance(value, dict):
        return value
    return str(value)


def _arg_text(value):
    if not isinstance(value, dict):
        return str(value)
    if "phrase" in value:
        printed = render(value["phrase"], None)
        if printed is None:
            raise ValueError("a nested phrase that no longer fits")
        return printed
    if "names" in value:
        by_language = value["names"]
        language = (get_language() or "").split("-")[0]
        return by_language.get(language) or next(iter(by_language.values()), "")
    kind, code = value["label"], value["value"]
    if kind == TEXT:
        return gettext(code)
    return str(CHOICES[kind](code).label)


# Sentences written by more than one path (the workspace and the demo team's work) ---------------


def contact_attempt(channel, result):
    return Phrase(
        gettext_noop("%(channel)s: %(result)s"), channel=label("channel", channel), result=label("result", result)
    )


def cause_set(cause):
    """`cause`: a Cause row."""
    return Phrase(gettext_noop("Cause: %(cause)s."), cause=names(zh=cause.name_zh, en=cause.name_en))


def remedy_recorded(kind, amount, status):
    return Phrase(
        gettext_noop("%(kind)s %(amount)s: %(status)s."),
        kind=label("remedy_kind", kind),
        amount=f"{amount:.2f}",
        status=label("remedy_status", status),
    )


def outcome_claimed(outcome):
    return Phrase(gettext_noop("Closed: %(outcome)s, claimed."), outcome=label("outcome", outcome))


# Why the assignment picked an agent (tickets.assignment's rules), said on the timeline.
ASSIGNMENT_RULES = {
    "fewest_open": gettext_noop("fewest open tickets"),
    "idle_longest": gettext_noop("tied on open tickets, idle longest"),
    "previous_agent": gettext_noop("worked this ticket before"),
    "manual": gettext_noop("assigned by a supervisor"),
    "taken": gettext_noop("taken from the pool"),
    "reassigned": gettext_noop("reassigned after an SLA breach"),
}


def assigned(agent, rule):
    """`agent`: the agent's name; `rule`: a key of ASSIGNMENT_RULES."""
    return Phrase(gettext_noop("Assigned to %(agent)s: %(why)s."), agent=agent, why=text(ASSIGNMENT_RULES[rule]))


# Who did it, when it was not a person -------------------------------------------------------------

SYSTEM_ACTORS = {
    "": gettext_noop("system"),
    "system": gettext_noop("system"),
    "assignment": gettext_noop("automatic assignment"),
    "SLA": gettext_noop("SLA clock"),
    "Demo data": gettext_noop("demo data"),
}
# Labels written as "<prefix><name>" (reviews.api.views, reviews.connectors, import_reviews).
NAMED_ACTORS = {
    "API key: ": gettext_noop("API key: %(name)s"),
    "Connector: ": gettext_noop("Connector: %(name)s"),
    "File import: ": gettext_noop("File import: %(name)s"),
}


def actor_name(label):
    """A timeline row's actor label (stored in English, the same for every reader) in the active
    language; a person's name or an unknown label as it is."""
    label = label or ""
    if label in SYSTEM_ACTORS:
        return gettext(SYSTEM_ACTORS[label])
    for prefix, msgid in NAMED_ACTORS.items():
        if label.startswith(prefix):
            return gettext(msgid) % {"name": label[len(prefix) :]}
    return label

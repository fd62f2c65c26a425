"""Writes by people about buyers: reveals of personal data (audited), notes, list marks, and the
remedy gate for high-risk buyers. Re-exported from contacts.services."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import ABUSE_TAG_CODES, TAGS_BY_CODE, ListMark, RevealField, RiskLevel
from .models import Buyer, BuyerNote, PersonalDataReveal
from .permissions import can_see_buyer, is_person, reveal_grant, supervises_buyer
from .risk import buyers_risk_assess, reason_texts

REASON_MAX = 500
NOTE_MAX = 2000


class BuyerActionRefused(Exception):
    """An action on a buyer the rules do not allow; nothing was written. `code` names why:
    `not_permitted` (the caller's role), `invalid` (the input; `field` says which) or `no_value`."""

    def __init__(self, message, code, *, field=None):
        super().__init__(message)
        self.code = code
        self.field = field


def _who(user):
    return user.get_full_name() or user.get_username()


def _clean_reason(reason, *, missing):
    reason = (reason or "").strip()
    if not reason:
        raise BuyerActionRefused(missing, "invalid", field="reason")
    if len(reason) > REASON_MAX:
        raise BuyerActionRefused(
            _("Keep the reason under %(n)s characters.") % {"n": REASON_MAX}, "invalid", field="reason"
        )
    return reason


def buyer_reveal(buyer_id, user, *, field, reason):
    """Return the buyer's raw nick or phone to a permitted person and audit it.

    Permitted: a supervisor of a shop the buyer reviewed (nick and phone), or the assignee of an
    open ticket of this buyer (phone only: they have to call). A refusal raises
    BuyerActionRefused and writes nothing; every successful reveal writes a PersonalDataReveal.
    """
    if field not in RevealField.values:
        raise BuyerActionRefused(_("Reveal the nick or the phone."), "invalid", field="field")
    if not is_person(user):
        raise BuyerActionRefused(_("Only people may reveal personal data."), "not_permitted")
    reason = _clean_reason(reason, missing=_("Give a reason for revealing personal data."))
    buyer = Buyer.objects.filter(pk=buyer_id).first()
    if buyer is None:
        raise BuyerActionRefused(_("No such buyer."), "not_found")
    allowed, ticket_id = reveal_grant(user, buyer.pk, field)
    if not allowed:
        if field == RevealField.PHONE:
            message = _(
                "Only a supervisor of a shop this buyer reviewed, or the agent holding an open ticket of "
                "this buyer, may reveal the phone."
            )
        else:
            message = _("Only a supervisor of a shop this buyer reviewed may reveal the nick.")
        raise BuyerActionRefused(message, "not_permitted")
    value = getattr(buyer, field)
    if not value:
        raise BuyerActionRefused(
            _("There is no %(field)s on record.") % {"field": RevealField(field).label}, "no_value"
        )
    PersonalDataReveal.objects.create(
        buyer=buyer, user=user, user_label=_who(user), field=field, reason=reason, ticket_id=ticket_id
    )
    return value


def buyer_note_add(buyer_id, user, *, tags, text):
    """Add a note (tags from the temperament list, free text) by a person who may see the buyer.
    A note tagged extortion or professional bad reviewer re-assesses the buyer's risk."""
    if not is_person(user) or not can_see_buyer(user, buyer_id):
        raise BuyerActionRefused(_("Only people working this buyer's shops may add notes."), "not_permitted")
    tags = list(dict.fromkeys(tags or []))
    unknown = [t for t in tags if t not in TAGS_BY_CODE]
    if unknown:
        raise BuyerActionRefused(
            _("Unknown tag(s): %(tags)s.") % {"tags": ", ".join(map(str, unknown))}, "invalid", field="tags"
        )
    text = (text or "").strip()
    if not tags and not text:
        raise BuyerActionRefused(_("Choose a tag or write something."), "invalid", field="text")
    if len(text) > NOTE_MAX:
        raise BuyerActionRefused(_("Keep the note under %(n)s characters.") % {"n": NOTE_MAX}, "invalid", field="text")
    with transaction.atomic():
        note = BuyerNote.objects.create(buyer_id=buyer_id, author=user, tags=tags, text=text)
        if set(tags) & set(ABUSE_TAG_CODES):
            buyers_risk_assess([buyer_id])
    return note


def buyer_list_mark_set(buyer_id, user, *, mark, reason=""):
    """Blacklist, whitelist or unlist a buyer (supervisors of a shop the buyer reviewed), with a
    reason, then re-assess the buyer's risk (blacklist: high; whitelist: low)."""
    if mark not in ListMark.values:
        raise BuyerActionRefused(_("Choose none, blacklist or whitelist."), "invalid", field="mark")
    if not supervises_buyer(user, buyer_id):
        raise BuyerActionRefused(
            _("Only a supervisor of a shop this buyer reviewed may blacklist or whitelist."), "not_permitted"
        )
    reason = (
        _clean_reason(reason, missing=_("Give a reason for the list mark."))
        if mark != ListMark.NONE
        else (reason or "").strip()
    )
    with transaction.atomic():
        buyer = Buyer.objects.select_for_update().get(pk=buyer_id)
        buyer.list_mark, buyer.list_mark_reason = mark, reason
        buyer.list_mark_by, buyer.list_mark_at = user, timezone.now()
        buyer.save(update_fields=["list_mark", "list_mark_reason", "list_mark_by", "list_mark_at", "updated_at"])
        buyers_risk_assess([buyer_id])
    buyer.refresh_from_db()
    return buyer


def remedy_allowed(buyer, user, override_reason="", *, shop_id=None):
    """(allowed, message) for recording a remedy for `buyer`.

    A high-risk buyer (professional bad reviewer, extortion) gets no remedy unless a supervisor
    (of `shop_id` when given, else of a shop the buyer reviewed) overrides with a reason; the
    message then says so, for the remedy's timeline row.
    """
    if buyer is None or buyer.risk_level != RiskLevel.HIGH:
        return True, ""
    why = "; ".join(reason_texts(buyer.risk_reasons or [])) or _("high abuse risk")
    override_reason = (override_reason or "").strip()
    if not override_reason:
        return False, _(
            "No remedy for this buyer: %(why)s A supervisor may override with a reason; otherwise collect "
            "evidence and file a platform complaint."
        ) % {"why": why}
    if not supervises_buyer(user, buyer.pk, shop_id=shop_id):
        return False, _("This buyer is high risk (%(why)s); only a supervisor may override.") % {"why": why}
    return True, _("High-risk buyer; remedy allowed by %(who)s: %(reason)s") % {
        "who": _who(user),
        "reason": override_reason,
    }

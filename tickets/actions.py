"""A person's actions on a ticket in the agent workspace (issue 4): cause, remedies and their
approval, outcome claims, seller explanations, escalation, notes and follow-up visits (回访).

Each service row-locks the ticket, checks what the rules allow (raising TicketActionRefused with a
code), writes its timeline row in the same transaction and returns the changed object. Who may act
is the caller's check (tickets.permissions). Remedies and reviews are kept apart: a remedy fixes
the buyer's problem and no wording may tie it to a review, so notes, remedy notes, explanations
and call scripts go through tickets.compliance.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from reviews.choices import Platform
from reviews.models import Review

from . import phrases
from .choices import (
    CLAIM_CLOSES_AS,
    CLOSED_STATUSES,
    REMEDY_ANSWER_STATUSES,
    RemedyKind,
    RemedyStatus,
    Role,
    TicketStatus,
    TimelineKind,
)
from .compliance import ComplianceChecker, compact, compliance_check
from .guides import call_script_for, revision_guide_for  # noqa: F401 — part of this module's API
from .lifecycle import TransitionNotAllowed, timeline_event, transition
from .models import (
    AgentProfile,
    CallScript,
    Cause,
    CauseKeywordRule,
    FollowUpVisit,
    Notification,
    Remedy,
    Ticket,
)
from .phrases import Phrase, label, stored, text
from .services import TicketActionRefused, after_commit_assign

MAX_AMOUNT = Decimal("100000000")
EXPLANATION_WINDOW_DAYS = 30  # a seller explanation is possible within 30 days of the review
MAX_TEXT = 2000


# Helpers ---------------------------------------------------------------------------------------


def _buyer_facts_refresh(ticket):
    """A cause or an outcome changes what the buyer's record says (abuse tickets raise the risk):
    recount and reassess in the same transaction, so assignment already sees the new level."""
    from contacts.services import buyers_refresh

    buyer_id = Review.objects.filter(pk=ticket.review_id).values_list("buyer_id", flat=True).first()
    if buyer_id is not None:
        buyers_refresh([buyer_id])


def _lock(ticket_id):
    return Ticket.objects.select_for_update(of=("self",)).select_related("shop").get(pk=ticket_id)


def _refuse_closed(ticket, message=None):
    if ticket.status in CLOSED_STATUSES:
        raise TicketActionRefused(message or _("This ticket is closed."), "ticket_closed")


def _required_text(value, what):
    value = (value or "").strip()
    if not value:
        raise TicketActionRefused(_("%(what)s is required.") % {"what": what}, "required")
    if len(value) > MAX_TEXT:
        raise TicketActionRefused(
            _("%(what)s is longer than %(max)d characters.") % {"what": what, "max": MAX_TEXT}, "too_long"
        )
    return value


def _flags(text):
    """Compliance reasons of `text` (an empty list when it is fine)."""
    return compliance_check(text).reasons if text else []


def _with_flags(data, reasons):
    if reasons:
        data["compliance"] = reasons
    return data


def _supervisors_of(shop_id):
    return [
        profile.user
        for profile in AgentProfile.objects.filter(role=Role.SUPERVISOR, shops=shop_id, user__is_active=True)
        .select_related("user")
        .order_by("user_id")
    ]


def _notify(users, ticket, kind, message, now, *, skip=None):
    Notification.objects.bulk_create(
        Notification(recipient=user, ticket=ticket, kind=kind, **stored(message), created_at=now)
        for user in {u.pk: u for u in users if skip is None or u.pk != skip.pk}.values()
    )


def _who(user):
    """A person as a phrase argument: their name, or "someone" in the reader's language."""
    return (user.get_full_name() or user.get_username()) if user else text(gettext_noop("someone"))


def remedy_cap_of(user):
    """The most `user` may offer without approval; None means no cap (supervisors, superusers).
    Read from the database, not a cached profile: a supervisor may just have changed it."""
    if user.is_superuser:
        return None
    row = AgentProfile.objects.filter(user_id=user.pk).values_list("role", "remedy_cap").first()
    if row is None:
        return Decimal("0.00")
    role, cap = row
    return None if role == Role.SUPERVISOR else cap


def _amount(value):
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        raise TicketActionRefused(_("The amount is not a number."), "invalid_amount")
    if amount < 0 or amount >= MAX_AMOUNT:
        raise TicketActionRefused(_("The amount must be at least 0 and below 100,000,000."), "invalid_amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise TicketActionRefused(_("The amount has at most 2 decimals."), "invalid_amount")
    return amount.quantize(Decimal("0.01"))


def _local_today(now=None):
    return (now or timezone.now()).astimezone(ZoneInfo(settings.TIME_ZONE)).date()


# Cause -----------------------------------------------------------------------------------------


def cause_set(ticket_id, user, *, cause, note=""):
    """Record the root cause (an active Cause code). Returns the ticket."""
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _refuse_closed(ticket, _("This ticket is closed; its cause can no longer change."))
        found = Cause.objects.filter(code=cause, active=True).first()
        if found is None:
            raise TicketActionRefused(_("“%(cause)s” is not an active cause.") % {"cause": cause}, "unknown_cause")
        previous = ticket.cause
        ticket.cause = found.code
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["cause", "updated_at"])
        note = (note or "").strip()
        reasons = _flags(note)
        timeline_event(
            ticket,
            TimelineKind.CAUSE_SET,
            actor=user,
            message=phrases.cause_set(found),
            data=_with_flags({"from": previous or None, "to": found.code, "note": note}, reasons),
        ).save()
        _buyer_facts_refresh(ticket)
    ticket.compliance_reasons = reasons
    return ticket


def cause_suggest(text, platform=""):
    """The cause whose keywords the text hits: highest rule priority, then most hits; or None."""
    haystack = compact(text)
    if not haystack:
        return None
    best, best_key = None, None
    rules = CauseKeywordRule.objects.filter(active=True, cause__active=True).select_related("cause")
    for rule in rules.order_by("-priority", "id"):
        if rule.platform and rule.platform != platform:
            continue
        hits = sum(1 for word in rule.keyword_list if compact(word) and compact(word) in haystack)
        if not hits:
            continue
        key = (rule.priority, hits)
        if best_key is None or key > best_key:
            best, best_key = rule.cause, key
    return best


# Remedies --------------------------------------------------------------------------------------


def remedy_record(ticket_id, user, *, kind, amount, status, note="", override_reason=""):
    """Record a remedy and the buyer's answer (offered, accepted, declined). Over the user's cap it
    waits for a supervisor (status pending_approval, requested_status = `status`). A note that
    ties the remedy to a review is saved but flagged (`remedy.compliance_reasons`)."""
    if kind not in RemedyKind.values:
        raise TicketActionRefused(_("Unknown remedy kind."), "invalid_kind")
    if status not in REMEDY_ANSWER_STATUSES:
        raise TicketActionRefused(_("A remedy is recorded as offered, accepted or declined."), "invalid_status")
    amount = _amount(amount)
    note = (note or "").strip()
    reasons = _flags(note)
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _refuse_closed(ticket, _("This ticket is closed; record the remedy before closing it."))
        allowed, risk_message = _remedy_risk_check(ticket, user, override_reason)
        if not allowed:
            raise TicketActionRefused(risk_message, "high_risk_buyer")
        cap = remedy_cap_of(user)
        needs_approval = cap is not None and amount > cap
        remedy = Remedy.objects.create(
            ticket=ticket,
            kind=kind,
            amount=amount,
            status=RemedyStatus.PENDING_APPROVAL if needs_approval else status,
            requested_status=status,
            note=note,
            compliance_reasons=reasons,
            offered_by=user,
        )
        what = {"kind": label("remedy_kind", kind), "amount": f"{amount:.2f}"}
        if needs_approval:
            message = Phrase(
                gettext_noop("%(kind)s %(amount)s waits for a supervisor's approval (over the cap of %(cap)s)."),
                **what,
                cap=f"{cap:.2f}",
            )
        else:
            message = phrases.remedy_recorded(kind, amount, status)
        data = {
            "remedy": remedy.pk,
            "kind": kind,
            "amount": f"{amount:.2f}",
            "status": remedy.status,
            "requested_status": status,
            "note": note,
        }
        if needs_approval:
            data["cap"] = f"{cap:.2f}"
        if risk_message:
            data["risk_override"] = {"reason": override_reason.strip(), "message": risk_message}
        ticket.updated_at = now
        ticket.save(update_fields=["updated_at"])
        timeline_event(ticket, TimelineKind.REMEDY, actor=user, message=message, data=_with_flags(data, reasons)).save()
        if needs_approval:
            _notify(
                _supervisors_of(ticket.shop_id),
                ticket,
                Notification.Kind.REMEDY_APPROVAL,
                Phrase(
                    gettext_noop("Ticket #%(ticket)s: %(kind)s %(amount)s from %(agent)s waits for your approval."),
                    **what,
                    ticket=ticket.pk,
                    agent=_who(user),
                ),
                now,
            )
    return remedy


def _remedy_risk_check(ticket, user, override_reason):
    """High-risk buyers (professional bad reviewers, extortion) get no remedy unless a supervisor
    overrides with a reason: (allowed, message for the refusal or the timeline)."""
    from contacts.services import remedy_allowed

    buyer = Review.objects.select_related("buyer").get(pk=ticket.review_id).buyer
    return remedy_allowed(buyer, user, override_reason, shop_id=ticket.shop_id)


def _lock_remedy(remedy_id):
    """Lock the remedy's ticket, then the remedy (the same order as remedy_record)."""
    ticket_id = Remedy.objects.values_list("ticket_id", flat=True).get(pk=remedy_id)
    ticket = _lock(ticket_id)
    remedy = Remedy.objects.select_for_update(of=("self",)).select_related("offered_by").get(pk=remedy_id)
    remedy.ticket = ticket
    return ticket, remedy


def remedy_decide(remedy_id, user, *, approve, reason=""):
    """A supervisor approves (the remedy takes the status the agent asked for) or rejects (a reason
    is required) a remedy waiting for approval. Notifies the agent who offered it."""
    reason = (reason or "").strip()
    now = timezone.now()
    with transaction.atomic():
        ticket, remedy = _lock_remedy(remedy_id)
        if remedy.status != RemedyStatus.PENDING_APPROVAL:
            raise TicketActionRefused(_("This remedy is not waiting for approval."), "not_pending")
        if not approve and not reason:
            raise TicketActionRefused(_("Say why the remedy is rejected."), "reason_required")
        if len(reason) > MAX_TEXT:
            raise TicketActionRefused(_("The reason is too long."), "too_long")
        remedy.status = (remedy.requested_status or RemedyStatus.OFFERED) if approve else RemedyStatus.REJECTED
        remedy.decided_by, remedy.decided_at, remedy.decision_reason = user, now, reason
        remedy.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        what = {"kind": label("remedy_kind", remedy.kind), "amount": f"{remedy.amount:.2f}", "by": _who(user)}
        if approve:
            message = Phrase(gettext_noop("%(kind)s %(amount)s approved by %(by)s."), **what)
        else:
            message = Phrase(gettext_noop("%(kind)s %(amount)s rejected by %(by)s: %(reason)s"), **what, reason=reason)
        ticket.updated_at = now
        ticket.save(update_fields=["updated_at"])
        timeline_event(
            ticket,
            TimelineKind.REMEDY,
            actor=user,
            message=message,
            data={
                "remedy": remedy.pk,
                "decision": "approved" if approve else "rejected",
                "status": remedy.status,
                "reason": reason,
            },
        ).save()
        if remedy.offered_by is not None:
            _notify(
                [remedy.offered_by],
                ticket,
                Notification.Kind.REMEDY_DECIDED,
                Phrase(gettext_noop("Ticket #%(ticket)s: %(message)s"), ticket=ticket.pk, message=message),
                now,
                skip=user,
            )
    return remedy


def remedy_set_status(remedy_id, user, *, status):
    """The buyer's answer to an offered (or approved) remedy: accepted or declined."""
    if status not in (RemedyStatus.ACCEPTED, RemedyStatus.DECLINED):
        raise TicketActionRefused(_("The buyer's answer is accepted or declined."), "invalid_status")
    with transaction.atomic():
        ticket, remedy = _lock_remedy(remedy_id)
        if remedy.status != RemedyStatus.OFFERED:
            raise TicketActionRefused(
                _("Only an offered remedy can be accepted or declined; this one is %(status)s.")
                % {"status": remedy.get_status_display()},
                "not_offered",
            )
        remedy.status = status
        remedy.save(update_fields=["status"])
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["updated_at"])
        timeline_event(
            ticket,
            TimelineKind.REMEDY,
            actor=user,
            message=phrases.remedy_recorded(remedy.kind, remedy.amount, status),
            data={"remedy": remedy.pk, "from": RemedyStatus.OFFERED.value, "status": status},
        ).save()
    return remedy


# Outcome, explanation, escalation, notes ---------------------------------------------------------


def outcome_claim(ticket_id, user, *, outcome, note=""):
    """Claim an outcome (not verified) and close: resolved or closed unresolved by the outcome.
    A later platform event (review revised / deleted) verifies it. Returns the ticket."""
    if outcome not in CLAIM_CLOSES_AS:
        raise TicketActionRefused(_("Unknown outcome."), "invalid_outcome")
    note = (note or "").strip()
    reasons = _flags(note)
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _refuse_closed(ticket, _("This ticket is closed already."))
        freed = {ticket.shop_id} if ticket.assignee_id else set()
        try:
            event = transition(
                ticket,
                CLAIM_CLOSES_AS[outcome],
                kind=TimelineKind.CLOSED,
                actor=user,
                message=phrases.outcome_claimed(outcome),
                data=_with_flags({"outcome": outcome, "verified": False, "note": note}, reasons),
            )
        except TransitionNotAllowed as exc:
            raise TicketActionRefused(str(exc), "transition_not_allowed") from None
        ticket.outcome, ticket.outcome_verified = outcome, False
        ticket.save(update_fields=["status", "outcome", "outcome_verified", "closed_at", "resolved_at", "updated_at"])
        event.save()
        _buyer_facts_refresh(ticket)
        after_commit_assign((), freed)
    ticket.compliance_reasons = reasons
    return ticket


def seller_explanation_record(ticket_id, user, *, content):
    """The seller posted an explanation (评价解释) under the review: possible within 30 days of the
    review and not after a follow-up. Stored on the review; flagged wording is recorded. Returns
    the ticket, with `compliance_reasons`."""
    content = _required_text(content, _("The explanation"))
    reasons = _flags(content)
    now = timezone.now()
    with transaction.atomic():
        # The review first, then the ticket: the order ingestion locks them in.
        review_id = Ticket.objects.values_list("review_id", flat=True).get(pk=ticket_id)
        review = Review.objects.select_for_update().get(pk=review_id)
        ticket = _lock(ticket_id)
        if review.followup_at is not None:
            raise TicketActionRefused(
                _("The buyer added a follow-up review; an explanation is no longer possible."), "review_has_followup"
            )
        rated_at = review.rated_at or review.created_at
        if rated_at is not None and now - rated_at > dt.timedelta(days=EXPLANATION_WINDOW_DAYS):
            raise TicketActionRefused(
                _("The review is older than %(days)d days; an explanation is no longer possible.")
                % {"days": EXPLANATION_WINDOW_DAYS},
                "explanation_window_closed",
            )
        review.reply_content, review.replied_at = content, now
        review.save(update_fields=["reply_content", "replied_at", "updated_at"])
        ticket.updated_at = now
        ticket.save(update_fields=["updated_at"])
        timeline_event(
            ticket,
            TimelineKind.SELLER_REPLIED,
            actor=user,
            message=Phrase(gettext_noop("Seller explanation posted.")),
            data=_with_flags({"content": content}, reasons),
        ).save()
    ticket.compliance_reasons = reasons
    return ticket


def ticket_escalate(ticket_id, user, *, reason):
    """Hand the ticket to the shop's supervisors (status escalated) and notify them."""
    reason = _required_text(reason, _("The reason"))
    now = timezone.now()
    with transaction.atomic():
        ticket = _lock(ticket_id)
        _refuse_closed(ticket)
        if ticket.status == TicketStatus.ESCALATED:
            raise TicketActionRefused(_("This ticket is escalated already."), "already_escalated")
        try:
            event = transition(
                ticket,
                TicketStatus.ESCALATED,
                kind=TimelineKind.ESCALATED,
                actor=user,
                message=Phrase(gettext_noop("Escalated by %(by)s: %(reason)s"), by=_who(user), reason=reason),
                data={"reason": reason},
            )
        except TransitionNotAllowed as exc:
            raise TicketActionRefused(str(exc), "transition_not_allowed") from None
        ticket.save(update_fields=["status", "closed_at", "resolved_at", "updated_at"])
        event.save()
        _notify(
            _supervisors_of(ticket.shop_id),
            ticket,
            Notification.Kind.ESCALATED,
            Phrase(
                gettext_noop("Ticket #%(ticket)s escalated by %(by)s: %(reason)s"),
                ticket=ticket.pk,
                by=_who(user),
                reason=reason,
            ),
            now,
            skip=user,
        )
    return ticket


def note_add(ticket_id, user, *, text):
    """A note on the timeline. Returns the timeline event, with `compliance_reasons`."""
    text = _required_text(text, _("The note"))
    reasons = _flags(text)
    with transaction.atomic():
        ticket = _lock(ticket_id)
        event = timeline_event(ticket, TimelineKind.NOTE, actor=user, message=text, data=_with_flags({}, reasons))
        event.save()
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["updated_at"])
    event.compliance_reasons = reasons
    return event


# Follow-up visits (回访) -------------------------------------------------------------------------


def followup_visit_schedule(ticket_id, user, *, due_on, note=""):
    """Plan a call-back to the buyer on `due_on` (today or later, Asia/Shanghai date)."""
    if not isinstance(due_on, dt.date) or isinstance(due_on, dt.datetime):
        raise TicketActionRefused(_("The due date is not a date."), "invalid_date")
    if due_on < _local_today():
        raise TicketActionRefused(_("A follow-up visit cannot be due in the past."), "date_in_past")
    note = (note or "").strip()
    with transaction.atomic():
        ticket = _lock(ticket_id)
        visit = FollowUpVisit.objects.create(ticket=ticket, agent=user, due_on=due_on, note=note)
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["updated_at"])
        timeline_event(
            ticket,
            TimelineKind.FOLLOWUP_VISIT,
            actor=user,
            message=Phrase(gettext_noop("Follow-up visit planned for %(date)s."), date=due_on.isoformat()),
            data=_with_flags({"visit": visit.pk, "due_on": due_on.isoformat(), "note": note}, _flags(note)),
        ).save()
    return visit


def followup_visit_done(visit_id, user):
    """Mark a follow-up visit done."""
    now = timezone.now()
    with transaction.atomic():
        ticket_id = FollowUpVisit.objects.values_list("ticket_id", flat=True).get(pk=visit_id)
        ticket = _lock(ticket_id)
        visit = FollowUpVisit.objects.select_for_update().get(pk=visit_id)
        if visit.done_at is not None:
            raise TicketActionRefused(_("This follow-up visit is done already."), "already_done")
        visit.done_at = now
        visit.save(update_fields=["done_at"])
        ticket.updated_at = now
        ticket.save(update_fields=["updated_at"])
        timeline_event(
            ticket,
            TimelineKind.FOLLOWUP_VISIT,
            actor=user,
            message=Phrase(gettext_noop("Follow-up visit done.")),
            data={"visit": visit.pk, "due_on": visit.due_on.isoformat(), "done": True},
        ).save()
    return visit


def followup_visits_remind(now=None):
    """One `followup_due` notification per open visit due today (or overdue) not yet reminded.
    Each visit is claimed with a conditional UPDATE, so two sweeps never remind twice. Returns the
    number of reminders sent."""
    now = now or timezone.now()
    today = _local_today(now)
    due = FollowUpVisit.objects.filter(done_at__isnull=True, reminded_at__isnull=True, due_on__lte=today)
    sent = 0
    for visit_id in list(due.order_by("due_on", "id").values_list("id", flat=True)):
        with transaction.atomic():
            claimed = FollowUpVisit.objects.filter(pk=visit_id, reminded_at__isnull=True, done_at__isnull=True).update(
                reminded_at=now
            )
            if not claimed:
                continue
            visit = FollowUpVisit.objects.select_related("ticket__assignee", "agent").get(pk=visit_id)
            recipient = visit.agent or visit.ticket.assignee
            if recipient is None:
                continue
            Notification.objects.create(
                recipient=recipient,
                ticket=visit.ticket,
                kind=Notification.Kind.FOLLOWUP_DUE,
                **stored(
                    Phrase(
                        gettext_noop("Ticket #%(ticket)s: follow-up visit due %(date)s. %(note)s"),
                        ticket=visit.ticket_id,
                        date=visit.due_on.isoformat(),
                        note=visit.note,
                    )
                ),
                created_at=now,
            )
            sent += 1
    return sent


# Call scripts ------------------------------------------------------------------------------------


def call_script_save(user, *, name, body, platform="", cause="", active=True, script_id=None):
    """Create (or, with `script_id`, change) a call script. Refused when the body ties a reward to
    a review (code `compliance_flagged`, reasons on the exception) or names an unknown cause."""
    name = (name or "").strip()
    body = (body or "").strip()
    if not name or not body:
        raise TicketActionRefused(_("A call script needs a name and a body."), "required")
    result = ComplianceChecker().check(f"{name}\n{body}")
    if result.flagged:
        exc = TicketActionRefused(
            _("The script ties a reward to a review: %(reasons)s") % {"reasons": " ".join(result.reasons)},
            "compliance_flagged",
        )
        exc.reasons = result.reasons
        raise exc
    if platform and platform not in Platform.values:
        raise TicketActionRefused(_("Unknown platform."), "invalid_platform")
    if cause and not Cause.objects.filter(code=cause).exists():
        raise TicketActionRefused(_("“%(cause)s” is not a cause.") % {"cause": cause}, "unknown_cause")
    with transaction.atomic():
        script = CallScript() if script_id is None else CallScript.objects.select_for_update().get(pk=script_id)
        script.name, script.body, script.platform, script.cause, script.active = name, body, platform, cause, active
        script.save()
    return script


__all__ = [
    "TicketActionRefused",
    "call_script_for",
    "call_script_save",
    "cause_set",
    "cause_suggest",
    "followup_visit_done",
    "followup_visit_schedule",
    "followup_visits_remind",
    "note_add",
    "outcome_claim",
    "remedy_cap_of",
    "remedy_decide",
    "remedy_record",
    "remedy_set_status",
    "revision_guide_for",
    "seller_explanation_record",
    "ticket_escalate",
]

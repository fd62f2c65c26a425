from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_BUYER = "waiting_buyer", _("Waiting for buyer")
    ESCALATED = "escalated", _("Escalated")
    REOPENED = "reopened", _("Reopened")
    RESOLVED = "resolved", _("Resolved")
    CLOSED_UNRESOLVED = "closed_unresolved", _("Closed unresolved")


OPEN_STATUSES = frozenset(
    {
        TicketStatus.NEW,
        TicketStatus.ASSIGNED,
        TicketStatus.IN_PROGRESS,
        TicketStatus.WAITING_BUYER,
        TicketStatus.ESCALATED,
        TicketStatus.REOPENED,
    }
)
CLOSED_STATUSES = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED_UNRESOLVED})


class Outcome(models.TextChoices):
    REVISED_POSITIVE = "revised_positive", _("Revised to positive")
    DELETED_BY_BUYER = "deleted_by_buyer", _("Deleted by buyer")
    FOLLOWUP_ADDED = "followup_added", _("Follow-up added")
    EXPLAINED = "explained", _("Seller explanation posted")
    BUYER_REFUSED = "buyer_refused", _("Buyer refused")
    UNREACHABLE = "unreachable", _("Unreachable")
    ABUSE_REPORTED = "abuse_reported", _("Abuse reported")
    NO_ACTION_NEEDED = "no_action_needed", _("No action needed")


# Outcomes that count as resolved (DESIGN.md § Metrics: resolution rate).
RESOLVING_OUTCOMES = frozenset({Outcome.REVISED_POSITIVE, Outcome.DELETED_BY_BUYER})


class SlaState(models.TextChoices):
    OK = "ok", _("On time")
    WARNING = "warning", _("Due soon")
    BREACHED = "breached", _("Breached")


class Role(models.TextChoices):
    AGENT = "agent", _("After-sales agent")
    SUPERVISOR = "supervisor", _("Supervisor")


class ContactChannel(models.TextChoices):
    IM = "im", _("IM")
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")


class ContactResult(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    REFUSED = "refused", _("Refused")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    MESSAGE_SENT = "message_sent", _("Message sent")


class RemedyKind(models.TextChoices):
    PARTIAL_REFUND = "partial_refund", _("Partial refund")
    FULL_REFUND = "full_refund", _("Full refund")
    REISSUE = "reissue", _("Reissue")
    COUPON = "coupon", _("Coupon")
    FREE_SHIPPING = "free_shipping", _("Free shipping")
    GIFT = "gift", _("Gift")
    REPAIR_COST = "repair_cost", _("Repair cost")
    OTHER = "other", _("Other")


class RemedyStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", _("Waiting for approval")
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    REJECTED = "rejected", _("Rejected by supervisor")


# What an agent records as the buyer's answer; over the cap it first waits for approval.
REMEDY_ANSWER_STATUSES = (RemedyStatus.OFFERED, RemedyStatus.ACCEPTED, RemedyStatus.DECLINED)


class TimelineKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    STATUS_CHANGED = "status_changed", _("Status changed")
    REOPENED = "reopened", _("Reopened")
    CLOSED = "closed", _("Closed")
    OUTCOME_VERIFIED = "outcome_verified", _("Outcome verified")
    REVIEW_REVISED = "review_revised", _("Review revised")
    FOLLOWUP_ADDED = "followup_added", _("Follow-up added")
    SELLER_REPLIED = "seller_replied", _("Seller explanation posted")
    ASSIGNED = "assigned", _("Assigned")
    CONTACT_ATTEMPT = "contact_attempt", _("Contact attempt")
    CAUSE_SET = "cause_set", _("Cause set")
    REMEDY = "remedy", _("Remedy")
    NOTE = "note", _("Note")
    SLA = "sla", _("SLA")
    POOL = "pool", _("Waiting in the pool")
    DUTY = "duty", _("Returned to the pool")
    ESCALATED = "escalated", _("Escalated")
    FOLLOWUP_VISIT = "followup_visit", _("Follow-up visit")


# Outcome an agent claims -> the status it closes the ticket with.
CLAIM_CLOSES_AS = {
    Outcome.REVISED_POSITIVE: TicketStatus.RESOLVED,
    Outcome.DELETED_BY_BUYER: TicketStatus.RESOLVED,
    Outcome.FOLLOWUP_ADDED: TicketStatus.RESOLVED,
    Outcome.EXPLAINED: TicketStatus.RESOLVED,
    Outcome.NO_ACTION_NEEDED: TicketStatus.RESOLVED,
    Outcome.BUYER_REFUSED: TicketStatus.CLOSED_UNRESOLVED,
    Outcome.UNREACHABLE: TicketStatus.CLOSED_UNRESOLVED,
    Outcome.ABUSE_REPORTED: TicketStatus.CLOSED_UNRESOLVED,
}


class CauseGroup(models.TextChoices):
    LOGISTICS = "logistics", _("Logistics")
    PRODUCT_SERVICE = "product_service", _("Product and service")
    BUYER = "buyer", _("Buyer")
    ABUSE = "abuse", _("Abuse")
    OTHER = "other", _("Other")


class CompliancePhraseKind(models.TextChoices):
    PHRASE = "phrase", _("Phrase")
    REGEX = "regex", _("Regular expression")

"""What the demo team did with each demo ticket: who took it, when they first contacted and reached
the buyer, the cause they set, the remedies they offered and the outcomes they claimed.

Pure functions of a ticket's story (seeded by its review id), shared by both ways seed_demo
writes: the ingest service (small runs, any database) and the bulk loader (PostgreSQL, large
runs). Only outcomes that close a ticket as unresolved are claimed: a resolved demo ticket is
always one the platform verified (a revision or a deletion), as the ingest path makes them.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from tickets.demo_data import CAUSES, TEAM

AGENT_NAMES = {username: name for username, name, *_rest in TEAM}

# The demo taxonomy is finer than the default causes of the database (DESIGN.md § Cause taxonomy).
CAUSE_CODES = {
    "not_as_described_colour": "not_as_described",
    "not_as_described_size": "not_as_described",
    "missing_or_wrong_item": "missing_wrong_item",
    "poor_service": "poor_after_sales",
    "ordered_wrong_item": "wrong_item_ordered",
    "professional_reviewer": "professional_bad_reviewer",
}
FIRST_CONTACT_MINUTES = 60  # the demo shops have no SLA policy: the default, around the clock
WARNING_RATIO = 0.75
RESOLUTION_MARGIN = timedelta(hours=24)
REVISION_WINDOW = timedelta(days=30)
WORK_STARTS = time(9, 0)  # nobody answers tickets opened at night before 09:00
CLAIM_AFTER = timedelta(days=10)


@dataclass
class TicketStory:
    """What the generator knows about one neutral/negative review's ticket."""

    review_id: str
    shop: str
    platform: str
    cause: str
    opened_at: datetime
    settled_at: datetime | None = None  # a revision to positive or a deletion closed it, verified
    reopened_at: datetime | None = None  # a negative follow-up after the revision reopened it
    settled_outcome: str = ""  # revised_positive or deleted_by_buyer


@dataclass
class Work:
    """The demo team's work on one ticket."""

    assignee: str
    cause: str = ""
    first_contact_at: datetime | None = None
    first_reached_at: datetime | None = None
    attempts: list = field(default_factory=list)  # (at, channel, result)
    remedies: list = field(default_factory=list)  # (at, kind, amount, status)
    claim: tuple | None = None  # (outcome, at): closes the ticket as closed_unresolved


def shop_agents():
    """{shop external id: [(username, senior)]} of the demo agents."""
    agents = {}
    for username, _name, role, shop_ids, skills in TEAM:
        if role == "agent":
            for shop in shop_ids:
                agents.setdefault(shop, []).append((username, "senior" in skills))
    return agents


def clocks(opened_at, rated_at):
    """The SLA times of a demo ticket: (first contact due, first contact warn, resolution due,
    resolution warn), as tickets.sla computes them for a shop without a policy."""
    due = opened_at + timedelta(minutes=FIRST_CONTACT_MINUTES)
    warn = opened_at + timedelta(minutes=FIRST_CONTACT_MINUTES * WARNING_RATIO)
    resolution_due = max(rated_at + REVISION_WINDOW - RESOLUTION_MARGIN, due)
    resolution_warn = opened_at + (resolution_due - opened_at) * WARNING_RATIO
    return due, warn, resolution_due, resolution_warn


def demo_work(story, end, agents):
    """The Work on `story`'s ticket up to `end` (the end of the demo period)."""
    rng = random.Random(f"work:{story.review_id}")
    spec = CAUSES[story.cause]
    abuse = spec["group"] == "abuse"
    candidates = agents[story.shop]
    seniors = [name for name, senior in candidates if senior]
    assignee = rng.choice(seniors) if abuse and seniors else rng.choice(candidates)[0]
    work = Work(assignee=assignee)
    # Closed by the platform, or reopened and then worked again: work stops at whichever comes first.
    stop = min(moment for moment in (story.settled_at, end) if moment is not None)

    first = _first_contact_time(rng, story.opened_at)
    if first >= stop:
        return work
    moment, reached = first, False
    for attempt in range(rng.choice((1, 1, 2, 2, 3))):
        if moment >= stop:
            break
        channel = "im" if attempt == 0 and rng.random() < 0.6 else "phone"
        if channel == "im":
            result = "message_sent" if rng.random() < 0.55 else "reached"
        else:
            result = rng.choices(("reached", "no_answer", "busy", "refused"), weights=(55, 30, 10, 5))[0]
        work.attempts.append((moment, channel, result))
        if result == "reached" and not reached:
            reached, work.first_reached_at = True, moment
        if reached or result == "refused":
            break
        moment += timedelta(hours=rng.uniform(1, 8))
    work.first_contact_at = work.attempts[0][0]
    work.cause = CAUSE_CODES.get(story.cause, story.cause)

    if reached and spec["group"] in ("logistics", "product_service") and rng.random() < 0.55:
        offered = work.first_reached_at + timedelta(minutes=rng.uniform(3, 40))
        if offered < stop:
            kind, low, high = rng.choice(_REMEDIES)
            amount = Decimal(f"{rng.uniform(low, high):.2f}") if high else Decimal("0.00")
            status = rng.choices(("accepted", "declined", "offered"), weights=(75, 15, 10))[0]
            work.remedies.append((offered, kind, amount, status))

    if story.settled_at is None and story.reopened_at is None and end - story.opened_at > CLAIM_AFTER:
        # The revision window runs out with no revision: the agent records why and closes it.
        claimed_at = story.opened_at + timedelta(days=rng.uniform(7, 28))
        if claimed_at < end and rng.random() < 0.85:
            if abuse:
                outcome = "abuse_reported"
            elif reached:
                outcome = "buyer_refused"
            else:
                outcome = "unreachable"
            work.claim = (outcome, max(claimed_at, work.attempts[-1][0] + timedelta(minutes=5)))
    return work


_REMEDIES = (
    ("coupon", 5, 20),
    ("partial_refund", 10, 80),
    ("reissue", 20, 150),
    ("free_shipping", 8, 15),
    ("gift", 5, 30),
)


def _first_contact_time(rng, opened_at):
    local = opened_at
    if local.time() < WORK_STARTS:
        start = datetime.combine(local.date(), WORK_STARTS, tzinfo=local.tzinfo)
        return start + timedelta(minutes=rng.expovariate(1 / 25))
    if rng.random() < 0.82:
        return opened_at + timedelta(minutes=rng.expovariate(1 / 22))
    return opened_at + timedelta(minutes=rng.uniform(60, 300))


def sla_state(*, open_, first_contact_at, due, resolution_due, closed_at, now):
    """The stored SLA state: live for an open ticket (tickets.sla.live_state), the state it had at
    closing for a closed one."""
    at = now if open_ else closed_at
    late_contact = (first_contact_at is None and at >= due) or (first_contact_at is not None and first_contact_at > due)
    if (first_contact_at is None and at >= due) or (open_ and at >= resolution_due):
        return "breached"
    if not open_ and late_contact:
        return "breached"
    return "ok"


OPEN_LAG = timedelta(minutes=2)  # a review reaches the desk a little after the buyer posts it


def ticket_story(events):
    """The TicketStory of a neutral/negative review's events (a demo.Story), else None."""
    if getattr(events, "cause", None) is None:
        return None
    created = events[0]
    settled = reopened = None
    settled_outcome = ""
    for event in events[1:]:
        when = datetime.fromisoformat(event["occurred_at"])
        if event["type"] in ("review.revised", "review.deleted") and settled is None:
            settled = when
            settled_outcome = "revised_positive" if event["type"] == "review.revised" else "deleted_by_buyer"
        elif event["type"] == "review.followup" and settled is not None and reopened is None and _negative(event):
            reopened = when
    opened_at = datetime.fromisoformat(created["occurred_at"]) + OPEN_LAG
    return TicketStory(
        created["review_id"],
        created["shop"],
        created["platform"],
        events.cause,
        opened_at,
        settled,
        reopened,
        settled_outcome,
    )


def _negative(followup_event):
    return bool(followup_event["followup"].get("negative"))


@dataclass
class TicketFacts:
    """Every stored fact of a worked demo ticket, for either writer."""

    opened_at: datetime
    status: str
    outcome: str
    verified: bool
    closed_at: datetime | None
    due: datetime
    warn: datetime
    resolution_due: datetime
    resolution_warn: datetime
    sla_state: str
    fired: dict  # sweep markers of the clocks that already fired


def ticket_facts(story, work, *, rated_at, now):
    """Status, outcome and clocks of `story`'s ticket once `work` is done, as of `now`."""
    due, warn, resolution_due, resolution_warn = clocks(story.opened_at, rated_at)
    if story.reopened_at is not None:
        status, outcome, verified, closed_at = "reopened", "", False, None
    elif story.settled_at is not None:
        status, outcome, verified, closed_at = "resolved", story.settled_outcome, True, story.settled_at
    elif work.claim is not None:
        status, outcome, verified, closed_at = "closed_unresolved", work.claim[0], False, work.claim[1]
    elif work.first_contact_at is not None:
        status, outcome, verified, closed_at = "in_progress", "", False, None
    else:
        status, outcome, verified, closed_at = "assigned", "", False, None
    is_open = closed_at is None
    contact = work.first_contact_at
    fired = {
        "first_contact_warned_at": warn if warn <= now and (contact is None or contact > warn) else None,
        "first_contact_breached_at": due if due <= now and (contact is None or contact > due) else None,
        "resolution_warned_at": resolution_warn if resolution_warn <= now else None,
        "resolution_breached_at": resolution_due if resolution_due <= now else None,
    }
    state = sla_state(
        open_=is_open, first_contact_at=contact, due=due, resolution_due=resolution_due, closed_at=closed_at, now=now
    )
    return TicketFacts(
        story.opened_at, status, outcome, verified, closed_at, due, warn, resolution_due, resolution_warn, state, fired
    )


def timeline_rows(story, work, facts, user_ids, causes):
    """(kind, at, actor id, from status, to status, message, data) of the demo team's work, with
    the messages the workspace writes for the same actions (`causes`: {code: Cause})."""
    from tickets import phrases

    actor = user_ids[work.assignee]
    rows = [
        (
            "assigned",
            story.opened_at + timedelta(seconds=20),
            None,
            "new",
            "assigned",
            phrases.assigned(AGENT_NAMES.get(work.assignee, work.assignee), "fewest_open"),
            {"agent": actor},
        )
    ]
    for at, channel, result in work.attempts:
        rows.append(
            (
                "contact_attempt",
                at,
                actor,
                "",
                "",
                phrases.contact_attempt(channel, result),
                {"channel": channel, "result": result},
            )
        )
    if work.cause and work.attempts:
        cause = causes.get(work.cause)
        rows.append(
            (
                "cause_set",
                work.attempts[0][0] + timedelta(minutes=2),
                actor,
                "",
                "",
                phrases.cause_set(cause) if cause else "",
                {"cause": work.cause},
            )
        )
    for at, kind, amount, status in work.remedies:
        rows.append(
            (
                "remedy",
                at,
                actor,
                "",
                "",
                phrases.remedy_recorded(kind, amount, status),
                {"kind": kind, "amount": str(amount), "status": status},
            )
        )
    if work.claim is not None and facts.status == "closed_unresolved":
        outcome, at = work.claim
        rows.append(
            (
                "closed",
                at,
                actor,
                "in_progress",
                "closed_unresolved",
                phrases.outcome_claimed(outcome),
                {"outcome": outcome, "verified": False},
            )
        )
    return rows


def causes_by_code():
    from tickets.models import Cause

    return {cause.code: cause for cause in Cause.objects.all()}


# Writing through the ORM (the ingest path: any database, small runs) ----------------------------


def apply_demo_work(stories_by_ticket, *, end, now):
    """Give the tickets the ingest service just opened their story's times and the demo team's
    work: one pass of bulk statements per 1,000 tickets, whatever the database."""
    from django.contrib.auth import get_user_model

    from reviewdesk.db import bulk_update_rows
    from tickets.models import ContactAttempt, Remedy, Ticket, TicketEvent
    from tickets.phrases import stored
    from tickets.sla import SlaPlanner
    from tickets.stats import _business_minutes

    agents = shop_agents()
    user_ids = dict(get_user_model().objects.filter(username__in=[u for u, *_r in TEAM]).values_list("username", "pk"))
    planner = SlaPlanner()
    causes = causes_by_code()
    ids = sorted(stories_by_ticket)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        tickets = list(Ticket.objects.filter(pk__in=chunk).select_related("review"))
        attempts, remedies, events = [], [], []
        for ticket in tickets:
            story = stories_by_ticket[ticket.pk]
            work = demo_work(story, end, agents)
            facts = ticket_facts(story, work, rated_at=ticket.review.rated_at, now=now)
            schedule = planner.plan(ticket.shop_id, ticket.tier).schedule
            _apply_facts(ticket, story, work, facts, user_ids, schedule, _business_minutes)
            for at, channel, result in work.attempts:
                attempts.append(
                    ContactAttempt(
                        ticket=ticket, agent_id=user_ids[work.assignee], channel=channel, result=result, created_at=at
                    )
                )
            for at, kind, amount, status in work.remedies:
                remedies.append(
                    (
                        Remedy(
                            ticket=ticket,
                            kind=kind,
                            amount=amount,
                            status=status,
                            offered_by_id=user_ids[work.assignee],
                        ),
                        at,
                    )
                )
            rows = timeline_rows(story, work, facts, user_ids, causes)
            for kind, at, actor, from_status, to_status, message, data in rows:
                events.append(
                    TicketEvent(
                        ticket=ticket,
                        kind=kind,
                        actor_id=actor,
                        actor_label=work.assignee if actor else "",
                        from_status=from_status,
                        to_status=to_status,
                        **stored(message),
                        data=data,
                        created_at=at,
                    )
                )
        bulk_update_rows(tickets, _TICKET_FIELDS)
        ContactAttempt.objects.bulk_create(attempts)
        created = Remedy.objects.bulk_create([remedy for remedy, _at in remedies])
        for remedy, (_r, at) in zip(created, remedies, strict=True):
            remedy.created_at = at  # auto_now_add stamped the seeding time
        bulk_update_rows(created, ["created_at"])
        TicketEvent.objects.bulk_create(events)
        _retime_ingest_events(stories_by_ticket, chunk)


_TICKET_FIELDS = [
    "created_at",
    "status",
    "assignee",
    "cause",
    "outcome",
    "outcome_verified",
    "sla_state",
    "first_contact_due_at",
    "first_contact_warn_at",
    "resolution_due_at",
    "resolution_warn_at",
    "first_contact_warned_at",
    "first_contact_breached_at",
    "resolution_warned_at",
    "resolution_breached_at",
    "first_contact_at",
    "first_reached_at",
    "first_contact_business_minutes",
    "first_reach_business_minutes",
    "resolved_at",
    "closed_at",
]


def _apply_facts(ticket, story, work, facts, user_ids, schedule, business_minutes):
    ticket.created_at = facts.opened_at
    ticket.status = facts.status
    ticket.assignee_id = user_ids[work.assignee]
    ticket.cause = work.cause
    ticket.outcome = facts.outcome
    ticket.outcome_verified = facts.verified
    ticket.sla_state = facts.sla_state
    ticket.first_contact_due_at, ticket.first_contact_warn_at = facts.due, facts.warn
    ticket.resolution_due_at, ticket.resolution_warn_at = facts.resolution_due, facts.resolution_warn
    for name, value in facts.fired.items():
        setattr(ticket, name, value)
    ticket.first_contact_at, ticket.first_reached_at = work.first_contact_at, work.first_reached_at
    ticket.first_contact_business_minutes = (
        business_minutes(facts.opened_at, work.first_contact_at, schedule) if work.first_contact_at else None
    )
    ticket.first_reach_business_minutes = (
        business_minutes(facts.opened_at, work.first_reached_at, schedule) if work.first_reached_at else None
    )
    ticket.closed_at = facts.closed_at
    ticket.resolved_at = facts.closed_at if facts.status == "resolved" else None


def _retime_ingest_events(stories_by_ticket, ticket_ids):
    """The ingest service stamped its timeline rows with the seeding time: move them to the story's."""
    from reviewdesk.db import bulk_update_rows
    from tickets.models import TicketEvent

    changed = []
    for event in TicketEvent.objects.filter(ticket_id__in=ticket_ids, actor__isnull=True).exclude(kind="assigned"):
        story = stories_by_ticket[event.ticket_id]
        if event.kind in ("closed", "outcome_verified", "review_revised") and story.settled_at:
            event.created_at = story.settled_at
        elif event.kind in ("reopened", "followup_added") and story.reopened_at:
            event.created_at = story.reopened_at
        else:
            event.created_at = story.opened_at
        changed.append(event)
    bulk_update_rows(changed, ["created_at"])

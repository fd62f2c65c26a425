"""Reads of tickets. Selectors own select_related/prefetch_related so list pages and endpoints
run a fixed number of queries whatever the number of rows."""

from django.db.models import Case, Count, F, Prefetch, Value, When

from reviews.models import Review, Shop
from reviews.selectors import shop_ids_visible_to

from .assignment import open_loads
from .choices import OPEN_STATUSES, Outcome, RemedyStatus, Role, SlaState
from .models import AgentProfile, Cause, ContactAttempt, Notification, Remedy, Ticket, TicketEvent


def ticket_list(principal, shop_ids=None):
    """Tickets of the shops the caller may see, with what a list row shows. `shop_ids`: the
    caller's shop ids when already read."""
    if shop_ids is None:
        shop_ids = shop_ids_visible_to(principal)
    return Ticket.objects.filter(shop_id__in=shop_ids).select_related("shop", "assignee", "review", "review__buyer")


def ticket_detail(principal):
    return ticket_list(principal).prefetch_related(
        "contact_attempts__agent",
        "remedies",
        Prefetch("timeline", queryset=TicketEvent.objects.select_related("actor")),
    )


# The workspace (agent and supervisor pages) -------------------------------------------------


def _due_first(queryset):
    """Open tickets before closed ones, then by the clock that is running: first contact until
    the first attempt, then resolution; tickets without a due time last."""
    return queryset.annotate(
        is_closed=Case(When(status__in=sorted(OPEN_STATUSES), then=Value(0)), default=Value(1)),
        due_at=Case(
            When(first_contact_at__isnull=True, first_contact_due_at__isnull=False, then=F("first_contact_due_at")),
            default=F("resolution_due_at"),
        ),
    ).order_by("is_closed", F("due_at").asc(nulls_last=True), "id")


def queue_tickets(user, shop_ids=None):
    """The caller's own open tickets, most urgent first."""
    return _due_first(ticket_list(user, shop_ids).filter(assignee_id=user.pk, status__in=sorted(OPEN_STATUSES)))


def pool_tickets(user, shop_ids=None):
    """Open tickets of the caller's shops that nobody holds, most urgent first."""
    return _due_first(ticket_list(user, shop_ids).filter(assignee__isnull=True, status__in=sorted(OPEN_STATUSES)))


def supervised_shop_ids(user):
    """The shops the caller supervises (every shop for a superuser)."""
    if user is None or not user.is_authenticated:
        return frozenset()
    if user.is_superuser:
        return shop_ids_visible_to(user)
    profile = getattr(user, "agent_profile", None)
    if profile is None or profile.role != Role.SUPERVISOR:
        return frozenset()
    return shop_ids_visible_to(user)


def all_tickets(user):
    """Every ticket of the shops the caller supervises, open ones first by urgency."""
    return _due_first(
        Ticket.objects.filter(shop_id__in=supervised_shop_ids(user)).select_related(
            "shop", "assignee", "review", "review__buyer"
        )
    )


def ticket_page(user, shop_ids=None):
    """One ticket with everything its page shows, in a fixed number of queries. The shop's
    contact etiquette comes along for the best time to call. The page names people by username
    only (`assignee_username`, `agent_username`, `offered_by_username`, `actor_username`): one
    column where a joined user is eleven and one more model per row."""
    if shop_ids is None:
        shop_ids = shop_ids_visible_to(user)
    return (
        Ticket.objects.filter(shop_id__in=shop_ids)
        .select_related("shop__contact_etiquette", "review__buyer")
        .annotate(assignee_username=F("assignee__username"))
        .prefetch_related(
            Prefetch("contact_attempts", queryset=ContactAttempt.objects.annotate(agent_username=F("agent__username"))),
            Prefetch("remedies", queryset=Remedy.objects.annotate(offered_by_username=F("offered_by__username"))),
            Prefetch("timeline", queryset=TicketEvent.objects.annotate(actor_username=F("actor__username"))),
            "followup_visits",
        )
    )


def buyer_history(user, buyer, shop_ids=None):
    """How this buyer fared in the caller's shops: reviews, tickets and past outcomes."""
    if buyer is None:
        return {"reviews": 0, "tickets": 0, "outcomes": []}
    if shop_ids is None:
        shop_ids = shop_ids_visible_to(user)
    reviews = Review.objects.filter(buyer=buyer, shop_id__in=shop_ids).count()
    rows = (
        Ticket.objects.filter(review__buyer=buyer, shop_id__in=shop_ids)
        .values("outcome")
        .annotate(n=Count("id"))
        .order_by("outcome")
    )
    outcomes = [(Outcome(r["outcome"]).label, r["n"]) for r in rows if r["outcome"]]
    return {"reviews": reviews, "tickets": sum(r["n"] for r in rows), "outcomes": outcomes}


def shop_choices(user, shop_ids=None):
    """(external id, name) of the shops the caller may see, for filter menus."""
    if shop_ids is None:
        shop_ids = shop_ids_visible_to(user)
    return list(Shop.objects.filter(pk__in=shop_ids).order_by("name").values_list("external_id", "name"))


def active_causes():
    return list(Cause.objects.filter(active=True))


def all_causes():
    return list(Cause.objects.all())


def pending_remedies(user):
    """Remedies waiting for the approval of a supervisor of the caller's shops."""
    return (
        Remedy.objects.filter(
            status=RemedyStatus.PENDING_APPROVAL,
            ticket__shop_id__in=supervised_shop_ids(user),
        )
        .select_related("ticket", "ticket__shop", "offered_by")
        .order_by("created_at", "id")
    )


def duty_board(user):
    """Agents of the shops the caller supervises, with open load and breached open tickets."""
    shop_ids = supervised_shop_ids(user)
    profiles = list(
        AgentProfile.objects.filter(shops__in=shop_ids, user__is_active=True)
        .select_related("user")
        .distinct()
        .order_by("role", "user__username")
    )
    user_ids = [p.user_id for p in profiles]
    loads = open_loads(user_ids)
    breached = dict(
        Ticket.objects.filter(assignee_id__in=user_ids, status__in=sorted(OPEN_STATUSES), sla_state=SlaState.BREACHED)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    return [{"profile": p, "load": loads.get(p.user_id, 0), "breached": breached.get(p.user_id, 0)} for p in profiles]


def shop_agents(shop_ids):
    """Active agents and supervisors working any of these shops, for assignment choices."""
    return (
        AgentProfile.objects.filter(shops__in=shop_ids, user__is_active=True)
        .select_related("user")
        .distinct()
        .order_by("user__username")
    )


def notifications_of(user):
    return Notification.objects.filter(recipient_id=user.pk).select_related("ticket")


def unread_count(user):
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()

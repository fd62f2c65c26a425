"""The agent workspace and supervisor pages, server-rendered (issue 4).

Reads go through tickets.selectors, scoped to the caller's shops; each POST validates a form and
calls one service, then redirects back with a message (PRG). A ticket outside the caller's shops
is a 404; an action the caller's role does not allow is a 403 and changes nothing.
"""

import datetime as dt
from dataclasses import dataclass
from functools import cached_property, lru_cache

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import DateFormat, re_escaped, re_formatchars
from django.utils.formats import get_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts.models import RiskLevel
from contacts.services import best_contact_time
from reviews.choices import Platform, Tier
from reviews.selectors import shop_ids_visible_to

from . import selectors
from .actions import (
    EXPLANATION_WINDOW_DAYS,
    cause_set,
    cause_suggest,
    followup_visit_done,
    followup_visit_schedule,
    note_add,
    outcome_claim,
    remedy_decide,
    remedy_record,
    remedy_set_status,
    seller_explanation_record,
    ticket_escalate,
)
from .assignment import AssignmentRefused, agent_set_duty, ticket_assign_manual, ticket_take
from .choices import (
    OPEN_STATUSES,
    ContactChannel,
    ContactResult,
    Outcome,
    RemedyKind,
    RemedyStatus,
    Role,
    SlaState,
    TicketStatus,
    TimelineKind,
)
from .filters import TicketFilter, filterset_errors
from .forms import (
    AssignForm,
    BlankForm,
    CauseForm,
    ContactAttemptForm,
    DutyForm,
    EscalateForm,
    FollowUpVisitForm,
    NoteForm,
    OutcomeForm,
    RemedyDecisionForm,
    RemedyForm,
    RemedyStatusForm,
    SellerExplanationForm,
)
from .guides import call_script_for, revision_guide_for
from .lifecycle import TransitionNotAllowed
from .models import FollowUpVisit, Notification, Remedy
from .permissions import can_supervise, can_work, profile_of
from .services import TicketActionRefused, contact_attempt_log
from .sla import live_state

PAGE_SIZE = 50
REFUSALS = (TicketActionRefused, AssignmentRefused, TransitionNotAllowed)


# Header ------------------------------------------------------------------------------------


class Workspace:
    """What the page header shows; every figure is read only when a template asks for it, so
    pages that do not show the header (the admin) run no extra query."""

    def __init__(self, request):
        self.user = request.user

    @cached_property
    def profile(self):
        return profile_of(self.user)

    @cached_property
    def is_supervisor(self):
        return bool(
            self.user.is_authenticated and (self.user.is_superuser or (self.profile and self.profile.is_supervisor))
        )

    @cached_property
    def role_label(self):
        if self.profile is not None:
            return _labels(Role).get(self.profile.role, self.profile.role)
        return _("Administrator") if self.user.is_superuser else _("No role")

    @cached_property
    def unread_count(self):
        return selectors.unread_count(self.user)


def workspace_context(request):
    """Context processor: the lazily computed header of the workspace pages."""
    return {"workspace": Workspace(request)}


# Helpers -----------------------------------------------------------------------------------


def _back(request, fallback):
    """Where a form asked to go back to (a local path in `next`), else `fallback` (a URL name).
    `next` goes out as a URL as it is: redirect() would take one without "/" for a URL name."""
    target = request.POST.get("next") or request.GET.get("next")
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    ):
        return HttpResponseRedirect(target)
    return redirect(fallback)


def _require_supervisor(request):
    if not Workspace(request).is_supervisor:
        raise PermissionDenied(_("This page is for supervisors."))


def _running_due(ticket):
    """The due time of the clock that is running: first contact, then resolution."""
    if ticket.first_contact_at is None and ticket.first_contact_due_at:
        return ticket.first_contact_due_at
    return ticket.resolution_due_at


def _revision_deadline(ticket):
    """The platform's deadline for the buyer to revise: the review's time plus the shop's window."""
    rated_at = ticket.review.rated_at
    if rated_at is None:
        return None
    return rated_at + dt.timedelta(days=ticket.shop.effective_revision_window_days)


@dataclass
class Row:
    """One line of a ticket list, with its texts and dates ready to print: a page of 50 rows
    rendered through template lookups and filters (get_FOO_display, url, date, timesince) cost
    about 0.6 ms of CPU a row (bench/pages.py), most of the queue page."""

    ticket: object
    href: str
    sla: str
    sla_label: str
    due_iso: str
    due_title: str
    deadline_iso: str
    deadline_title: str
    deadline_day: str
    created_title: str
    cause_label: str
    excerpt: str
    excerpt_short: str
    tier_label: str
    platform_label: str
    status_label: str
    risk_level: str
    risk_label: str
    age: str


@lru_cache(maxsize=64)
def _choice_labels(choices, language):
    """{value: label} of a TextChoices class, translated once per language."""
    return {value: str(label) for value, label in choices.choices}


def _labels(choices):
    """{value: label} of a TextChoices class in the current language: a dictionary lookup where
    get_FOO_display() rebuilds the field's choices at each call."""
    return _choice_labels(choices, get_language())


def _local_iso(value):
    return timezone.localtime(value).isoformat() if value else ""


@lru_cache(maxsize=16)
def _format_pieces(format_string):
    """A date format cut into literal text and format characters, as dateformat.format cuts it
    again at every call."""
    return tuple(
        (piece, True) if i % 2 else (re_escaped.sub(r"\1", piece), False)
        for i, piece in enumerate(re_formatchars.split(format_string))
        if piece
    )


class _DatePrinter:
    """Prints dates as {{ value|date:format_name }} does (local time, the active language's
    format), with the format looked up and cut once per page, not per date: the ticket page
    prints a date per timeline event and per contact attempt."""

    def __init__(self, format_name="SHORT_DATETIME_FORMAT"):
        self.pieces = _format_pieces(get_format(format_name))

    def __call__(self, value):
        if value is None:
            return ""
        formatter = DateFormat(timezone.template_localtime(value))
        return "".join(str(getattr(formatter, piece)()) if is_char else piece for piece, is_char in self.pieces)


def _rows(tickets, causes, now):
    tiers, platforms, statuses = _labels(Tier), _labels(Platform), _labels(TicketStatus)
    slas, risks = _labels(SlaState), _labels(RiskLevel)
    print_date, print_day = _DatePrinter(), _DatePrinter("SHORT_DATE_FORMAT")
    rows = []
    for ticket in tickets:
        sla = live_state(ticket, now) if ticket.is_open else SlaState(ticket.sla_state)
        due_at = _running_due(ticket) if ticket.is_open else None
        deadline = _revision_deadline(ticket)
        content = ticket.review.content
        buyer = ticket.review.buyer
        rows.append(
            Row(
                ticket=ticket,
                href=reverse("ticket-detail", args=[ticket.pk]),
                sla=sla,
                sla_label=slas.get(sla, sla),
                due_iso=_local_iso(due_at),
                due_title=print_date(due_at),
                deadline_iso=_local_iso(deadline),
                deadline_title=print_date(deadline),
                deadline_day=print_day(deadline),
                created_title=print_date(ticket.created_at),
                cause_label=causes.get(ticket.cause, ticket.cause),
                excerpt=content,
                # What |truncatechars:40 printed.
                excerpt_short=(content[:39] + "…" if len(content) > 40 else content) or "—",
                tier_label=tiers.get(ticket.tier, ticket.tier),
                platform_label=platforms.get(ticket.platform, ticket.platform),
                status_label=statuses.get(ticket.status, ticket.status),
                risk_level=buyer.risk_level if buyer else "",
                risk_label=risks.get(buyer.risk_level, buyer.risk_level) if buyer else "",
                age=timesince(ticket.created_at, now),
            )
        )
    return rows


def _page_by_ids(queryset, number):
    """A page of `queryset`, sorted and cut on the ticket table alone, then only its rows fetched
    with their joins. On the supervisor's list of every ticket PostgreSQL otherwise sorts all the
    joined rows (200,000 tickets with reviews and buyers: a 40 MB sort on disk, 300 ms) to keep
    50; sorting the ids alone takes 80 ms (bench/pages.py)."""
    page = Paginator(queryset.values_list("pk", flat=True), PAGE_SIZE).get_page(number)
    ids = list(page.object_list)
    found = queryset.in_bulk(ids)
    page.object_list = [found[pk] for pk in ids if pk in found]
    return page


def _list_page(request, queryset, *, mode, title, statuses, extra=None, large=False):
    """A filtered, paginated ticket list; an htmx poll gets only the rows. `large`: a list that
    can hold every ticket of a shop, paged by ids first."""
    filterset = TicketFilter(request.GET or None, queryset=queryset, request=request)
    if large:
        page = _page_by_ids(filterset.qs, request.GET.get("page"))
    else:
        page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    every_cause = selectors.all_causes()
    rows = _rows(page.object_list, {c.code: c.label for c in every_cause}, timezone.now())
    context = {
        "mode": mode,
        "title": title,
        "rows": rows,
        "page": page,
        "filter_errors": filterset_errors(filterset),
        "params": request.GET,
        **(extra or {}),
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "tickets/_ticket_rows.html", context)
    context.update(
        {
            "status_choices": [(s.value, s.label) for s in TicketStatus if s in statuses],
            "shop_choices": selectors.shop_choices(request.user, _shop_ids(request)),
            "platform_choices": Platform.choices,
            "tier_choices": Tier.choices,
            "sla_choices": SlaState.choices,
            "cause_choices": [(c.code, c.label) for c in every_cause if c.active],
        }
    )
    return render(request, "tickets/ticket_list.html", context)


# Lists -------------------------------------------------------------------------------------


@login_required
def queue(request):
    """My open tickets, most urgent first."""
    return _list_page(
        request,
        selectors.queue_tickets(request.user, _shop_ids(request)),
        mode="queue",
        title=_("My tickets"),
        statuses=OPEN_STATUSES,
    )


@login_required
def pool(request):
    """Open tickets of my shops that nobody holds, with a Take button."""
    return _list_page(
        request,
        selectors.pool_tickets(request.user, _shop_ids(request)),
        mode="pool",
        title=_("Unassigned pool"),
        statuses=OPEN_STATUSES,
    )


@login_required
def all_tickets(request):
    """Every ticket of the shops I supervise, filterable by assignee."""
    _require_supervisor(request)
    agents = selectors.shop_agents(selectors.supervised_shop_ids(request.user))
    return _list_page(
        request,
        selectors.all_tickets(request.user),
        mode="all",
        title=_("All tickets"),
        statuses=set(TicketStatus),
        extra={"assignee_choices": [(str(p.user_id), str(p)) for p in agents]},
        large=True,
    )


# The ticket page ---------------------------------------------------------------------------


def _shop_ids(request):
    """The ids of the caller's shops, read once per request: the ticket page needs them to find
    the ticket, for the buyer's history and to tell whether the caller supervises the shop."""
    if not hasattr(request, "_visible_shop_ids"):
        request._visible_shop_ids = shop_ids_visible_to(request.user)
    return request._visible_shop_ids


def _supervises(request, shop_id):
    """permissions.can_supervise, without a query: a supervisor's shops are the ones they see."""
    user = request.user
    if user.is_superuser:
        return True
    profile = profile_of(user)
    return bool(profile and profile.is_supervisor and shop_id in _shop_ids(request))


def _visible_ticket(request, ticket_id, queryset=None):
    """The ticket, if it belongs to the caller's shops; else 404."""
    if queryset is None:
        queryset = selectors.ticket_list(request.user, _shop_ids(request))
    return get_object_or_404(queryset, pk=ticket_id)


def _ticket_page(request, ticket_id):
    """The ticket with everything its page shows, if it belongs to the caller's shops; else 404."""
    return _visible_ticket(request, ticket_id, selectors.ticket_page(request.user, _shop_ids(request)))


def _timeline(ticket, cause_labels, print_date):
    """Each event as a line: kind, status change, message and the details its data carries."""
    kinds, statuses, outcomes = _labels(TimelineKind), _labels(TicketStatus), _labels(Outcome)
    remedy_kinds, remedy_statuses = _labels(RemedyKind), _labels(RemedyStatus)
    lines = []
    for event in ticket.timeline.all():
        data = event.data if isinstance(event.data, dict) else {}
        details = []
        if event.kind == TimelineKind.CONTACT_ATTEMPT and data.get("note"):
            details.append((_("Note"), data["note"]))
        elif event.kind == TimelineKind.ASSIGNED and data.get("candidates") is not None:
            details.append((_("Candidates"), len(data["candidates"])))
        elif event.kind == TimelineKind.CAUSE_SET:
            if data.get("from"):
                details.append((_("Previous cause"), cause_labels.get(data["from"], data["from"])))
            if data.get("note"):
                details.append((_("Note"), data["note"]))
        elif event.kind in (TimelineKind.CLOSED, TimelineKind.OUTCOME_VERIFIED) and data.get("outcome"):
            details.append((_("Outcome"), outcomes.get(data["outcome"], data["outcome"])))
        elif event.kind == TimelineKind.REMEDY:
            if data.get("kind"):
                details.append((_("Kind"), remedy_kinds.get(data["kind"], data["kind"])))
            if data.get("amount"):
                details.append((_("Amount"), data["amount"]))
            if data.get("status"):
                details.append((_("Status"), remedy_statuses.get(data["status"], data["status"])))
            if data.get("note"):
                details.append((_("Note"), data["note"]))
            if data.get("reason"):
                details.append((_("Reason"), data["reason"]))
        elif event.kind in (TimelineKind.SELLER_REPLIED,) and data.get("content"):
            details.append((_("Explanation"), data["content"]))
        elif event.kind == TimelineKind.FOLLOWUP_VISIT and data.get("note"):
            details.append((_("Note"), data["note"]))
        elif event.kind == TimelineKind.SLA and data.get("due_at"):
            details.append((_("Due"), data["due_at"]))
        if data.get("compliance"):
            details.append((_("Compliance warning"), "; ".join(map(str, data["compliance"]))))
        status_change = None
        if event.from_status != event.to_status and event.to_status:
            status_change = (
                statuses.get(event.from_status, event.from_status) if event.from_status else "",
                statuses.get(event.to_status, event.to_status),
            )
        lines.append(
            {
                "event": event,
                "when": print_date(event.created_at),
                "kind_label": kinds.get(event.kind, event.kind),
                "actor": event.actor_username if event.actor_id else event.actor_name,
                "status_change": status_change,
                "details": details,
            }
        )
    return lines


def _explanation_possible(review):
    """The platform takes a seller explanation within its window and not after a follow-up."""
    if review.followup_at is not None or review.followup_content:
        return False
    rated_at = review.rated_at or review.created_at
    return rated_at is None or timezone.now() - rated_at <= dt.timedelta(days=EXPLANATION_WINDOW_DAYS)


def _show_suggestion(cause_form, suggested):
    """Give the page's cause form, blank or submitted, the suggested cause to show under its menu."""
    if cause_form is not None:
        cause_form.suggested = suggested


def _ticket_context(request, ticket, bound=None):
    """Everything the ticket page shows; `bound` replaces an action's blank form by the one the
    caller submitted, so its errors appear next to it."""
    bound = bound or {}
    user = request.user
    review = ticket.review
    buyer = review.buyer
    every_cause = selectors.all_causes()
    causes = [c for c in every_cause if c.active]
    cause_labels = {c.code: c.label for c in every_cause}
    is_open = ticket.is_open
    supervisor = _supervises(request, ticket.shop_id)
    worker = ticket.assignee_id == user.pk or supervisor  # permissions.can_work, without a query
    profile = profile_of(user)
    suggested = None
    if worker and is_open and not ticket.cause:
        suggested = cause_suggest(ticket.review.content, platform=ticket.platform)
    forms = {}
    if worker and is_open:
        forms["contact_form"] = BlankForm(ContactAttemptForm)
        forms["cause_form"] = CauseForm(
            initial={"cause": ticket.cause or (suggested.code if suggested else "")}, causes=causes, labels=cause_labels
        )
        # Only a supervisor can grant a remedy to a high-risk buyer; nobody else needs the box.
        override = supervisor and buyer is not None and buyer.risk_level == RiskLevel.HIGH
        forms["remedy_form"] = BlankForm(RemedyForm, without=() if override else ("override_reason",))
        forms["outcome_form"] = BlankForm(OutcomeForm)
        if ticket.status != TicketStatus.ESCALATED:
            forms["escalate_form"] = BlankForm(EscalateForm)
        if _explanation_possible(review):
            forms["explanation_form"] = BlankForm(SellerExplanationForm)
    if worker:
        # A call-back (回访) often follows the close, e.g. to check a reissued parcel arrived.
        forms["visit_form"] = BlankForm(FollowUpVisitForm)
        forms["note_form"] = BlankForm(NoteForm)
    if supervisor and is_open:
        agents = selectors.shop_agents([ticket.shop_id])
        forms["assign_form"] = AssignForm(agents=agents, initial={"agent": ticket.assignee_id})
    for name, form in bound.items():
        forms[name] = form
    _show_suggestion(forms.get("cause_form"), suggested)
    can_take = bool(is_open and ticket.assignee_id is None and profile is not None)
    sla = live_state(ticket, timezone.now()) if is_open else ticket.sla_state
    tiers, channels, results = _labels(Tier), _labels(ContactChannel), _labels(ContactResult)
    remedy_kinds, remedy_statuses = _labels(RemedyKind), _labels(RemedyStatus)
    print_date, print_day = _DatePrinter(), _DatePrinter("SHORT_DATE_FORMAT")
    due_at = _running_due(ticket) if is_open else None
    revision_deadline = _revision_deadline(ticket)
    return {
        "ticket": ticket,
        "status_label": _labels(TicketStatus).get(ticket.status, ticket.status),
        "tier_label": tiers.get(ticket.tier, ticket.tier),
        "platform_label": _labels(Platform).get(ticket.platform, ticket.platform),
        "outcome_label": _labels(Outcome).get(ticket.outcome, ticket.outcome),
        "review": review,
        "review_tier_label": tiers.get(review.tier, review.tier),
        "buyer": buyer,
        "risk_label": _labels(RiskLevel).get(buyer.risk_level, buyer.risk_level) if buyer else "",
        "risk_high": bool(buyer and buyer.risk_level == RiskLevel.HIGH),
        "history": selectors.buyer_history(user, buyer, _shop_ids(request)),
        "best_time": best_contact_time(buyer, shop=ticket.shop) if buyer is not None else None,
        "sla": sla,
        "sla_label": _labels(SlaState).get(sla, sla),
        "due_at": due_at,
        "revision_deadline": revision_deadline,
        "when": {
            "opened": print_date(ticket.created_at),
            "first_contact_due": print_date(ticket.first_contact_due_at),
            "first_contact": print_date(ticket.first_contact_at),
            "resolution_due": print_date(ticket.resolution_due_at),
            "rated": print_date(review.rated_at),
            "revision_deadline": print_date(revision_deadline),
            "revision_deadline_iso": _local_iso(revision_deadline),
            "due_iso": _local_iso(due_at),
        },
        "cause_label": cause_labels.get(ticket.cause, ticket.cause),
        "suggested_cause": suggested,
        "timeline": _timeline(ticket, cause_labels, print_date),
        "attempts": [
            {
                "attempt": a,
                "when": print_date(a.created_at),
                "channel_label": channels.get(a.channel, a.channel),
                "result_label": results.get(a.result, a.result),
            }
            for a in ticket.contact_attempts.all()
        ],
        "remedies": [
            {
                "remedy": r,
                "kind_label": remedy_kinds.get(r.kind, r.kind),
                "status_label": remedy_statuses.get(r.status, r.status),
            }
            for r in ticket.remedies.all()
        ],
        "visits": [{"visit": v, "due_on": print_day(v.due_on)} for v in ticket.followup_visits.all()],
        "can_work": worker,
        "can_supervise": supervisor,
        "can_take": can_take,
        # Scripts and the revision guide help while the buyer is being worked, not after the close.
        "call_script": call_script_for(ticket) if is_open else None,
        "revision_guide": revision_guide_for(ticket) if is_open else "",
        **forms,
    }


@login_required
def ticket_detail(request, ticket_id):
    ticket = _ticket_page(request, ticket_id)
    return render(request, "tickets/ticket_detail.html", _ticket_context(request, ticket))


def _ticket_action(request, ticket_id, form_class, form_name, call, *, allowed=can_work, form_kwargs=None):
    """Validate `form_class`, call one service through `call(ticket, data)`, redirect back.

    Bad input re-renders the ticket page with the form's errors; a refusal from the rules comes
    back as an error message; a role that may not act gets 403 and nothing changes.
    """
    ticket = _visible_ticket(request, ticket_id)
    if not allowed(request.user, ticket):
        raise PermissionDenied(_("You may not do this on this ticket."))
    form = form_class(request.POST, **(form_kwargs or {}))
    if not form.is_valid():
        page = _ticket_page(request, ticket_id)
        messages.error(request, _("Please correct the errors below."))
        return render(request, "tickets/ticket_detail.html", _ticket_context(request, page, {form_name: form}))
    try:
        result = call(ticket, form.cleaned_data)
    except (*REFUSALS, ValidationError) as exc:
        # The rules said no: show why next to the form, with what the agent typed kept (a call
        # refused by the contact etiquette only needs the override reason added).
        reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, reason)
        page = _ticket_page(request, ticket_id)
        context = _ticket_context(request, page)
        if context.get(form_name) is None:
            # The form no longer belongs on the page (e.g. the ticket closed meanwhile).
            return redirect("ticket-detail", ticket_id=ticket.pk)
        form.add_error(None, reason)
        context[form_name] = form
        _show_suggestion(context.get("cause_form"), context["suggested_cause"])
        return render(request, "tickets/ticket_detail.html", context, status=409)
    if isinstance(result, str):
        messages.success(request, result)
    return redirect("ticket-detail", ticket_id=ticket.pk)


def _warn_compliance(request, obj):
    """Show the compliance flags a service attached to what it wrote, if any."""
    reasons = list(getattr(obj, "compliance_reasons", None) or [])
    if reasons:
        messages.warning(
            request,
            _("Compliance warning: this text may tie a reward to a review. %(reasons)s")
            % {"reasons": " ".join(map(str, reasons))},
        )


@require_POST
@login_required
def contact_attempt_add(request, ticket_id):
    def call(ticket, data):
        contact_attempt_log(ticket.pk, request.user, **data)
        return _("Contact attempt logged.")

    return _ticket_action(request, ticket_id, ContactAttemptForm, "contact_form", call)


@require_POST
@login_required
def ticket_take_view(request, ticket_id):
    ticket = _visible_ticket(request, ticket_id)
    try:
        ticket_take(ticket.pk, request.user)
    except REFUSALS as exc:
        messages.error(request, str(exc))
        return _back(request, reverse("pool"))
    messages.success(request, _("Ticket #%(id)s is yours.") % {"id": ticket.pk})
    return redirect("ticket-detail", ticket_id=ticket.pk)


@require_POST
@login_required
def ticket_assign(request, ticket_id):
    ticket = _visible_ticket(request, ticket_id)

    def call(ticket, data):
        ticket_assign_manual(ticket.pk, data["agent"], by=request.user, force=data["force"])
        return _("Ticket assigned.")

    agents = selectors.shop_agents([ticket.shop_id])
    return _ticket_action(
        request,
        ticket_id,
        AssignForm,
        "assign_form",
        call,
        allowed=lambda user, t: can_supervise(user, t.shop_id),
        form_kwargs={"agents": agents},
    )


@require_POST
@login_required
def cause_set_view(request, ticket_id):

    def call(ticket, data):
        _warn_compliance(request, cause_set(ticket.pk, request.user, cause=data["cause"], note=data["note"]))
        return _("Cause saved.")

    return _ticket_action(
        request, ticket_id, CauseForm, "cause_form", call, form_kwargs={"causes": selectors.active_causes()}
    )


@require_POST
@login_required
def remedy_add(request, ticket_id):

    def call(ticket, data):
        remedy = remedy_record(
            ticket.pk,
            request.user,
            kind=data["kind"],
            amount=data["amount"],
            status=data["status"],
            note=data["note"],
            override_reason=data["override_reason"],
        )
        _warn_compliance(request, remedy)
        if remedy.status == RemedyStatus.PENDING_APPROVAL:
            return _("The remedy is above your cap: it waits for a supervisor's approval.")
        return _("Remedy recorded.")

    return _ticket_action(request, ticket_id, RemedyForm, "remedy_form", call)


@require_POST
@login_required
def outcome_claim_view(request, ticket_id):

    def call(ticket, data):
        _warn_compliance(request, outcome_claim(ticket.pk, request.user, outcome=data["outcome"], note=data["note"]))
        return _("Outcome recorded.")

    return _ticket_action(request, ticket_id, OutcomeForm, "outcome_form", call)


@require_POST
@login_required
def seller_explanation_add(request, ticket_id):

    def call(ticket, data):
        result = seller_explanation_record(ticket.pk, request.user, content=data["content"])
        _warn_compliance(request, result)
        return _("Seller explanation recorded.")

    return _ticket_action(request, ticket_id, SellerExplanationForm, "explanation_form", call)


@require_POST
@login_required
def followup_visit_add(request, ticket_id):

    def call(ticket, data):
        followup_visit_schedule(ticket.pk, request.user, due_on=data["due_on"], note=data["note"])
        return _("Follow-up visit scheduled.")

    return _ticket_action(request, ticket_id, FollowUpVisitForm, "visit_form", call)


@require_POST
@login_required
def ticket_escalate_view(request, ticket_id):

    def call(ticket, data):
        ticket_escalate(ticket.pk, request.user, reason=data["reason"])
        return _("Escalated to the shop's supervisors.")

    return _ticket_action(request, ticket_id, EscalateForm, "escalate_form", call)


@require_POST
@login_required
def note_add_view(request, ticket_id):

    def call(ticket, data):
        note = note_add(ticket.pk, request.user, text=data["text"])
        _warn_compliance(request, note)
        return _("Note added.")

    return _ticket_action(request, ticket_id, NoteForm, "note_form", call)


@require_POST
@login_required
def followup_visit_done_view(request, visit_id):

    visit = get_object_or_404(
        FollowUpVisit.objects.select_related("ticket"),
        pk=visit_id,
        ticket__shop_id__in=shop_ids_visible_to(request.user),
    )
    if not can_work(request.user, visit.ticket):
        raise PermissionDenied(_("You may not do this on this ticket."))
    try:
        followup_visit_done(visit.pk, request.user)
    except REFUSALS as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Follow-up visit done."))
    return redirect("ticket-detail", ticket_id=visit.ticket_id)


def _visible_remedy(request, remedy_id):
    return get_object_or_404(
        Remedy.objects.select_related("ticket"), pk=remedy_id, ticket__shop_id__in=shop_ids_visible_to(request.user)
    )


@require_POST
@login_required
def remedy_decide_view(request, remedy_id):

    remedy = _visible_remedy(request, remedy_id)
    if not can_supervise(request.user, remedy.ticket.shop_id):
        raise PermissionDenied(_("Only a supervisor of this shop may approve remedies."))
    form = RemedyDecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(request, reverse("ticket-detail", args=[remedy.ticket_id]))
    try:
        remedy_decide(remedy.pk, request.user, approve=form.cleaned_data["approve"], reason=form.cleaned_data["reason"])
    except REFUSALS as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Remedy approved.") if form.cleaned_data["approve"] else _("Remedy rejected."))
    return _back(request, reverse("ticket-detail", args=[remedy.ticket_id]))


@require_POST
@login_required
def remedy_status_view(request, remedy_id):

    remedy = _visible_remedy(request, remedy_id)
    if not can_work(request.user, remedy.ticket):
        raise PermissionDenied(_("You may not do this on this ticket."))
    form = RemedyStatusForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        try:
            remedy_set_status(remedy.pk, request.user, status=form.cleaned_data["status"])
        except REFUSALS as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Remedy updated."))
    return redirect("ticket-detail", ticket_id=remedy.ticket_id)


# Duty, notifications, supervisor pages -----------------------------------------------------


@require_POST
@login_required
def duty_set(request):
    """Go on or off duty (optionally handing back the tickets not yet contacted)."""
    if profile_of(request.user) is None:
        raise PermissionDenied(_("You have no agent profile."))
    form = DutyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose on duty or off duty."))
        return _back(request, reverse("queue"))
    on_duty = form.cleaned_data["on_duty"]
    _profile, returned = agent_set_duty(
        request.user, on_duty, return_uncontacted=form.cleaned_data["return_uncontacted"]
    )
    if on_duty:
        messages.success(request, _("You are on duty."))
    elif returned:
        messages.success(
            request,
            _("You are off duty; %(n)s uncontacted tickets went back to the pool.") % {"n": len(returned)},
        )
    else:
        messages.success(request, _("You are off duty."))
    return _back(request, reverse("queue"))


@login_required
def notifications(request):
    page = Paginator(selectors.notifications_of(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "tickets/notifications.html", {"page": page})


@require_POST
@login_required
def notifications_mark_read(request):
    """Mark one notification (`id`) or all of mine read. A notification is the recipient's own
    inbox state, not a ticket change, so it has no service or timeline row."""
    unread = Notification.objects.filter(recipient_id=request.user.pk, read_at__isnull=True)
    notification_id = request.POST.get("id", "")
    if notification_id:
        if not notification_id.isascii() or not notification_id.isdigit():
            messages.error(request, _("Unknown notification."))
            return redirect("notifications")
        unread = unread.filter(pk=int(notification_id))
    with transaction.atomic():
        unread.update(read_at=timezone.now())
    return _back(request, reverse("notifications"))


@login_required
def remedy_approvals(request):
    _require_supervisor(request)
    remedies = list(selectors.pending_remedies(request.user))
    return render(request, "tickets/approvals.html", {"remedies": remedies, "decision_form": RemedyDecisionForm()})


@login_required
def duty_board(request):
    _require_supervisor(request)
    return render(request, "tickets/duty_board.html", {"rows": selectors.duty_board(request.user)})

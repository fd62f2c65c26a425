"""The buyer page and the evidence pack, server-rendered. Reads go through contacts.selectors,
scoped to the caller's shops (a buyer who never reviewed them is a 404); each POST validates a
form and calls one service. A revealed value is rendered once into the response (never stored in
the session or a message) and the response is not cached."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tickets.models import Cause

from .buyer_services import BuyerActionRefused, buyer_list_mark_set, buyer_note_add, buyer_reveal
from .choices import RevealField, RiskLevel
from .forms import BuyerNoteForm, ListMarkForm, RevealForm
from .permissions import supervises_buyer
from .selectors import buyer_profile, buyer_visible, evidence_ticket


def _visible_buyer(request, buyer_id):
    buyer = buyer_visible(request.user, buyer_id)
    if buyer is None:
        raise Http404
    return buyer


def _render_page(request, buyer, *, status=200, revealed=None, **forms):
    profile = buyer_profile(request.user, buyer)
    causes = {t.cause for t in profile.tickets if t.cause}
    labels = {c.code: c.label for c in Cause.objects.filter(code__in=causes)} if causes else {}
    for ticket in profile.tickets:
        ticket.cause_label = labels.get(ticket.cause, ticket.cause)  # the cause's name, not its code
    # The nick is revealed to supervisors of a shop the buyer reviewed (buyer_services.buyer_reveal):
    # an agent is not offered what would be refused.
    supervises = supervises_buyer(request.user, buyer.pk)
    context = {
        "profile": profile,
        "buyer": buyer,
        "is_high_risk": buyer.risk_level == RiskLevel.HIGH,
        "can_list_mark": supervises,
        "reveal_form": forms.get("reveal_form") or RevealForm(nick_allowed=supervises),
        "note_form": forms.get("note_form") or BuyerNoteForm(),
        "list_mark_form": forms.get("list_mark_form")
        or ListMarkForm(initial={"mark": buyer.list_mark, "reason": buyer.list_mark_reason}),
        "revealed": revealed,
    }
    response = render(request, "contacts/buyer_detail.html", context, status=status)
    if revealed is not None:
        add_never_cache_headers(response)
    return response


@login_required
def buyer_detail(request, buyer_id):
    return _render_page(request, _visible_buyer(request, buyer_id))


@require_POST
@login_required
def buyer_reveal_view(request, buyer_id):
    buyer = _visible_buyer(request, buyer_id)
    form = RevealForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please correct the errors below."))
        return _render_page(request, buyer, status=400, reveal_form=form)
    field = form.cleaned_data["field"]
    try:
        value = buyer_reveal(buyer.pk, request.user, field=field, reason=form.cleaned_data["reason"])
    except BuyerActionRefused as exc:
        messages.error(request, str(exc))
        return _render_page(request, buyer, status=403 if exc.code == "not_permitted" else 400, reveal_form=form)
    return _render_page(request, buyer, revealed={"field": field, "label": RevealField(field).label, "value": value})


@require_POST
@login_required
def buyer_note_add_view(request, buyer_id):
    buyer = _visible_buyer(request, buyer_id)
    form = BuyerNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please correct the errors below."))
        return _render_page(request, buyer, status=400, note_form=form)
    try:
        buyer_note_add(buyer.pk, request.user, tags=form.cleaned_data["tags"], text=form.cleaned_data["text"])
    except BuyerActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Note added."))
    return redirect("buyer-detail", buyer_id=buyer.pk)


@require_POST
@login_required
def buyer_list_mark_view(request, buyer_id):
    buyer = _visible_buyer(request, buyer_id)
    form = ListMarkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please correct the errors below."))
        return _render_page(request, buyer, status=400, list_mark_form=form)
    try:
        buyer_list_mark_set(buyer.pk, request.user, mark=form.cleaned_data["mark"], reason=form.cleaned_data["reason"])
    except BuyerActionRefused as exc:
        messages.error(request, str(exc))
        if exc.code == "not_permitted":
            return _render_page(request, buyer, status=403, list_mark_form=form)
    else:
        messages.success(request, _("List mark saved; risk re-assessed."))
    return redirect("buyer-detail", buyer_id=buyer.pk)


@login_required
def evidence_pack(request, buyer_id):
    """A printable page for a platform complaint: the review, the contact log, the timeline and
    the notes of one ticket of this buyer, with the buyer's risk reasons."""
    buyer = _visible_buyer(request, buyer_id)
    try:
        ticket_id = int(request.GET.get("ticket", ""))
    except ValueError:
        raise Http404 from None
    ticket = evidence_ticket(request.user, buyer, ticket_id)
    if ticket is None:
        raise Http404
    profile = buyer_profile(request.user, buyer)
    context = {
        "buyer": buyer,
        "profile": profile,
        "ticket": ticket,
        "review": ticket.review,
        "notes": profile.notes,
        "generated_at": timezone.now(),
    }
    return render(request, "contacts/evidence_pack.html", context)

"""Reads of tickets. Selectors own select_related/prefetch_related so list pages and endpoints
run a fixed number of queries whatever the number of rows."""

from django.db.models import Prefetch

from reviews.selectors import shop_ids_visible_to

from .models import Ticket, TicketEvent


def ticket_list(principal):
    """Tickets of the shops the caller may see, with what a list row shows."""
    return Ticket.objects.filter(shop_id__in=shop_ids_visible_to(principal)).select_related(
        "shop", "assignee", "review", "review__buyer"
    )


def ticket_detail(principal):
    return ticket_list(principal).prefetch_related(
        "contact_attempts__agent",
        "remedies",
        Prefetch("timeline", queryset=TicketEvent.objects.select_related("actor")),
    )

"""Who may see a buyer and who may reveal, note or list them, checked in one place.

- See a buyer (profile, notes, contact history): a person or key whose shops the buyer reviewed.
- Reveal the nick or the phone: a supervisor of a shop the buyer reviewed (or a superuser).
- Reveal the phone: also the assignee of an open ticket of the buyer, who must be able to call.
  Agents do not reveal nicks: IM contact goes through the order's chat, which needs no nick.
- Notes: any person who may see the buyer. List marks (blacklist/whitelist): supervisors only.
"""

from reviews.models import Review
from reviews.selectors import shop_ids_visible_to
from tickets.choices import OPEN_STATUSES, Role
from tickets.models import Ticket
from tickets.permissions import profile_of

from .choices import RevealField


def is_person(user):
    return bool(user is not None and user.is_authenticated and not getattr(user, "is_integration", False))


def buyer_shop_ids(buyer_id):
    """The shops this buyer reviewed."""
    return set(Review.objects.filter(buyer_id=buyer_id).values_list("shop_id", flat=True).distinct())


def can_see_buyer(principal, buyer_id):
    return Review.objects.filter(buyer_id=buyer_id, shop_id__in=shop_ids_visible_to(principal)).exists()


def supervises_buyer(user, buyer_id, *, shop_id=None):
    """A supervisor of a shop the buyer reviewed (of `shop_id`, when given), or a superuser."""
    if not is_person(user):
        return False
    if user.is_superuser:
        return True
    profile = profile_of(user)
    if profile is None or profile.role != Role.SUPERVISOR:
        return False
    shops = profile.shops.filter(reviews__buyer_id=buyer_id)
    if shop_id is not None:
        shops = shops.filter(pk=shop_id)
    return shops.exists()


def open_ticket_assigned_to(user, buyer_id):
    """The id of an open ticket of this buyer held by `user`, or None."""
    if not is_person(user):
        return None
    return (
        Ticket.objects.filter(review__buyer_id=buyer_id, assignee_id=user.pk, status__in=sorted(OPEN_STATUSES))
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


def reveal_grant(user, buyer_id, field):
    """(allowed, ticket id that allowed it or None)."""
    if supervises_buyer(user, buyer_id):
        return True, None
    if field == RevealField.PHONE:
        ticket_id = open_ticket_assigned_to(user, buyer_id)
        if ticket_id is not None:
            return True, ticket_id
    return False, None

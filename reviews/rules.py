"""Ticket-worthiness: which reviews become tickets (API.md: neutral/negative by default, plus a
shop's optional DSR rule)."""

from .choices import ReviewState, Tier


def tier_of(shop, *, tier, stars):
    """The review's tier: the given tier wins; else the shop's star rule decides."""
    if tier:
        return tier
    if stars is not None:
        return shop.tier_for_stars(stars).value
    return ""


def review_is_ticket_worthy(review, shop):
    if review.state != ReviewState.ACTIVE:
        return False
    if review.tier and review.tier in shop.ticket_tiers:
        return True
    threshold = shop.dsr_ticket_threshold
    if threshold:
        scores = (review.dsr_description, review.dsr_service, review.dsr_logistics)
        return any(score is not None and score <= threshold for score in scores)
    return False


def followup_reopens(review, negative):
    """API.md: a follow-up reopens a closed ticket when marked negative, or when unmarked and the
    review is currently neutral or negative."""
    if review.state == ReviewState.DELETED:
        return False
    if negative is not None:
        return negative
    return review.tier in (Tier.NEUTRAL, Tier.NEGATIVE)

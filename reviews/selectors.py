"""Reads of shops and reviews, and who may see which shop."""

from .models import Shop


def shop_ids_visible_to(principal):
    """The ids of the shops a caller may see: an integration key's shops, a person's shops
    (all of them for a superuser), or none."""
    if principal is None or not principal.is_authenticated:
        return frozenset()
    if getattr(principal, "is_integration", False):
        return principal.shop_ids
    if principal.is_superuser:
        return frozenset(Shop.objects.values_list("id", flat=True))
    profile = getattr(principal, "agent_profile", None)
    if profile is None:
        return frozenset()
    return frozenset(profile.shops.values_list("id", flat=True))


def shops_by_external_id(external_ids):
    return {shop.external_id: shop for shop in Shop.objects.filter(external_id__in=set(external_ids), is_active=True)}

"""Who may do what with tickets: roles and shop scoping, checked in one place."""

from rest_framework.permissions import BasePermission

from .choices import Role


def profile_of(user):
    return getattr(user, "agent_profile", None) if user is not None and user.pk else None


def can_supervise(user, shop_id):
    """Supervisors of the shop (and superusers) approve, assign and configure."""
    if user.is_superuser:
        return True
    profile = profile_of(user)
    return bool(profile and profile.role == Role.SUPERVISOR and profile.shops.filter(pk=shop_id).exists())


def can_work(user, ticket):
    """The assignee, or a supervisor of the ticket's shop, acts on a ticket."""
    return ticket.assignee_id == user.pk or can_supervise(user, ticket.shop_id)


def can_approve_remedy(user, remedy):
    """Supervisors of the remedy's shop (and superusers) approve or reject remedies over a cap."""
    return can_supervise(user, remedy.ticket.shop_id)


def can_configure(user):
    """Supervisors (and superusers) edit causes, keyword rules, call scripts and compliance phrases."""
    if user.is_superuser:
        return True
    profile = profile_of(user)
    return bool(profile and profile.role == Role.SUPERVISOR)


class IsPerson(BasePermission):
    """Write endpoints are for people (agents, supervisors); an integration key gets 403."""

    message = "This action is for people (agents and supervisors), not integration keys."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and not getattr(user, "is_integration", False))

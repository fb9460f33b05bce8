"""Template context for every page: the header's workspace switcher and the current workspace."""

from __future__ import annotations

from django.http import HttpRequest

from .models import Role


def workspaces(request: HttpRequest) -> dict:
    """``my_memberships`` for the switcher; on workspace pages also ``workspace``,
    ``membership`` and the permission flags ``can_edit`` (member and above),
    ``can_admin`` (admin and above) and ``is_owner`` that templates use to hide
    controls a viewer cannot use (the views enforce the same rules)."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    from .selectors import memberships_for

    context: dict = {"my_memberships": memberships_for(user)}
    m = getattr(request, "membership", None)
    if m is not None:
        context.update(
            {
                "membership": m,
                "workspace": m.workspace,
                "can_edit": m.can(Role.MEMBER),
                "can_admin": m.can(Role.ADMIN),
                "is_owner": m.role == Role.OWNER,
            }
        )
    return context

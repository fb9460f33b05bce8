"""Template context for every page: the header's workspace switcher and the current workspace."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.http import HttpRequest
from django.template.loader import render_to_string

from . import fragments
from .models import Role
from .templatetags.launchready import uuid_url


@dataclass(frozen=True)
class SwitcherEntry:
    url: str
    name: str
    role: str
    current: bool


class Switcher:
    """The header's workspace switcher, drawn when a template first shows it and kept in
    the cache per user and current workspace (``fragments.user_key``): a consultant in 50
    workspaces no longer pays for 50 links on every page."""

    def __init__(self, user, workspace) -> None:
        self.user = user
        self.workspace = workspace

    @cached_property
    def html(self) -> str:
        current = self.workspace.pk if self.workspace is not None else 0
        k = fragments.user_key("switcher", self.user.pk, current)
        return str(fragments.cached_at(k, lambda: self.draw(current)))

    def draw(self, current: int) -> str:
        """One query for the columns it shows and one URL reversed for all its links: it is
        drawn again whenever the user's version moves (a cold page of a consultant in 50)."""
        from .selectors import memberships_for

        rows = memberships_for(self.user).values_list(
            "workspace_id", "workspace__uuid", "workspace__name", "role"
        )
        labels = dict(Role.choices)
        entries = [
            SwitcherEntry(
                uuid_url("workspace_overview", workspace=ws_uuid), name, labels.get(role, role), pk == current
            )
            for pk, ws_uuid, name, role in rows
        ]
        return render_to_string("workspace/_switcher.html", {"entries": entries, "workspace": self.workspace})

    def __html__(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html

    def __bool__(self) -> bool:
        return bool(self.html.strip())


def workspaces(request: HttpRequest) -> dict:
    """``my_memberships`` for the switcher; on workspace pages also ``workspace``,
    ``membership`` and the permission flags ``can_edit`` (member and above),
    ``can_admin`` (admin and above) and ``is_owner`` that templates use to hide
    controls a viewer cannot use (the views enforce the same rules)."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    from .selectors import memberships_for

    m = getattr(request, "membership", None)
    context: dict = {
        "my_memberships": memberships_for(user),  # lazy: no query unless a template reads it
        "workspace_switcher": Switcher(user, m.workspace if m is not None else None),
    }
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

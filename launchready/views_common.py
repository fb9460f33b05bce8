"""The one decorator every workspace-scoped view uses, and small view helpers.

URL convention (the URLconf walk test in tests/core relies on it): a view under
``/w/<uuid:workspace>/…`` takes the workspace UUID as the kwarg ``workspace``, a
site as ``site``, and any other object by its lower-case model name (``route``,
``member``, ``finding``, ``monitor`` …), always as a UUID.

``@workspace_view(write=Role.MEMBER)`` then:
- sends anonymous visitors to the login page;
- answers 404 to anyone who is not a member (they never learn the workspace exists);
- answers 403 to a member whose role is below ``write`` on any unsafe method
  (POST, PUT, PATCH, DELETE), and 405 to every unsafe method when ``write`` is None;
- replaces the ``site`` kwarg by the ``Site`` (404 if it is not in this workspace);
- calls ``view(request, membership, **kwargs)`` and remembers the workspace as the
  user's current one.
"""

from __future__ import annotations

import functools
import logging
import zoneinfo
from collections.abc import Callable, Iterable

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils import timezone

from . import selectors, tenancy
from .models import Membership, Role

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_WORKSPACE_KEY = "launchready_workspace"


def workspace_view(
    *, write: str | None = None, read: str = Role.VIEWER, methods: Iterable[str] | None = None
) -> Callable:
    """Scope a view to a workspace; see the module docstring for the rules.

    ``read`` is the role a GET needs: raise it for pages that are only a form for a
    write (add site, edit site) so a viewer gets 403 rather than a form they cannot send.
    """
    if methods is None:
        methods = ("GET", "HEAD", "POST") if write else ("GET", "HEAD")
    allowed = sorted(set(methods))

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, workspace, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            m = selectors.membership(request.user, workspace)
            if request.method in SAFE_METHODS and not m.can(read):
                raise PermissionDenied(
                    f"Your role in {m.workspace.name} is {m.get_role_display()}: you can only look."
                )
            if request.method not in SAFE_METHODS:
                if write is None:
                    return HttpResponseNotAllowed(allowed)
                if not m.can(write):
                    raise PermissionDenied(
                        f"Your role in {m.workspace.name} is {m.get_role_display()}: "
                        f"this needs {Role(write).label.lower()} or above."
                    )
            if request.method not in allowed:
                return HttpResponseNotAllowed(allowed)
            if "site" in kwargs:
                kwargs["site"] = selectors.site_in(m.workspace, kwargs["site"])
            request.membership = m
            remember_workspace(request, m)
            # Dates on workspace pages are read and shown in the workspace's time zone
            # (a maintenance window typed as 22:00 means 22:00 where the team is).
            with timezone.override(zoneinfo.ZoneInfo(m.workspace.timezone)):
                return view(request, m, **kwargs)

        # Read by the URLconf walk test: which role a POST needs (None = read-only view).
        wrapper.workspace_write_role = write
        wrapper.workspace_read_role = read
        return wrapper

    return decorator


def remember_workspace(request: HttpRequest, m: Membership) -> None:
    """Make ``m`` the current workspace; stored on the membership only when it changes."""
    key = str(m.workspace.uuid)
    if request.session.get(SESSION_WORKSPACE_KEY) != key:
        request.session[SESSION_WORKSPACE_KEY] = key
        tenancy.touch_last_used(m)


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"

"""Whole pages in the cache, for the pages a user opens daily (workspace overview, sites,
site page, monitoring, monitor and incident pages, handover, portfolio, workspaces).

A page is kept for one user under a key made of everything it shows and everything it
depends on, using the versions of ``launchready.fragments`` (one home for them):
- the user and the full path with its query string (and whether htmx asked for it);
- the version of the workspace it shows, or of every workspace of the user for the pages
  that list them (portfolio, workspaces), and the user's own version (memberships, the
  header's switcher, their address);
- whatever else the view names: ``also`` (the hourly rollup's ``bars_version`` where uptime
  bars are shown) and ``versions``, the narrower versions of ``fragments`` read in the same
  round trip (a monitor's page carries its monitor's, the monitoring overview its
  workspace's ping ages), and the local date (a page says "today");
- a digest of the request's CSRF secret, so that the forms of a page served from the cache
  carry a token that is valid for this browser.

Only what can be replayed exactly is kept: a GET (or HEAD) of a logged-in user whose
browser already has a CSRF cookie and who has no flash message waiting; a 200 answer that
sets no cookie, adds no message and does not change the session. Anything else is drawn
as usual and neither read from nor stored in the cache. Access is checked before the cache
is read (the decorators sit inside ``workspace_view`` and ``login_required``), so a stranger
still gets a 404 and a member whose role changed is answered for their new role (a role
change saves the membership: both versions move).

What the user changes shows at once: ``WritesShowMiddleware`` bumps the workspace (and the
user) after every successful write request, including actions that only run
``queryset.update()``. What workers, the check loop and the public endpoints change with
``queryset.update()`` shows at once too, each bumping what shows it: a monitor's change of
state, a check that could not run, a heartbeat's ping (``fragments``' narrower versions),
an alert claimed, failed or sent, an incident acknowledged from an alert's link, a failed
audit, a deploy's smoke test and the maintenance window it ends. The check loop's times
(last check, latency, the message of a monitor that stays in its state) show within
``fragments.TTL``. With the cache down every page is drawn from the database.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

from . import fragments, selectors

logger = logging.getLogger(__name__)

CACHEABLE_METHODS = frozenset({"GET", "HEAD"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


@dataclass(frozen=True)
class StoredPage:
    content: bytes
    headers: tuple[tuple[str, str], ...]
    uses_csrf_token: bool  # the page drew a form: renew the CSRF cookie as drawing it would

    def response(self) -> HttpResponse:
        response = HttpResponse(self.content)
        for name, value in self.headers:
            response[name] = value
        return response


def _pending_messages(request: HttpRequest) -> int:
    """Flash messages waiting to be shown (counted without marking them shown)."""
    return len(messages.get_messages(request)) if hasattr(request, "_messages") else 0


def _csrf_secret(request: HttpRequest) -> str | None:
    """The secret of the CSRF cookie the browser sent; None without one (or with a bad one,
    replaced in this request), since the page's forms would carry a token it does not have."""
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return None
    return request.META.get("CSRF_COOKIE")


def page_key(
    request: HttpRequest,
    workspace_ids: Iterable[int],
    also: Callable[[], object] | None,
    secret: str,
    versions: Iterable[str] = (),
) -> str:
    """The cache key of the page ``request`` asks for (see the module docstring)."""
    user_id = request.user.pk
    parts = (
        request.get_full_path(),
        request.headers.get("HX-Request", ""),
        fragments.page_versions(workspace_ids, user_id, versions),
        also() if also is not None else None,
        timezone.localdate().isoformat(),
        hashlib.sha256(secret.encode()).hexdigest(),
    )
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return f"page:{user_id}:{digest}"


def serve(
    request: HttpRequest,
    draw: Callable[[], HttpResponse],
    workspace_ids: Callable[[], Iterable[int]],
    also: Callable[[], object] | None = None,
    params: Iterable[str] = (),
    versions: Callable[[], Iterable[str]] | None = None,
) -> HttpResponse:
    """The page from the cache, or ``draw()`` kept for next time when it may be replayed.
    ``params``: the query parameters the page reads; a query with others is drawn, not kept
    (no cache entry per made-up parameter). ``versions``: the keys of the narrower versions
    of ``fragments`` the page shows (read after the access check, with the others)."""
    secret = _csrf_secret(request)
    if (
        request.method not in CACHEABLE_METHODS
        or not request.user.is_authenticated
        or secret is None
        or not set(request.GET) <= set(params)
        or _pending_messages(request)
    ):
        return draw()
    k = page_key(request, workspace_ids(), also, secret, versions() if versions is not None else ())
    stored = cache.get(k)
    if isinstance(stored, StoredPage):
        if stored.uses_csrf_token:
            get_token(request)
        return stored.response()
    session_modified = request.session.modified
    response = draw()
    if (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and request.session.modified == session_modified
        and not _pending_messages(request)
        and request.META.get("CSRF_COOKIE") == secret
    ):
        stored = StoredPage(
            content=response.content,
            headers=tuple(response.items()),
            uses_csrf_token=bool(request.META.get("CSRF_COOKIE_NEEDS_UPDATE")),
        )
        cache.set(k, stored, fragments.TTL)
    return response


def workspace_page(
    also: Callable[[], object] | None = None,
    params: Iterable[str] = (),
    versions: Callable[..., Iterable[str]] | None = None,
) -> Callable:
    """Keep a workspace page (a view under ``workspace_view``) per user and workspace version.
    ``versions(m, *args, **kwargs)``, with the view's own arguments, names the narrower
    versions it also shows (``fragments.monitor_version_key(monitor)`` …)."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, m, *args, **kwargs) -> HttpResponse:
            return serve(
                request,
                lambda: view(request, m, *args, **kwargs),
                lambda: [m.workspace_id],
                also,
                params,
                (lambda: versions(m, *args, **kwargs)) if versions is not None else None,
            )

        return wrapper

    return decorator


def my_workspace_ids(request: HttpRequest) -> list[int]:
    """The ids of the user's workspaces, once per request (the page's key and the view's own
    fragments both need them), kept under the user's version (their memberships move it)."""
    if not hasattr(request, "_my_workspace_ids"):
        key = fragments.user_key("workspace-ids", request.user.pk)
        ids = cache.get(key)
        if not isinstance(ids, list):
            ids = selectors.workspace_ids_of(request.user)
            cache.set(key, ids, fragments.TTL)
        request._my_workspace_ids = ids
    return request._my_workspace_ids


def user_page(also: Callable[[], object] | None = None, params: Iterable[str] = ()) -> Callable:
    """Keep a page that shows all the user's workspaces (login required), under all their versions."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            return serve(
                request,
                lambda: view(request, *args, **kwargs),
                lambda: my_workspace_ids(request),
                also,
                params,
            )

        return wrapper

    return decorator


class WritesShowMiddleware:
    """After a successful write request (not GET/HEAD/OPTIONS, answered below 400), the
    workspace it was made in (a workspace page's membership or an API token's workspace) and
    the user who made it get new versions: what they changed shows on their next page, even
    when the view changed rows with ``queryset.update()``, which sends no signal."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method not in SAFE_METHODS and response.status_code < 400:
            membership = getattr(request, "membership", None)
            token = getattr(request, "auth", None)
            if membership is not None:
                fragments.bump(membership.workspace_id)
            elif token is not None and getattr(token, "workspace_id", None) is not None:
                fragments.bump(token.workspace_id)
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                fragments.bump_user(user.pk)
        return response

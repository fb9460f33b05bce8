"""Token authentication, scope and write checks for API endpoints.

Pass ``auth=token_auth`` to a route; ``request.auth`` is then the
:class:`monitoring.models.ApiToken`. Each authenticated request counts against the
token's per-minute limit (``API_RATE_LIMIT_PER_MINUTE``). Scope every lookup
through :func:`sites_of` / :func:`site_for` so a token never learns that another
workspace's (or, for a site token, another site's) object exists: it gets a 404.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja.security import HttpBearer

from launchready import ratelimit
from launchready.models import Site
from launchready.selectors import get_or_404
from monitoring.models import ApiToken

from .errors import ApiError

RATE_WINDOW_S = 60
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
READ_ONLY = "This token is read-only; ask an admin for a read-write token."


def rate_limit_per_minute() -> int:
    return int(getattr(settings, "API_RATE_LIMIT_PER_MINUTE", 120))


class TokenAuth(HttpBearer):
    """``Authorization: Bearer lr_…`` → the ApiToken, rate limited per token."""

    def __call__(self, request: HttpRequest):
        # ninja's HttpBearer logs a malformed header in DEBUG; that header may hold a token.
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        return self.authenticate(request, value.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = ApiToken.authenticate(token)
        if found is None:
            return None
        verdict = ratelimit.hit(f"api:{found.uuid}", rate_limit_per_minute(), RATE_WINDOW_S)
        if not verdict.allowed:
            raise ApiError(
                429,
                f"Too many requests with this token; try again in {verdict.retry_after_s} seconds.",
                headers={"Retry-After": str(verdict.retry_after_s)},
            )
        # Checked here, before ninja validates the body, so that a read-only token learns
        # nothing about a write's input and no write endpoint can forget the check.
        if found.read_only and request.method not in SAFE_METHODS:
            raise ApiError(403, READ_ONLY)
        return found


token_auth = TokenAuth()


def token_of(request: HttpRequest) -> ApiToken:
    return request.auth  # type: ignore[attr-defined]  # set by ninja once token_auth passed


def sites_of(request: HttpRequest) -> QuerySet[Site]:
    """The sites this token may see: its one site, or every site of its workspace."""
    token = token_of(request)
    sites = Site.objects.filter(workspace_id=token.workspace_id)
    return sites.filter(pk=token.site_id) if token.site_id else sites


def scoped(
    request: HttpRequest, queryset: QuerySet, *, site_field: str = "site", workspace_field: str = "workspace"
) -> QuerySet:
    """``queryset`` cut to this token's workspace, and to its site for a site token.

    The fields name the paths from the model to its Site and Workspace (e.g.
    ``site_field="site"``, ``workspace_field="site__workspace"`` for an audit run).
    Objects without a site are workspace-wide: a site token does not see them.
    """
    token = token_of(request)
    queryset = queryset.filter(**{f"{workspace_field}_id": token.workspace_id})
    if token.site_id:
        queryset = queryset.filter(**{f"{site_field}_id": token.site_id})
    return queryset


def site_for(request: HttpRequest, site_uuid) -> Site:
    """The site with this UUID if the token's scope includes it, else a 404."""
    return get_or_404(sites_of(request).select_related("workspace"), uuid=site_uuid)


def require_write(request: HttpRequest) -> None:
    """``ApiError(403)`` for a read-only token.

    ``token_auth`` already refuses read-only tokens on every method but GET and HEAD;
    call this in a write endpoint anyway, so the intent is visible where the write is.
    """
    if token_of(request).read_only:
        raise ApiError(403, READ_ONLY)


def require_workspace_token(request: HttpRequest) -> None:
    """``ApiError(403)`` for a site token on a write that reaches beyond one site."""
    if token_of(request).site_id:
        raise ApiError(403, "This token is limited to one site; this change needs a workspace token.")

"""``/maintenance-windows``: quiet periods during which monitors do not alert.

``POST`` is the endpoint deploy scripts have called since before this API existed:
its request, answers and URL name (``monitoring_api_maintenance``) stay as they were.
The body is read by hand rather than by a schema so that its error sentences are
the ones monitoring's form and tests know (``monitoring.views_public.window_from``).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from ninja import Query, Router, Schema

from monitoring.models import MaintenanceWindow
from monitoring.views_public import window_from

from . import lists
from .auth import get_or_404, require_write, scoped, site_for, token_auth, token_of
from .errors import ApiError, json_body

router = Router(tags=["Maintenance windows"], auth=token_auth)


class WindowCreated(Schema):
    id: UUID
    starts_at: datetime
    ends_at: datetime


class WindowOut(Schema):
    id: UUID
    site: UUID | None
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str

    @staticmethod
    def resolve_id(window: MaintenanceWindow) -> UUID:
        return window.uuid

    @staticmethod
    def resolve_site(window: MaintenanceWindow) -> UUID | None:
        return window.site.uuid if window.site_id else None


WINDOW_BODY = {
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "minutes": {"type": "integer", "minimum": 1, "maximum": 720, "default": 15},
                        "starts_at": {
                            "type": "string",
                            "format": "date-time",
                            "description": "Default: now.",
                        },
                        "ends_at": {
                            "type": "string",
                            "format": "date-time",
                            "description": "Instead of minutes.",
                        },
                        "reason": {"type": "string", "maxLength": 200},
                        "site": {
                            "type": "string",
                            "format": "uuid",
                            "description": "Only this site's monitors (a site token always means its site).",
                        },
                    },
                    "example": {"minutes": 15, "reason": "deploy v42"},
                }
            }
        },
    }
}


def _site_of_window(request: HttpRequest, data: dict):
    """The body's ``site`` if it is in the token's scope; else the site token's site, or none."""
    if data.get("site") is None:
        return token_of(request).site
    if not isinstance(data["site"], str):
        raise ApiError(400, "“site” is the id of one of your sites.")
    return site_for(request, data["site"])


@router.post(
    "/maintenance-windows",
    response={201: WindowCreated},
    openapi_extra=WINDOW_BODY,
    summary="Open a maintenance window",
)
def window_create(request: HttpRequest):
    """``{"minutes": 15, "reason": "deploy"}`` or ``starts_at``/``ends_at`` (at most 12 hours).

    Monitors of the window's site (or the whole workspace) do not alert while it lasts.
    """
    require_write(request)
    data = json_body(request)
    try:
        starts, ends, reason = window_from(data, timezone.now())
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    token = token_of(request)
    window = MaintenanceWindow.objects.create(
        workspace=token.workspace,
        site=_site_of_window(request, data),
        starts_at=starts,
        ends_at=ends,
        reason=reason,
        created_by=f"API token {token.name}"[:200],
    )
    # The original answer, byte for byte (isoformat with +00:00, not ninja's Z).
    return JsonResponse(
        {"id": str(window.uuid), "starts_at": starts.isoformat(), "ends_at": ends.isoformat()}, status=201
    )


def _windows(request: HttpRequest):
    return scoped(request, MaintenanceWindow.objects.select_related("site"))


@router.get("/maintenance-windows", response=list[WindowOut], summary="List maintenance windows")
def window_list(request: HttpRequest, limit: int = Query(50, ge=1, le=200)):
    """The latest windows first (upcoming, current, then past)."""
    return lists.answer(
        request, "windows", WindowOut, (limit,), lambda: (list(_windows(request)[:limit]), None)
    )


@router.get("/maintenance-windows/{window}", response=WindowOut, summary="Get a maintenance window")
def window_detail(request: HttpRequest, window: UUID):
    return get_or_404(_windows(request), uuid=window)

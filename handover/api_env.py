"""``POST /env-check``: the CI gate. A pipeline sends the names of the variables set
in its deploy environment; the answer says which required ones are missing.

200 with ``ok: false`` when a required variable is missing, so the CI step decides
from ``ok`` (``jq -e .ok``); 400 for bad input, such as a name with "=" in it (a
value): the gate takes names only. Every answered call is recorded as an EnvCheck.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema

from launchready.api import ApiError, require_write, site_for, token_auth, token_of
from launchready.models import Site

from .services_env import MAX_NAMES_PER_CHECK, EnvCheckRefused, check_env

router = Router(tags=["Env check"], auth=token_auth)


class EnvCheckIn(Schema):
    site: UUID | None = Field(None, description="The site; may be left out with a token limited to one site.")
    environment: str = Field(
        ..., max_length=200, description="production, staging, …", examples=["production"]
    )
    names: list[str] = Field(
        ...,
        max_length=MAX_NAMES_PER_CHECK,
        description="Names of the variables set in the deploy environment. Names only: never values.",
        examples=[["DATABASE_URL", "STRIPE_SECRET_KEY"]],
    )


class EnvCheckOut(Schema):
    ok: bool = Field(..., description="False when a required variable is missing.")
    environment: str
    missing_required: list[str]
    missing_optional: list[str]
    unknown: list[str] = Field(
        ..., description="Sent names the inventory does not list (shell and CI names left out)."
    )
    checked_at: datetime


def _site(request: HttpRequest, payload: EnvCheckIn) -> Site:
    if payload.site is not None:
        return site_for(request, payload.site)
    token = token_of(request)
    if token.site_id is None:
        raise ApiError(400, "A workspace token must say which site: add “site” with the site's id.")
    return token.site


@router.post("/env-check", response={200: EnvCheckOut}, summary="Check a deploy's environment variables")
def env_check(request: HttpRequest, payload: EnvCheckIn):
    """Compare the names present in a deploy environment with the site's inventory.

    ``ok`` is false when a required variable is missing (the answer is still a 200:
    the CI step fails on ``jq -e .ok``). ``unknown`` lists names the inventory does
    not have. Send names only: a name containing "=" is refused with a 400.
    """
    require_write(request)
    site = _site(request, payload)
    try:
        return check_env(site, payload.environment, payload.names, token_name=token_of(request).name)
    except EnvCheckRefused as exc:
        raise ApiError(400, exc.message) from None

"""``/deploys``: the deploy hook CI calls after a deploy, and the smoke test it waits on.

``POST /api/v1/deploys`` records a deploy (or a rollback) and queues its smoke test;
``GET /api/v1/deploys/{deploy}`` answers its state (queued, running, passed, failed)
and one result per route, so a pipeline can poll until it is finished.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool, field_validator

from launchready.api import (
    ApiError,
    get_or_404,
    require_write,
    scoped,
    site_for,
    sites_of,
    token_auth,
    token_of,
)

from . import deploys
from .models.deploys import Deploy
from .tasks import run_smoke_test

router = Router(tags=["Deploys"], auth=token_auth)

ENVIRONMENT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class DeployIn(Schema):
    site: UUID | None = Field(None, description="The site; may be left out with a site token.")
    environment: str = Field(..., description="production, staging, … (lower-case letters, digits, - and _)")
    version: str = Field(..., min_length=1, max_length=100, description="The release: a tag or commit SHA.")
    commit_url: str = Field("", max_length=500, description="Link to the commit or release.")
    migrations_ran: StrictBool | None = Field(None, description="Whether database migrations ran.")
    maintenance_minutes: int | None = Field(
        None,
        ge=1,
        le=deploys.MAX_MAINTENANCE_MINUTES,
        description="Hold monitor alerts for the site until the smoke test has finished, at most this long.",
    )
    kind: Literal["deploy", "rollback"] = "deploy"
    rollback_of: UUID | None = Field(
        None, description="The deploy this rollback undoes (implies kind rollback)."
    )

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str) -> str:
        value = value.strip().lower()
        if not ENVIRONMENT.match(value):
            raise ValueError("use 1–40 lower-case letters, digits, - or _, e.g. production")
        return value

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        value = value.strip()
        if not value or CONTROL.search(value):
            raise ValueError("give the release as one line of text, e.g. v1.4.2 or a commit SHA")
        return value

    @field_validator("commit_url")
    @classmethod
    def _commit_url(cls, value: str) -> str:
        value = value.strip()
        if value:
            try:
                URLValidator(schemes=["http", "https"])(value)
            except DjangoValidationError:
                raise ValueError("give a full http(s) URL, or leave it out") from None
        return value


class SmokeResultOut(Schema):
    route: str
    url: str
    passed: bool
    status: int | None
    elapsed_ms: int | None
    budget_ms: int
    keyword: str
    reason: str
    checked_at: datetime


class RollbackOut(Schema):
    from_version: str
    to_version: str
    minutes: float | None = Field(
        description="From the undone deploy to this smoke test passing; null until then."
    )


class DeployOut(Schema):
    id: UUID
    site: UUID
    environment: str
    version: str
    kind: str
    state: Literal["queued", "running", "passed", "failed"]
    finished: bool
    commit_url: str
    migrations_ran: bool | None
    deployed_by: str
    created_at: datetime
    smoke_started_at: datetime | None
    smoke_finished_at: datetime | None
    smoke_error: str
    last_known_good: bool = Field(description="This deploy is the newest passing one of its environment.")
    rollback_of: UUID | None
    rollback: RollbackOut | None
    results: list[SmokeResultOut]
    url: str = Field(description="The deploy's page in Launch Ready.")


def _good_ids(*sites) -> set[int]:
    """The ids of the last known good deploys of these sites (two queries per site)."""
    return {d.pk for site in sites for d in deploys.last_known_good(site).values()}


def _out(deploy: Deploy, good_ids: set[int]) -> dict:
    site = deploy.site
    record = getattr(deploy, "rollback_record", None) if deploy.is_rollback else None
    return {
        "id": deploy.uuid,
        "site": site.uuid,
        "environment": deploy.environment,
        "version": deploy.version,
        "kind": deploy.kind,
        "state": deploy.state,
        "finished": deploy.is_finished,
        "commit_url": deploy.commit_url,
        "migrations_ran": deploy.migrations_ran,
        "deployed_by": deploy.deployed_by,
        "created_at": deploy.created_at,
        "smoke_started_at": deploy.smoke_started_at,
        "smoke_finished_at": deploy.smoke_finished_at,
        "smoke_error": deploy.smoke_error,
        "last_known_good": deploy.pk in good_ids,
        "rollback_of": deploy.rollback_of.uuid if deploy.rollback_of else None,
        "rollback": (
            {"from_version": record.from_version, "to_version": record.to_version, "minutes": record.minutes}
            if record
            else None
        ),
        "results": [
            {
                "route": r.route_name,
                "url": r.url,
                "passed": r.passed,
                "status": r.status_code,
                "elapsed_ms": r.elapsed_ms,
                "budget_ms": r.budget_ms,
                "keyword": r.keyword,
                "reason": r.reason,
                "checked_at": r.checked_at,
            }
            for r in deploy.smoke_results.all()
        ],
        "url": settings.SITE_URL
        + reverse(
            "deploy_detail",
            kwargs={"workspace": site.workspace.uuid, "site": site.uuid, "deploy": deploy.uuid},
        ),
    }


def _deploys(request: HttpRequest):
    return scoped(
        request,
        Deploy.objects.select_related("site__workspace", "rollback_of", "rollback_record").prefetch_related(
            "smoke_results"
        ),
        workspace_field="site__workspace",
    )


@router.post(
    "/deploys", response={201: DeployOut}, summary="Report a deploy or a rollback", url_name="deploys"
)
def deploy_create(request: HttpRequest, payload: DeployIn):
    """Record a deploy and queue its smoke test of the site's critical routes.

    A rollback (``"kind": "rollback"`` or ``"rollback_of": "<deploy id>"``) is
    smoke-tested the same way; when it passes, the time since the undone deploy is
    recorded as the rollback's duration. Poll ``GET /deploys/{id}`` until ``finished``.
    """
    require_write(request)
    token = token_of(request)
    if payload.site is not None:
        site = site_for(request, payload.site)
    elif token.site_id:
        site = sites_of(request).select_related("workspace").get()
    else:
        raise ApiError(400, "“site”: name the site (its id from GET /api/v1/sites) or use a site token.")
    try:
        deploy = deploys.record_deploy(
            site,
            environment=payload.environment,
            version=payload.version,
            commit_url=payload.commit_url,
            migrations_ran=payload.migrations_ran,
            maintenance_minutes=payload.maintenance_minutes,
            kind=payload.kind,
            rollback_of=payload.rollback_of,
            by=f"API token {token.name}",
        )
    except deploys.DeployError as exc:
        raise ApiError(400, str(exc)) from None
    run_smoke_test.delay_on_commit(deploy.pk)
    return Status(201, _out(get_or_404(_deploys(request), pk=deploy.pk), _good_ids(site)))


@router.get("/deploys", response=list[DeployOut], summary="List deploys", url_name="deploys")
def deploy_list(
    request: HttpRequest,
    environment: str | None = Query(None, description="Only this environment."),
    limit: int = Query(20, ge=1, le=100),
):
    """The newest deploys the token can see, newest first."""
    rows = _deploys(request).order_by("-created_at", "-id")
    if environment:
        rows = rows.filter(environment=environment.strip().lower())
    rows = list(rows[:limit])
    good = _good_ids(*{d.site_id: d.site for d in rows}.values())
    return [_out(d, good) for d in rows]


@router.get(
    "/deploys/{deploy}", response=DeployOut, summary="Get a deploy and its smoke test", url_name="deploy"
)
def deploy_detail(request: HttpRequest, deploy: UUID):
    """The smoke test's state and one result per route; ``finished`` once passed or failed."""
    found = get_or_404(_deploys(request), uuid=deploy)
    return _out(found, _good_ids(found.site))

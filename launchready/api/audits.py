"""``/sites/{site}/audits`` and ``/audits/{run}``: start an audit, follow it, read its findings."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from audits import tasks
from audits.models import AuditRun, Finding

from . import lists
from .auth import get_or_404, require_write, scoped, site_for, token_auth
from .schemas import choices

router = Router(tags=["Audits"], auth=token_auth)


class FindingOut(Schema):
    check: str
    severity: str
    stage: str
    status: choices(Finding.Status)
    subject: str
    title: str
    impact: str
    fix: str

    @staticmethod
    def resolve_check(finding: Finding) -> str:
        return finding.check_id


class RunSummary(Schema):
    id: UUID
    site: UUID
    status: choices(AuditRun.Status)
    trigger: choices(AuditRun.Trigger)
    verdict: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    severity_counts: dict[str, int]
    problem_counts: dict[str, int] = Field(
        description=(
            "Distinct problems per severity: one check failing on several pages or hosts counts once, "
            "as the plan and the overview count them (severity_counts counts each failing finding)"
        )
    )

    @staticmethod
    def resolve_id(run: AuditRun) -> UUID:
        return run.uuid

    @staticmethod
    def resolve_site(run: AuditRun) -> UUID:
        return run.site.uuid


class RunOut(RunSummary):
    progress: dict[str, str]
    error: str
    findings: list[FindingOut]

    @staticmethod
    def resolve_findings(run: AuditRun) -> list[Finding]:
        return run.listed_findings  # prefetched by _with_findings, filtered by ?check=


def _runs(request: HttpRequest):
    return scoped(request, AuditRun.objects.select_related("site"), workspace_field="site__workspace")


def _with_findings(run: AuditRun, check: str | None = None) -> AuditRun:
    findings = Finding.objects.filter(check_id=check) if check else Finding.objects.all()
    prefetch_related_objects([run], Prefetch("findings", queryset=findings, to_attr="listed_findings"))
    return run


@router.post(
    "/sites/{site}/audits",
    response={202: RunOut, 200: RunOut},
    summary="Start an audit",
)
def audit_start(request: HttpRequest, site: UUID):
    """Queue an audit of the site, as "Run audit now" does.

    202 with the new run; 200 with the run already queued or running (one at a time).
    Poll ``GET /audits/{run}`` until ``status`` is ``done`` or ``failed``.
    """
    require_write(request)
    target = site_for(request, site)
    asked_at = timezone.now()
    run = tasks.start_audit(target, trigger=AuditRun.Trigger.API)
    return Status(202 if run.created_at >= asked_at else 200, _with_findings(run))


@router.get("/sites/{site}/audits", response=list[RunSummary], summary="List a site's audits")
def audit_list(request: HttpRequest, site: UUID, limit: int = Query(20, ge=1, le=100)):
    """The site's latest runs first."""
    return lists.answer(
        request,
        "site-audits",
        RunSummary,
        (site, limit),
        lambda: (list(_runs(request).filter(site=site_for(request, site))[:limit]), None),
    )


@router.get("/audits/{run}", response=RunOut, summary="Get an audit run and its findings")
def audit_detail(
    request: HttpRequest,
    run: UUID,
    check: str | None = Query(None, max_length=80, description="Only findings of this check id"),
):
    """State, verdict, times and findings (each with its check id); ``?check=`` filters them."""
    return _with_findings(get_or_404(_runs(request), uuid=run), check)

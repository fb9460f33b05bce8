"""Deploys in the database: record one, pick its smoke-test routes, save the result.

The API and the pages call these; the Celery task in ``handover.tasks`` runs the
probe (``handover.smoke``) between ``claim_smoke`` and ``finish_smoke``. Only views
and tasks queue work: functions here return the ids of what should be sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from django.db import transaction
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from launchready import fragments
from launchready.models import CriticalRoute, Site
from launchready.selectors import get_or_404
from monitoring.models import AlertChannel, MaintenanceWindow, Notification
from monitoring.routing import CRITICAL, wants

from .models.deploys import (
    DEFAULT_SMOKE_ROUTES,
    Deploy,
    Rollback,
    RollbackPlan,
    SmokeResult,
    SmokeRouteSetting,
)
from .smoke import RouteOutcome, SmokeTarget

logger = logging.getLogger(__name__)

MAX_MAINTENANCE_MINUTES = 120
# The audit reads the smoke test of the environment customers use when there is one.
PRODUCTION_ENVIRONMENTS = ("production", "prod", "live")
NO_ROUTES = "No routes are chosen for the smoke test: tick at least one under Smoke test settings."
STALE_AFTER = timedelta(minutes=10)
STALE = "The smoke test did not finish (our worker stopped); report the deploy again to test it."

DEFAULT_ROLLBACK_STEPS = [
    "Tell the team a rollback rehearsal is starting and pick a quiet hour.",
    "Note the version running now and the last known good version (deploy history on the site page).",
    "Open a maintenance window so monitors do not page during the rehearsal.",
    "Roll back to the last known good version with your host's own command or dashboard.",
    "Report the rollback to Launch Ready (the CI step with “kind”: “rollback”) and wait for the smoke test.",
    "Place a test order yourself: cart, checkout and the confirmation email.",
    "Deploy the current version again and check that its smoke test passes.",
    "Record below how many minutes it took and what went wrong, so the next one is faster.",
]


class DeployError(ValueError):
    """A deploy report that cannot be recorded; the message is the sentence to show."""


# --- recording ----------------------------------------------------------------------------


def record_deploy(
    site: Site,
    *,
    environment: str,
    version: str,
    commit_url: str = "",
    migrations_ran: bool | None = None,
    maintenance_minutes: int | None = None,
    kind: str = Deploy.Kind.DEPLOY,
    rollback_of: UUID | None = None,
    by: str = "",
) -> Deploy:
    """Record a deploy (queued for its smoke test, which the caller enqueues on commit).

    A rollback names the deploy it undoes (``rollback_of``), or else undoes the newest
    earlier deploy of the same environment; it gets a ``Rollback`` record, timed when
    its smoke test passes. ``maintenance_minutes`` opens a maintenance window for the
    site that closes when the smoke test finishes (or after that many minutes).
    """
    now = timezone.now()
    if rollback_of is not None:
        kind = Deploy.Kind.ROLLBACK
    with transaction.atomic():
        undone = None
        if kind == Deploy.Kind.ROLLBACK:
            undone = _deploy_to_undo(site, environment, rollback_of)
        window = None
        if maintenance_minutes:
            minutes = min(int(maintenance_minutes), MAX_MAINTENANCE_MINUTES)
            window = MaintenanceWindow.objects.create(
                workspace_id=site.workspace_id,
                site=site,
                starts_at=now,
                ends_at=now + timedelta(minutes=minutes),
                reason=f"{'Rollback' if undone else 'Deploy'} of {version} to {environment}"[:200],
                created_by=by[:200],
            )
        deploy = Deploy.objects.create(
            site=site,
            environment=environment,
            version=version,
            commit_url=commit_url,
            migrations_ran=migrations_ran,
            kind=kind,
            rollback_of=undone,
            deployed_by=by[:200],
            created_at=now,
            maintenance_window=window,
        )
        if undone is not None:
            Rollback.objects.create(
                site=site,
                kind=Rollback.Kind.REAL,
                environment=environment,
                performed_at=now,
                performed_by=by[:200],
                from_version=undone.version,
                to_version=version,
                deploy=deploy,
            )
    logger.info(
        "deploy recorded site=%s deploy=%s environment=%s kind=%s", site.uuid, deploy.uuid, environment, kind
    )
    return deploy


def _deploy_to_undo(site: Site, environment: str, rollback_of: UUID | None) -> Deploy:
    deploys = Deploy.objects.filter(site=site)
    if rollback_of is not None:
        undone = deploys.filter(uuid=rollback_of).first()
        if undone is None:
            raise DeployError("“rollback_of” names no deploy of this site.")
        if undone.environment != environment:
            raise DeployError(f"“rollback_of” is a deploy to {undone.environment}, not to {environment}.")
        return undone
    undone = deploys.filter(environment=environment).order_by("-created_at", "-id").first()
    if undone is None:
        raise DeployError(f"There is no earlier deploy to {environment} to roll back.")
    return undone


def deploy_in(site: Site, deploy_uuid) -> Deploy:
    """A deploy of ``site`` by its UUID, or 404 (the site is already scoped to the member)."""
    return get_or_404(
        Deploy.objects.select_related("site__workspace", "rollback_of").filter(site=site), uuid=deploy_uuid
    )


# --- the smoke test -----------------------------------------------------------------------


def smoke_settings(site: Site) -> list[tuple[CriticalRoute, SmokeRouteSetting]]:
    """Each critical route of the site with its smoke-test setting (unsaved default if none)."""
    saved = {s.route_name: s for s in SmokeRouteSetting.objects.filter(site=site)}
    return [
        (
            route,
            saved.get(route.name)
            or SmokeRouteSetting(
                site=site, route_name=route.name, included=route.name in DEFAULT_SMOKE_ROUTES
            ),
        )
        for route in site.routes.all()
    ]


def save_smoke_settings(site: Site, choices: dict[str, tuple[bool, str]]) -> None:
    """``{route name: (included, keyword)}`` for the site's routes; other names are ignored."""
    names = set(site.routes.values_list("name", flat=True))
    with transaction.atomic():
        for name, (included, keyword) in choices.items():
            if name in names:
                SmokeRouteSetting.objects.update_or_create(
                    site=site,
                    route_name=name,
                    defaults={"included": included, "smoke_keyword": keyword.strip()[:200]},
                )


def smoke_targets(site: Site) -> list[SmokeTarget]:
    """What the smoke test requests: the chosen routes on the site's canonical host."""
    host = site.canonical_host
    return [
        SmokeTarget(
            route_name=route.name,
            url=f"https://{host}{route.path}",
            budget_ms=route.budget_ms,
            keyword=setting.smoke_keyword,
        )
        for route, setting in smoke_settings(site)
        if setting.included
    ]


def claim_smoke(deploy_id: int) -> Deploy | None:
    """Take a queued smoke test for running, or None if another worker has it (or it is done)."""
    won = Deploy.objects.filter(pk=deploy_id, state=Deploy.State.QUEUED).update(
        state=Deploy.State.RUNNING, smoke_started_at=timezone.now()
    )
    if not won:
        return None
    deploy = Deploy.objects.select_related("site__workspace", "rollback_of").get(pk=deploy_id)
    fragments.bump(deploy.site.workspace_id)  # changed with an update (no signal): pages show it
    return deploy


def finish_smoke(deploy: Deploy, outcomes: list[RouteOutcome], *, error: str = "") -> list[int]:
    """Save a smoke test's results and what follows from them; returns notification ids to send.

    Passed when every route passed (and there was at least one). A route that failed
    queues a critical alert to every routed channel; a smoke test that could not run
    at all (``error``: no routes chosen, our worker stopped) fails without paging
    anyone, since the store itself showed nothing wrong. A passing rollback gets its
    duration. The deploy's maintenance window closes now.
    """
    now = timezone.now()
    passed = bool(outcomes) and not error and all(o.passed for o in outcomes)
    if not outcomes and not error:
        error = NO_ROUTES
    with transaction.atomic():
        state = Deploy.State.PASSED if passed else Deploy.State.FAILED
        finished = Deploy.objects.filter(pk=deploy.pk, state=Deploy.State.RUNNING).update(
            state=state, smoke_finished_at=now, smoke_error=error[:300]
        )
        if not finished:
            return []
        fragments.bump(deploy.site.workspace_id)  # now and on commit: the site page shows the result
        SmokeResult.objects.bulk_create(
            [
                SmokeResult(
                    deploy=deploy,
                    route_name=o.target.route_name,
                    url=o.target.url[:600],
                    passed=o.passed,
                    status_code=o.status_code,
                    elapsed_ms=o.elapsed_ms,
                    budget_ms=o.target.budget_ms,
                    keyword=o.target.keyword,
                    reason=o.reason[:300],
                    checked_at=o.checked_at,
                )
                for o in outcomes
            ],
            ignore_conflicts=True,
        )
        deploy.state, deploy.smoke_finished_at, deploy.smoke_error = state, now, error[:300]
        if deploy.maintenance_window_id:
            MaintenanceWindow.objects.filter(pk=deploy.maintenance_window_id, ends_at__gt=now).update(
                ends_at=now
            )
        if passed:
            _time_rollback(deploy, now)
            return []
        return queue_failure_alert(deploy) if any(not o.passed for o in outcomes) else []


def fail_stale_smoke_tests(now: datetime | None = None, limit: int = 200) -> int:
    """Fail smoke tests whose worker never finished them (lost task, killed worker).

    CI stops waiting after five minutes; the deploy's page and the audit then say why
    instead of "running" for ever. A task that turns up later finds nothing to claim.
    """
    now = now or timezone.now()
    stale = Deploy.objects.filter(
        state__in=[Deploy.State.QUEUED, Deploy.State.RUNNING], created_at__lt=now - STALE_AFTER
    ).select_related("site", "rollback_of")[:limit]
    failed = 0
    for deploy in stale:
        try:
            Deploy.objects.filter(pk=deploy.pk, state=Deploy.State.QUEUED).update(
                state=Deploy.State.RUNNING, smoke_started_at=now
            )
            deploy.state = Deploy.State.RUNNING
            finish_smoke(deploy, [], error=STALE)
            failed += 1
        except Exception:  # one deploy's bad data must not keep the others running
            logger.exception("stale smoke test of deploy %s could not be failed", deploy.uuid)
    return failed


def _time_rollback(deploy: Deploy, passed_at: datetime) -> None:
    """A rollback's duration: from the deploy it undid to its own passing smoke test."""
    if not deploy.is_rollback or deploy.rollback_of is None:
        return
    minutes = max(0.0, (passed_at - deploy.rollback_of.created_at).total_seconds() / 60)
    Rollback.objects.filter(deploy=deploy, minutes__isnull=True).update(minutes=round(minutes, 1))


def queue_failure_alert(deploy: Deploy) -> list[int]:
    """One critical notification per routed channel (unique per deploy and channel)."""
    workspace_id = deploy.site.workspace_id
    channels = [
        ch
        for ch in AlertChannel.objects.filter(workspace_id=workspace_id, disabled_at__isnull=True)
        if wants(ch.kind, CRITICAL)
    ]
    Notification.objects.bulk_create(
        [
            Notification(
                workspace_id=workspace_id, deploy=deploy, channel=ch, event=Notification.Event.DEPLOY_FAILED
            )
            for ch in channels
        ],
        ignore_conflicts=True,
    )
    return list(
        Notification.objects.filter(
            deploy=deploy, event=Notification.Event.DEPLOY_FAILED, status=Notification.Status.PENDING
        ).values_list("id", flat=True)
    )


# --- reading ------------------------------------------------------------------------------


def last_known_good(site: Site) -> dict[str, Deploy]:
    """Per environment, the newest deploy whose smoke test passed (two queries)."""
    newest = (
        Deploy.objects.filter(site=site, state=Deploy.State.PASSED)
        .values("environment")
        .annotate(at=Max("created_at"))
    )
    q = Q(pk__in=[])
    for row in newest:
        q |= Q(environment=row["environment"], created_at=row["at"])
    good = Deploy.objects.filter(q, site=site, state=Deploy.State.PASSED).order_by("environment", "-id")
    found: dict[str, Deploy] = {}
    for deploy in good:
        found.setdefault(deploy.environment, deploy)
    return found


def history_rows(site: Site) -> QuerySet[Deploy]:
    """Deploys with what a history row shows: failed-route count, what they undid or were undone by."""
    return (
        Deploy.objects.filter(site=site)
        .select_related("rollback_of")
        .annotate(
            failed_routes=Count("smoke_results", filter=Q(smoke_results__passed=False), distinct=True),
            rolled_back_by=Subquery(
                Deploy.objects.filter(rollback_of=OuterRef("pk")).order_by("-created_at").values("uuid")[:1]
            ),
        )
        .order_by("-created_at", "-id")
    )


@dataclass
class EnvironmentHistory:
    environment: str
    deploys: list[Deploy] = field(default_factory=list)
    last_known_good: Deploy | None = None
    more: bool = False


def history(site: Site, *, per_environment: int = 5, scan: int = 200) -> list[EnvironmentHistory]:
    """The newest deploys of each environment (production first), with its last known good."""
    good = last_known_good(site)
    by_env: dict[str, EnvironmentHistory] = {}
    for deploy in history_rows(site)[:scan]:
        env = by_env.setdefault(deploy.environment, EnvironmentHistory(deploy.environment))
        if len(env.deploys) < per_environment:
            env.deploys.append(deploy)
        else:
            env.more = True
    for name, deploy in good.items():
        by_env.setdefault(name, EnvironmentHistory(name)).last_known_good = deploy
    return sorted(
        by_env.values(), key=lambda e: (e.environment not in PRODUCTION_ENVIRONMENTS, e.environment)
    )


def rollback_steps(site: Site) -> tuple[list[str], list[str]]:
    """The site's own steps (written by the consultant) and the default list."""
    plan = RollbackPlan.objects.filter(site=site).first()
    return (plan.step_list if plan else []), list(DEFAULT_ROLLBACK_STEPS)


# --- facts for the audit ------------------------------------------------------------------


@dataclass(frozen=True)
class DeployFacts:
    """What the ``deploy.smoke_*`` and ``deploy.rollback_*`` checks read about a site."""

    has_deploys: bool
    last_smoke_passed: bool | None  # None: no smoke test has finished yet
    last_smoke_at: datetime | None
    last_smoke_failures: list[str]  # "checkout: Status 502 (expected 200–399)."
    last_rollback_at: datetime | None  # the newest rehearsal or verified real rollback
    last_rollback_minutes: float | None
    rollback_kind: str | None  # "rehearsal" or "real"
    last_smoke_environment: str = ""
    last_smoke_version: str = ""


def deploy_facts(site: Site) -> DeployFacts:
    """The newest finished smoke test (of production when the site has production deploys)
    and the newest rollback with a duration (rehearsed, or real and verified)."""
    deploys = Deploy.objects.filter(site=site)
    finished = deploys.filter(state__in=[Deploy.State.PASSED, Deploy.State.FAILED]).order_by(
        "-created_at", "-id"
    )
    last = finished.filter(environment__in=PRODUCTION_ENVIRONMENTS).first() or finished.first()
    failures: list[str] = []
    if last is not None and last.state == Deploy.State.FAILED:
        failures = [f"{r.route_name}: {r.reason}" for r in last.smoke_results.filter(passed=False)]
        if last.smoke_error:
            failures.append(last.smoke_error)
    rollback = (
        Rollback.objects.filter(site=site, minutes__isnull=False).order_by("-performed_at", "-id").first()
    )
    return DeployFacts(
        has_deploys=last is not None or deploys.exists(),
        last_smoke_passed=None if last is None else last.state == Deploy.State.PASSED,
        last_smoke_at=last.smoke_finished_at if last else None,
        last_smoke_failures=failures,
        last_rollback_at=rollback.performed_at if rollback else None,
        last_rollback_minutes=rollback.minutes if rollback else None,
        rollback_kind=rollback.kind if rollback else None,
        last_smoke_environment=last.environment if last else "",
        last_smoke_version=last.version if last else "",
    )

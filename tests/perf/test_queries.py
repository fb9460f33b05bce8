"""Every page a user opens daily issues the same number of queries whatever the data holds.

Each page is counted twice in a workspace with a little data and again after adding
more of everything it shows (sites, audit runs and findings, monitors and their rollups,
incidents, workspaces of the same consultant): once with an empty cache and once with the
fragments cached. The counts must be equal. Timings are benchmarks (``bench dashboard``),
never tests.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audits.checks import CATALOGUE
from audits.models import AuditRun, Finding
from launchready.models import Membership, Role, Site, Workspace
from monitoring import rollups
from monitoring.models import ApiToken, DailyRollup, HourlyRollup, Incident, Monitor
from tests.fixtures_core import add_confirmed_routes

pytestmark = pytest.mark.django_db

_domains = itertools.count()


def add_site(workspace: Workspace, owner, *, runs: int, findings: int) -> Site:
    """A site with its confirmed routes and monitors, ``runs`` finished audits (the latest
    with ``findings`` findings), 10 days of rollups per monitor and one incident."""
    now = timezone.now()
    site = Site.objects.create(workspace=workspace, domain=f"store{next(_domains)}.example")
    add_confirmed_routes(site)
    checks = list(CATALOGUE.values())
    for k in range(runs):
        run = AuditRun.objects.create(
            site=site,
            status=AuditRun.Status.DONE,
            trigger=AuditRun.Trigger.SCHEDULED,
            verdict="not_ready",
            severity_counts={"blocker": 1, "high": 2},
            problem_counts={"blocker": 1, "high": 2},
            finished_at=now - timedelta(days=k),
        )
        AuditRun.objects.filter(pk=run.pk).update(created_at=now - timedelta(days=k))
        if k == 0:
            Finding.objects.bulk_create(
                [
                    Finding(
                        run=run,
                        check_id=checks[i % len(checks)].id,
                        severity=checks[i % len(checks)].severity.value,
                        stage=checks[i % len(checks)].stage.value,
                        subject=f"https://{site.domain}/page-{i}",
                        title=checks[i % len(checks)].title,
                        impact="It costs orders.",
                        evidence=f"Seen on page {i}",
                        fix="Fix it.",
                    )
                    for i in range(findings)
                ]
            )
    monitors = list(Monitor.objects.filter(site=site))
    DailyRollup.objects.bulk_create(
        [
            DailyRollup(monitor=m, day=(now - timedelta(days=d)).date(), checks=1440, failures=d % 2)
            for m in monitors
            for d in range(10)
        ]
    )
    HourlyRollup.objects.bulk_create(
        [
            HourlyRollup(monitor=m, hour=now - timedelta(hours=h), checks=60, p50_ms=120, p95_ms=300)
            for m in monitors
            if m.kind == Monitor.Kind.HTTP
            for h in range(24)
        ]
    )
    home = next(m for m in monitors if m.auto_key == "home")
    Incident.objects.create(
        monitor=home,
        workspace=workspace,
        started_at=now - timedelta(hours=3),
        ended_at=now - timedelta(hours=2),
        cause="Status 502.",
    )
    return site


def add_client_workspace(owner, name: str) -> None:
    ws = Workspace.objects.create(name=name, timezone="UTC")
    Membership.objects.create(workspace=ws, user=owner, role=Role.OWNER)
    add_site(ws, owner, runs=2, findings=3)


def pages(workspace: Workspace, site: Site) -> dict[str, str]:
    ws = workspace.uuid
    monitor = Monitor.objects.get(site=site, auto_key="home")
    incident = Incident.objects.filter(monitor=monitor).latest("started_at")
    return {
        "workspace overview": reverse("workspace_overview", kwargs={"workspace": ws}),
        "portfolio": reverse("portfolio"),
        "sites list": reverse("site_list", kwargs={"workspace": ws}),
        "site page": reverse("site_detail", kwargs={"workspace": ws, "site": site.uuid}),
        "monitoring overview": reverse("monitoring:overview", kwargs={"workspace": ws}),
        "site monitoring": reverse("monitoring:site_overview", kwargs={"workspace": ws, "site": site.uuid}),
        "monitor page": reverse(
            "monitoring:monitor_detail", kwargs={"workspace": ws, "monitor": monitor.uuid}
        ),
        "incident page": reverse("monitoring:incident", kwargs={"workspace": ws, "incident": incident.uuid}),
        "handover": reverse("workspace_handover", kwargs={"workspace": ws}),
        "workspaces": reverse("workspace_list"),
    }


API_LISTS = (
    "/api/v1/sites",
    "/api/v1/sites/{site}/audits",
    "/api/v1/monitors",
    "/api/v1/incidents",
    "/api/v1/heartbeats",
    "/api/v1/maintenance-windows",
)


def count(client: Client, url: str) -> tuple[int, int]:
    """(queries with an empty cache, queries with the page's fragments cached)."""
    cache.clear()
    client.get(url)  # the first visit of a workspace remembers it in the session
    cache.clear()
    with CaptureQueriesContext(connection) as cold:
        assert client.get(url).status_code == 200, url
    with CaptureQueriesContext(connection) as warm:
        assert client.get(url).status_code == 200, url
    return len(cold), len(warm)


def grow(workspace: Workspace, owner, site: Site) -> None:
    """More of everything: sites, runs, findings, monitors, rollups, incidents, workspaces."""
    for _ in range(3):
        add_site(workspace, owner, runs=6, findings=25)
    for i in range(3):
        add_client_workspace(owner, f"Client {i}")
    for k in range(1, 5):
        run = AuditRun.objects.create(site=site, status=AuditRun.Status.DONE, verdict="ready")
        AuditRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(days=10 + k))
    home = Monitor.objects.get(site=site, auto_key="home")
    for h in range(4, 8):
        Incident.objects.create(
            monitor=home,
            workspace=workspace,
            started_at=timezone.now() - timedelta(hours=2 * h),
            ended_at=timezone.now() - timedelta(hours=2 * h - 1),
            cause="Timed out.",
        )
    Monitor.objects.filter(workspace=workspace).exclude(site=site).filter(auto_key="home").update(
        state=Monitor.State.DOWN
    )


@pytest.fixture
def small(workspace, owner):
    site = add_site(workspace, owner, runs=2, findings=5)
    rollups.refresh_bars()
    return site


def test_daily_pages_issue_the_same_queries_with_more_data(client_as, owner, workspace, small):
    client = client_as(owner)
    urls = pages(workspace, small)
    before = {name: count(client, url) for name, url in urls.items()}
    grow(workspace, owner, small)
    rollups.refresh_bars()
    after = {name: count(client, url) for name, url in urls.items()}
    assert after == before


def test_api_lists_issue_the_same_queries_with_more_data(client, owner, workspace, small):
    _, plain = ApiToken.issue(workspace, "perf", read_only=True)
    api = Client(headers={"Authorization": f"Bearer {plain}"})
    urls = [u.format(site=small.uuid) for u in API_LISTS]
    before = {url: count(api, url) for url in urls}
    grow(workspace, owner, small)
    after = {url: count(api, url) for url in urls}
    assert after == before

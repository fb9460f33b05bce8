"""The workspace overview: each site's verdict and open blockers, in constant queries."""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits.models import AuditRun
from launchready import fragments
from launchready.models import Site
from tests.fixtures_audits import finding


def overview(client, workspace):
    return client.get(reverse("workspace_overview", kwargs={"workspace": workspace.uuid}))


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_cards_and_panel_show_verdict_and_open_blockers(client_as, viewer, workspace, site, make_run):
    make_run(site, ago_minutes=60)
    make_run(site)  # the latest finished run counts
    ready = Site.objects.create(workspace=workspace, domain="ready.example.com")
    make_run(ready, [finding("dns.caa_missing", "low", "dns")])
    Site.objects.create(workspace=workspace, domain="new.example.com")
    body = text_of(overview(client_as(viewer), workspace))
    assert '<span class="verdict-chip verdict-chip-not_ready">Not ready</span>' in body
    assert "1 open blocker" in body
    assert '<span class="verdict-chip verdict-chip-ready">Ready</span>' in body
    assert "No audit yet." in body
    panel = body[body.index("Launch readiness") :]
    assert "1 site is not ready; 1 open blocker in all." in panel
    assert "Not audited" in panel


def test_open_blockers_count_problems_not_subjects(client_as, viewer, workspace, site, make_run):
    """The same check failing on two hosts is one blocker, as in the site's plan."""
    hosts = ["shop.example.com", "www.shop.example.com"]
    make_run(site, [finding("exposure.env_file", "blocker", "deploy", h) for h in hosts])
    body = text_of(overview(client_as(viewer), workspace))
    assert "1 open blocker" in body and "2 open blockers" not in body


def test_stored_runs_get_their_problem_counts_when_migrating(site, make_run) -> None:
    import importlib

    from django.apps import apps

    hosts = ["shop.example.com", "www.shop.example.com"]
    run = make_run(
        site,
        [
            *(finding("exposure.env_file", "blocker", "deploy", h) for h in hosts),
            finding("http.hsts_missing", "high", "edge"),
        ],
        problem_counts={},
    )
    migration = importlib.import_module("audits.migrations.0007_run_problem_counts")
    migration.count_problems(apps, None)
    run.refresh_from_db()
    assert run.problem_counts == {"blocker": 1, "high": 1, "medium": 0, "low": 0, "info": 0}
    assert run.severity_counts["blocker"] == 2  # findings stay counted per subject


def test_a_running_first_audit_is_shown(client_as, viewer, workspace, site, make_run):
    make_run(site, status=AuditRun.Status.RUNNING)
    assert "First audit running" in text_of(overview(client_as(viewer), workspace))


def test_no_sites_no_panel(client_as, owner, workspace):
    assert "Launch readiness" not in overview(client_as(owner), workspace).content.decode()


def test_overview_queries_do_not_grow_with_sites_runs_and_findings(
    client_as, owner, workspace, site, make_run, django_assert_num_queries
):
    client = client_as(owner)
    make_run(site)
    overview(client, workspace)  # the first visit remembers the workspace in the session
    fragments.bump(workspace.pk)  # the baseline draws the site cards too, as the page after the runs does
    with CaptureQueriesContext(connection) as baseline:
        overview(client, workspace)
    for i in range(6):
        other = Site.objects.create(workspace=workspace, domain=f"store{i}.example.com")
        for minutes in (30, 20, 10):
            make_run(other, ago_minutes=minutes)
        make_run(other, status=AuditRun.Status.QUEUED)
    with django_assert_num_queries(len(baseline.captured_queries)):
        response = overview(client, workspace)
    body = response.content.decode()
    assert body.count("verdict-chip-not_ready") == 2 * 7  # card and panel row per site
    assert "7 sites are not ready; 7 open blockers in all." in text_of(response)

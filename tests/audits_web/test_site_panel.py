"""The audit panel on the site page, the run detail page and the live progress partial."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits.models import AcceptedRisk, AuditRun
from launchready import fragments
from tests.fixtures_audits import finding


def site_url(workspace, site) -> str:
    return reverse("site_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid})


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_first_visit_invites_a_first_audit(client_as, member, workspace, site):
    body = text_of(client_as(member).get(site_url(workspace, site)))
    assert "Run your first audit" in body
    assert "Run audit now" in body
    assert "Audits are coming soon" not in body  # the core placeholder is replaced


@pytest.mark.parametrize("role", ["owner", "member", "viewer"])
def test_panel_shows_verdict_plan_stages_and_history(request, client_as, workspace, site, audit_run, role):
    user = request.getfixturevalue(role)
    body = text_of(client_as(user).get(site_url(workspace, site)))
    assert 'class="verdict verdict-not_ready"' in body and ">Not ready<" in body and "in 9.0 s" in body
    # The plan: the blocker before the high, each with why, what we saw and how to fix.
    plan = body[body.index("The 48-hour plan") : body.index("By roadmap stage")]
    assert plan.index("Title of exposure.env_file") < plan.index("Title of http.hsts_missing")
    for words in (
        "Why it matters",
        "Impact of exposure.env_file.",
        "What we saw",
        "Seen for exposure.env_file",
    ):
        assert words in plan
    assert "How to fix" in plan and "Fix exposure.env_file like this." in plan
    # Findings by stage, with severity badges and pass counts as progress bars.
    stages = body[body.index("By roadmap stage") : body.index("Deferred (fix after launch)")]
    assert [n for n in ("Domain and DNS", "Edge and TLS", "Deployment hygiene") if n in stages] == [
        "Domain and DNS",
        "Edge and TLS",
        "Deployment hygiene",
    ]
    assert stages.index("Domain and DNS") < stages.index("Edge and TLS") < stages.index("Deployment hygiene")
    # Each stage says what passed of all its checks; its problems are in the plan and deferred list.
    assert '<progress max="4" value="3">' in stages and "3 of 4 checks passed, 1 failed" in stages
    assert "3 of 4 checks passed, 1 could not be checked" in stages  # never counted as passed
    deferred = body[body.index("Deferred (fix after launch)") :]
    assert "Title of dns.single_nameserver" in deferred
    assert "Could not be checked" in body and "No PageSpeed Insights API key is configured." in body
    assert "Run history" in body and str(audit_run.uuid) in body


def test_viewer_sees_no_member_controls(client_as, viewer, workspace, site, audit_run):
    body = text_of(client_as(viewer).get(site_url(workspace, site)))
    assert "Run audit now" not in body and "Accept risk" not in body and "Check now" not in body
    assert "Share read-only link" not in body
    assert "Download Markdown" in body  # reading the report is allowed


def test_member_sees_accept_risk_on_each_open_finding(client_as, member, workspace, site, audit_run):
    body = text_of(client_as(member).get(site_url(workspace, site)))
    hsts = audit_run.findings.get(check_id="http.hsts_missing")
    accept = reverse(
        "audit_finding_accept", kwargs={"workspace": workspace.uuid, "site": site.uuid, "finding": hsts.uuid}
    )
    assert accept in body


def test_accepted_risks_are_shown_apart(
    client_as, member, workspace, site, audit_run, url_kwarg_accepted_risk
):
    body = text_of(client_as(member).get(site_url(workspace, site)))
    accepted = body[body.index('id="accepted"') :]
    assert "Title of dns.single_nameserver" in accepted and "Moving DNS provider next month." in accepted
    deferred = body[body.index("Deferred (fix after launch)") : body.index('id="accepted"')]
    assert "Title of dns.single_nameserver" not in deferred
    assert "Nothing deferred." in deferred


def test_new_findings_are_marked_after_a_previous_run(client_as, member, workspace, site, make_run):
    make_run(site, [finding("http.hsts_missing", "high", "edge", "www.shop.example.com")], ago_minutes=60)
    run = make_run(site, new_count=1, resolved_count=0)
    run.findings.filter(check_id="exposure.env_file").update(change="new")
    run.findings.exclude(check_id="exposure.env_file").update(change="persisting")
    body = text_of(client_as(member).get(site_url(workspace, site)))
    plan = body[body.index("The 48-hour plan") : body.index("By roadmap stage")]
    env_block = plan[plan.index("Title of exposure.env_file") : plan.index("Title of http.hsts_missing")]
    assert ">New<" in env_block
    assert ">New<" not in plan[plan.index("Title of http.hsts_missing") :]


def test_running_audit_polls_a_small_partial(client_as, member, workspace, site, make_run):
    run = make_run(site, status=AuditRun.Status.RUNNING)
    body = text_of(client_as(member).get(site_url(workspace, site)))
    progress = reverse(
        "audit_run_progress", kwargs={"workspace": workspace.uuid, "site": site.uuid, "run": run.uuid}
    )
    assert f'hx-get="{progress}" hx-trigger="every 2s"' in body
    assert "Audit in progress" in body  # the button says so instead of queueing a second run

    partial = client_as(member).get(progress, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "HX-Refresh" not in partial
    text = text_of(partial)
    assert "<html" not in text and "Audit running" in text and 'hx-trigger="every 2s"' in text
    assert "Domain and DNS" in text and "Checking…" in text


def test_progress_partial_stops_polling_when_the_run_is_over(client_as, viewer, workspace, site, make_run):
    run = make_run(site, status=AuditRun.Status.RUNNING)
    url = reverse(
        "audit_run_progress", kwargs={"workspace": workspace.uuid, "site": site.uuid, "run": run.uuid}
    )
    AuditRun.objects.filter(pk=run.pk).update(status=AuditRun.Status.DONE)
    partial = client_as(viewer).get(url, HTTP_HX_REQUEST="true")
    assert partial["HX-Refresh"] == "true"
    assert "hx-trigger" not in partial.content.decode() and "Audit finished" in partial.content.decode()


def test_failed_run_says_why(client_as, viewer, workspace, site, make_run):
    run = make_run(site, status=AuditRun.Status.FAILED, error="The audit took too long and was stopped.")
    url = reverse(
        "audit_run_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid, "run": run.uuid}
    )
    body = text_of(client_as(viewer).get(url))
    assert "did not finish" in body and "took too long" in body and "hx-trigger" not in body


def test_run_detail_lists_resolved_findings(client_as, viewer, workspace, site, make_run):
    make_run(site, [finding("dns.caa_missing", "low", "dns")], ago_minutes=60)
    run = make_run(site, resolved_count=1)
    url = reverse(
        "audit_run_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid, "run": run.uuid}
    )
    body = text_of(client_as(viewer).get(url))
    resolved = body[body.index("Resolved since the previous audit") :]
    assert "Title of dns.caa_missing" in resolved
    assert "Not ready" in body and "Title of exposure.env_file" in body


def test_run_of_another_site_is_not_found(client_as, owner, workspace, site, make_run):
    from launchready.models import Site

    other = Site.objects.create(workspace=workspace, domain="other.example.com")
    run = make_run(other)
    url = reverse(
        "audit_run_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid, "run": run.uuid}
    )
    assert client_as(owner).get(url).status_code == 404


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_site_page_queries_do_not_grow_with_findings_and_runs(
    client_as, member, workspace, site, make_run, django_assert_num_queries
):
    client = client_as(member)
    url = site_url(workspace, site)
    make_run(site, ago_minutes=30)
    AcceptedRisk.objects.create(
        site=site,
        check_id="x.y",
        subject="s",
        reason="r",
        expires_at="2099-01-01T00:00:00Z",
        accepted_by=member,
    )
    client.get(url)  # the first visit remembers the workspace in the session and creates settings
    fragments.bump(workspace.pk)  # the panels drawn again, as after the changes below
    baseline = count_queries(client, url)
    assert baseline <= 22  # the site page reads each panel in a few queries (21 today)

    many = [finding("http.hsts_missing", "high", "edge", f"host{i}.shop.example.com") for i in range(30)]
    for i in range(8):
        make_run(site, many, ago_minutes=20 - i)
    make_run(site, status=AuditRun.Status.RUNNING)
    for i in range(5):
        AcceptedRisk.objects.create(
            site=site,
            check_id="http.hsts_missing",
            subject=f"host{i}.shop.example.com",
            reason="r",
            expires_at="2099-01-01T00:00:00Z",
            accepted_by=member,
        )
    with django_assert_num_queries(baseline):
        response = client.get(url)
    body = response.content.decode()
    # One check on 25 hosts is one card (5 hosts accepted apart), with "Accept risk" per host.
    assert body.count('class="finding finding-high"') == 1 and "on 25 hosts" in body
    assert body.count(">Accept risk<") == 25
    assert "host29.shop.example.com" in body and "Audit in progress" in body


def test_history_names_who_pressed_run_audit_now(client_as, owner, workspace, site, make_run):
    make_run(site, requested_by=owner)
    body = text_of(client_as(owner).get(site_url(workspace, site)))
    history = body[body.index("Run history") :]
    assert f"Run by {owner.email}" in history and "Run by a member" not in history

"""Cached page fragments (launchready.fragments, the site page's audit report): a cached
page skips the work, and the events that change a fragment drop it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audits.models import AcceptedRisk, AuditRun
from handover.models import Deploy
from launchready import fragments
from launchready.models import Membership, Role
from monitoring.models import Incident, Monitor
from tests.fixtures_audits import finding

pytestmark = pytest.mark.django_db


def site_page(client, workspace, site) -> str:
    response = client.get(reverse("site_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid}))
    assert response.status_code == 200
    return response.content.decode()


def test_a_cached_site_page_does_not_build_the_report_again(client_as, owner, workspace, site, make_run):
    make_run(site)
    client = client_as(owner)
    first = site_page(client, workspace, site)
    assert "Title of exposure.env_file" in first
    with CaptureQueriesContext(connection) as ctx:
        again = site_page(client, workspace, site)
    assert "Title of exposure.env_file" in again
    assert not any("audits_finding" in q["sql"] for q in ctx.captured_queries)


def test_a_finished_audit_shows_its_own_report(client_as, owner, workspace, site, make_run):
    make_run(site, ago_minutes=60)
    client = client_as(owner)
    assert "Title of exposure.env_file" in site_page(client, workspace, site)
    make_run(site, [finding("email.dmarc_missing", "high", "email")])
    body = site_page(client, workspace, site)
    assert "Title of email.dmarc_missing" in body and "Title of exposure.env_file" not in body


def test_a_running_audit_shows_while_the_last_report_stays(client_as, owner, workspace, site, make_run):
    make_run(site, ago_minutes=60)
    client = client_as(owner)
    site_page(client, workspace, site)
    make_run(site, status=AuditRun.Status.RUNNING)
    body = site_page(client, workspace, site)
    assert "Audit in progress" in body and "Title of exposure.env_file" in body


def test_accepting_and_revoking_a_risk_shows_at_once(client_as, owner, workspace, site, make_run):
    make_run(site)
    client = client_as(owner)
    site_page(client, workspace, site)
    risk = AcceptedRisk.objects.create(
        site=site,
        check_id="dns.single_nameserver",
        subject="shop.example.com",
        reason="Our DNS host has no second server; moving next month.",
        expires_at=timezone.now() + timedelta(days=30),
        accepted_by=owner,
    )
    body = site_page(client, workspace, site)
    assert "moving next month" in body
    # Its revoke form is drawn for this reader (its CSRF token), not from the cache.
    assert f"/{risk.uuid}/" in body and 'name="csrfmiddlewaretoken"' in body
    risk.delete()
    assert "moving next month" not in site_page(client, workspace, site)


def test_the_report_is_drawn_per_role(client_as, owner, viewer, workspace, site, make_run):
    """A viewer never gets the owner's cached report with its "Accept risk" buttons, nor the reverse."""
    make_run(site)
    assert "/accept/" in site_page(client_as(owner), workspace, site)
    assert "/accept/" not in site_page(client_as(viewer), workspace, site)
    assert "/accept/" in site_page(client_as(owner), workspace, site)


@pytest.mark.parametrize(
    "change",
    ["audit run", "accepted risk", "incident", "monitor", "deploy", "membership", "site", "workspace"],
)
def test_every_event_a_workspace_page_shows_drops_its_fragments(change, workspace, site, owner, make_user):
    before = fragments.version(workspace.pk)
    now = timezone.now()
    monitor = Monitor.objects.filter(site=site).first()
    if change == "audit run":
        AuditRun.objects.create(site=site)
    elif change == "accepted risk":
        AcceptedRisk.objects.create(site=site, check_id="x", subject="y", reason="z", expires_at=now)
    elif change == "incident":
        Incident.objects.create(monitor=monitor, workspace=workspace, started_at=now, cause="Status 502.")
    elif change == "monitor":
        monitor.delete()
    elif change == "deploy":
        Deploy.objects.create(site=site, environment="production", version="v2")
    elif change == "membership":
        Membership.objects.create(workspace=workspace, user=make_user("newcomer"), role=Role.VIEWER)
    elif change == "site":
        site.name = "Shop"
        site.save()
    elif change == "workspace":
        workspace.name = "Acme Shop"
        workspace.save()
    assert fragments.version(workspace.pk) != before


def test_a_lost_version_never_comes_back_as_an_old_one(workspace):
    from django.core.cache import cache

    first = fragments.version(workspace.pk)
    cache.clear()  # evicted (or Redis restarted without its data)
    assert fragments.version(workspace.pk) > first


def test_the_portfolio_is_cached_and_follows_a_finished_audit(client_as, owner, workspace, site, make_run):
    client = client_as(owner)
    url = reverse("portfolio")
    cell = '<span class="muted">Not audited</span>'
    assert cell in client.get(url).content.decode()
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    assert not any(
        "audits_auditrun" in q["sql"] for q in ctx.captured_queries
    )  # the rows came from the cache
    make_run(site)  # a blocker: the .env file
    page = client.get(url).content.decode()
    assert cell not in page and "1 of 1 workspace needs attention" in page


def test_the_portfolio_follows_a_workspace_of_its_own(client_as, owner, make_user):
    """Joining a workspace (a membership saved) shows it in the portfolio at once."""
    from launchready.models import Workspace

    client = client_as(owner)
    client.get(reverse("portfolio"))
    other = Workspace.objects.create(name="Newly Joined Client", timezone="UTC")
    Membership.objects.create(workspace=other, user=owner, role=Role.ADMIN)
    assert "Newly Joined Client" in client.get(reverse("portfolio")).content.decode()

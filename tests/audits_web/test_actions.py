"""Member actions on the audit panel: run now, accept and revoke risks, the daily audit, export."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from audits.models import AcceptedRisk, AuditRun, SiteAuditSettings

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def url(name: str, workspace, site, **kwargs) -> str:
    return reverse(name, kwargs={"workspace": workspace.uuid, "site": site.uuid, **kwargs})


# --- Run audit now --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "member"])
def test_member_starts_an_audit(request, client_as, workspace, site, role):
    user = request.getfixturevalue(role)
    response = client_as(user).post(url("audit_start", workspace, site))
    assert response.status_code == 302 and response["Location"].endswith("#audit")
    run = AuditRun.objects.get(site=site)
    assert run.status == AuditRun.Status.QUEUED and run.requested_by == user
    assert run.trigger == AuditRun.Trigger.MANUAL


def test_pressing_twice_does_not_queue_a_second_run(client_as, member, workspace, site):
    client = client_as(member)
    client.post(url("audit_start", workspace, site))
    client.post(url("audit_start", workspace, site))
    assert AuditRun.objects.filter(site=site).count() == 1


def test_viewer_cannot_start_an_audit(client_as, viewer, workspace, site):
    assert client_as(viewer).post(url("audit_start", workspace, site)).status_code == 403
    assert not AuditRun.objects.exists()


# --- Accept risk ----------------------------------------------------------------------


def accept_url(workspace, site, finding) -> str:
    return url("audit_finding_accept", workspace, site, finding=finding.uuid)


@time_machine.travel(NOW, tick=False)
def test_member_accepts_a_risk_until_a_date(client_as, member, workspace, site, url_kwarg_finding):
    client = client_as(member)
    page = client.get(accept_url(workspace, site, url_kwarg_finding))
    assert page.status_code == 200 and "Title of http.hsts_missing" in page.content.decode()
    response = client.post(
        accept_url(workspace, site, url_kwarg_finding),
        {"reason": "HSTS goes on after the CDN move.", "expires_on": "2027-01-15"},
    )
    assert response.status_code == 302 and response["Location"].endswith("#accepted")
    risk = AcceptedRisk.objects.get(site=site)
    assert (risk.check_id, risk.subject) == ("http.hsts_missing", "www.shop.example.com")
    assert risk.reason == "HSTS goes on after the CDN move." and risk.accepted_by == member
    # Until the end of that day in the workspace's time zone (Europe/Amsterdam, UTC+1 in January).
    assert risk.expires_at == dt.datetime(2027, 1, 15, 22, 59, 59, tzinfo=dt.UTC)
    page = client.get(reverse("site_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid}))
    assert "until 15 January 2027" in page.content.decode()


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"reason": "", "expires_on": "2027-01-15"}, "reason", "Say why you accept this risk"),
        ({"reason": "   ", "expires_on": "2027-01-15"}, "reason", "Say why you accept this risk"),
        ({"reason": "Later.", "expires_on": ""}, "expires_on", "Choose the date until which"),
        ({"reason": "Later.", "expires_on": "15/01/2027x"}, "expires_on", "Enter a date such as"),
        ({"reason": "Later.", "expires_on": "2026-11-28"}, "expires_on", "Choose a date after today."),
        (
            {"reason": "Later.", "expires_on": "2027-11-29"},
            "expires_on",
            "at most one year (until 28 November 2027)",
        ),
    ],
)
def test_bad_acceptance_is_refused_with_a_clear_error_and_nothing_lost(
    client_as, member, workspace, site, url_kwarg_finding, data, field, message
):
    response = client_as(member).post(accept_url(workspace, site, url_kwarg_finding), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert f'id="id_{field}_error"' in body
    assert not AcceptedRisk.objects.exists()
    # What was typed is still there.
    if data["reason"].strip():
        assert data["reason"] in body
    if data["expires_on"]:
        assert f'value="{data["expires_on"]}"' in body


@time_machine.travel(NOW, tick=False)
def test_one_year_exactly_is_allowed(client_as, member, workspace, site, url_kwarg_finding):
    response = client_as(member).post(
        accept_url(workspace, site, url_kwarg_finding), {"reason": "Later.", "expires_on": "2027-11-28"}
    )
    assert response.status_code == 302 and AcceptedRisk.objects.count() == 1


def test_accepting_again_updates_the_acceptance(client_as, member, workspace, site, url_kwarg_finding):
    client = client_as(member)
    later = (timezone.now() + dt.timedelta(days=10)).date()
    for reason in ("First reason.", "Second reason."):
        client.post(accept_url(workspace, site, url_kwarg_finding), {"reason": reason, "expires_on": later})
    assert list(AcceptedRisk.objects.values_list("reason", flat=True)) == ["Second reason."]


def test_viewer_gets_403_on_the_accept_form(client_as, viewer, workspace, site, url_kwarg_finding):
    assert client_as(viewer).get(accept_url(workspace, site, url_kwarg_finding)).status_code == 403


def test_finding_of_another_workspace_is_not_found(client_as, stranger, member, workspace, site, make_run):
    from launchready.models import Membership, Site

    theirs = Membership.objects.get(user=stranger).workspace
    their_site = Site.objects.create(workspace=theirs, domain="theirs.example.com")
    their_finding = make_run(their_site).findings.first()
    # A member of our workspace, addressing their finding through our site: 404.
    response = client_as(member).get(accept_url(workspace, site, their_finding))
    assert response.status_code == 404


def test_member_revokes_an_acceptance(client_as, member, workspace, site, audit_run, url_kwarg_accepted_risk):
    revoke = url("audit_acceptance_revoke", workspace, site, accepted_risk=url_kwarg_accepted_risk.uuid)
    response = client_as(member).post(revoke)
    assert response.status_code == 302
    assert not AcceptedRisk.objects.exists()
    page = client_as(member).get(
        reverse("site_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    )
    assert 'id="accepted"' not in page.content.decode()


def test_expired_acceptance_counts_again(
    client_as, member, workspace, site, audit_run, url_kwarg_accepted_risk
):
    AcceptedRisk.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    body = client_as(member).get(
        reverse("site_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    )
    assert 'id="accepted"' not in body.content.decode()


# --- Daily audit ----------------------------------------------------------------------


def test_member_turns_the_daily_audit_off_and_on(client_as, member, workspace, site):
    client = client_as(member)
    client.post(url("audit_daily_toggle", workspace, site), {})
    assert SiteAuditSettings.objects.get(site=site).daily_enabled is False
    client.post(url("audit_daily_toggle", workspace, site), {"daily_enabled": "on"})
    row = SiteAuditSettings.objects.get(site=site)
    assert row.daily_enabled is True and row.next_daily_at is not None
    page = client.get(reverse("site_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid}))
    assert 'name="daily_enabled" checked' in page.content.decode()


def test_viewer_cannot_change_the_daily_audit(client_as, viewer, workspace, site):
    assert client_as(viewer).post(url("audit_daily_toggle", workspace, site), {}).status_code == 403
    assert not SiteAuditSettings.objects.filter(site=site, daily_enabled=False).exists()


# --- Markdown export ------------------------------------------------------------------


def test_markdown_export(client_as, viewer, workspace, site, audit_run, url_kwarg_accepted_risk):
    response = client_as(viewer).get(url("audit_run_export", workspace, site, run=audit_run.uuid))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    day = audit_run.started_at.strftime("%Y-%m-%d")
    assert response["Content-Disposition"] == f'attachment; filename="launch-audit-shop.example.com-{day}.md"'
    text = response.content.decode()
    assert text.startswith("# Launch audit of shop.example.com")
    assert "NOT READY" in text
    plan = text[text.index("## The 48-hour plan") : text.index("## Deferred")]
    assert plan.index("1. **[blocker] Title of exposure.env_file**") < plan.index(
        "2. **[high] Title of http.hsts_missing**"
    )
    assert (
        "Why it matters: Impact of exposure.env_file." in plan and "How to fix: Fix exposure.env_file" in plan
    )
    accepted = text[text.index("## Accepted risks") : text.index("## Could not be checked")]
    assert "Title of dns.single_nameserver" in accepted
    assert "No PageSpeed Insights API key is configured." in text
    assert "- Domain and DNS: 3 of 4 checks passed, 1 failed" in text


def test_export_of_an_unfinished_run_is_not_found(client_as, viewer, workspace, site, make_run):
    run = make_run(site, status=AuditRun.Status.RUNNING)
    assert client_as(viewer).get(url("audit_run_export", workspace, site, run=run.uuid)).status_code == 404

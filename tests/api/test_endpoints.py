"""What each endpoint answers for a workspace token: sites, monitors, heartbeats, incidents,
maintenance windows and audit runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from audits.models import AuditRun
from launchready.models import Site, Workspace
from monitoring.models import ApiToken, Incident, MaintenanceWindow, Monitor


def iso(when) -> str:
    """A time as the API writes it (ISO 8601, milliseconds, Z)."""
    return DjangoJSONEncoder().default(when)


@pytest.fixture
def api(client, workspace):
    _, plain = ApiToken.issue(workspace, "CI")

    def call(method: str, url: str, body: str = "", expect: int = 200):
        response = client.generic(
            method, url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plain}"
        )
        assert response.status_code == expect, response.content
        return response.json()

    return call


def test_sites(api, site):
    assert api("GET", "/api/v1/sites") == [
        {
            "id": str(site.uuid),
            "domain": "shop.example.com",
            "name": "",
            "canonical_host": "www.shop.example.com",
            "created_at": iso(site.created_at),
        }
    ]
    assert api("GET", f"/api/v1/sites/{site.uuid}")["domain"] == "shop.example.com"


def test_monitors_with_state_and_last_check(api, workspace, site, django_assert_max_num_queries):
    checked = timezone.now()
    Monitor.objects.create(
        workspace=workspace,
        site=site,
        name="Home",
        url="https://www.shop.example.com/",
        state=Monitor.State.DOWN,
        last_checked_at=checked,
        last_latency_ms=812,
        last_message="Status 502.",
    )
    Monitor.objects.create(workspace=workspace, name="Blog", url="https://blog.example.com/")
    with django_assert_max_num_queries(4):  # token, its last use, the monitors with their sites
        monitors = api("GET", "/api/v1/monitors")
    home = next(m for m in monitors if m["name"] == "Home")
    assert home["state"] == "down" and home["state_label"] == "Down" and home["site"] == str(site.uuid)
    assert home["last_check"] == {
        "at": iso(checked),
        "latency_ms": 812,
        "message": "Status 502.",
    }
    assert next(m for m in monitors if m["name"] == "Blog")["last_check"] is None
    of_site = api("GET", f"/api/v1/monitors?site={site.uuid}")
    assert "Home" in {m["name"] for m in of_site} and "Blog" not in {m["name"] for m in of_site}
    assert {m["site"] for m in of_site} == {str(site.uuid)}
    assert api("GET", f"/api/v1/monitors/{home['id']}")["target"] == "https://www.shop.example.com/"


def test_heartbeats_with_last_ping_and_ping_url(api, workspace, settings):
    settings.SITE_URL = "https://app.launchready.example"
    pinged = timezone.now() - timedelta(minutes=5)
    beat = Monitor.objects.create(
        workspace=workspace, kind=Monitor.Kind.HEARTBEAT, name="Nightly export", last_ping_at=pinged
    )
    Monitor.objects.create(workspace=workspace, name="Home", url="https://shop.example.com/")
    (only,) = api("GET", "/api/v1/heartbeats")
    assert only["id"] == str(beat.uuid)
    assert only["last_ping_at"] == iso(pinged)
    assert only["ping_url"] == f"https://app.launchready.example/ping/{beat.uuid}"


def test_incidents_open_first_and_filtered(api, workspace, http_monitor, django_assert_max_num_queries):
    now = timezone.now()
    other = Monitor.objects.create(workspace=workspace, name="Login", url="https://shop.example.com/login")
    old_open = Incident.objects.create(
        monitor=other, workspace=workspace, started_at=now - timedelta(days=2), cause="Timeout."
    )
    recent_closed = Incident.objects.create(
        monitor=http_monitor,
        workspace=workspace,
        started_at=now - timedelta(hours=1),
        ended_at=now,
        cause="502.",
    )
    with django_assert_max_num_queries(4):
        listed = api("GET", "/api/v1/incidents")
    assert [i["id"] for i in listed] == [str(old_open.uuid), str(recent_closed.uuid)]
    assert listed[0]["open"] is True and listed[0]["monitor_name"] == "Login"
    assert [i["id"] for i in api("GET", "/api/v1/incidents?open=true")] == [str(old_open.uuid)]
    assert [i["id"] for i in api("GET", "/api/v1/incidents?open=false")] == [str(recent_closed.uuid)]
    assert api("GET", f"/api/v1/incidents/{recent_closed.uuid}")["cause"] == "502."


def test_maintenance_windows_open_and_list(api, workspace):
    created = api(
        "POST", "/api/v1/maintenance-windows", '{"minutes": 20, "reason": "deploy v42"}', expect=201
    )
    assert set(created) == {"id", "starts_at", "ends_at"}
    assert created["starts_at"].endswith("+00:00")  # the answer the first version gave
    (listed,) = api("GET", "/api/v1/maintenance-windows")
    assert listed["id"] == created["id"] and listed["reason"] == "deploy v42"
    assert listed["created_by"] == "API token CI" and listed["site"] is None
    assert api("GET", f"/api/v1/maintenance-windows/{created['id']}")["reason"] == "deploy v42"
    assert MaintenanceWindow.objects.get().workspace == workspace


def test_a_window_for_a_site_of_another_workspace_is_404(api):
    other = Site.objects.create(workspace=Workspace.objects.create(name="B"), domain="b.example")
    api("POST", "/api/v1/maintenance-windows", f'{{"minutes": 5, "site": "{other.uuid}"}}', expect=404)
    api("POST", "/api/v1/maintenance-windows", '{"minutes": 5, "site": 7}', expect=400)
    assert not MaintenanceWindow.objects.exists()


def test_starting_an_audit_queues_one_run_at_a_time(api, site):
    started = api("POST", f"/api/v1/sites/{site.uuid}/audits", expect=202)
    run = AuditRun.objects.get()
    assert started["id"] == str(run.uuid) and started["status"] == "queued" and started["trigger"] == "api"
    assert started["site"] == str(site.uuid) and started["findings"] == []
    again = api("POST", f"/api/v1/sites/{site.uuid}/audits", expect=200)
    assert again["id"] == started["id"] and AuditRun.objects.count() == 1


def test_an_audit_run_with_its_findings(api, audit_run, site, make_run):
    older = make_run(site, ago_minutes=60 * 24)
    run = api("GET", f"/api/v1/audits/{audit_run.uuid}")
    assert run["status"] == "done" and run["verdict"] == audit_run.verdict
    assert run["finished_at"] and run["started_at"]
    checks = {f["check"] for f in run["findings"]}
    assert "http.hsts_missing" in checks and len(run["findings"]) == audit_run.findings.count()
    finding = next(f for f in run["findings"] if f["check"] == "http.hsts_missing")
    assert {"severity", "status", "subject", "title", "stage", "fix", "impact"} <= set(finding)
    only = api("GET", f"/api/v1/audits/{audit_run.uuid}?check=http.hsts_missing")["findings"]
    assert [f["check"] for f in only] == ["http.hsts_missing"]
    listed = api("GET", f"/api/v1/sites/{site.uuid}/audits")
    assert [r["id"] for r in listed] == [str(audit_run.uuid), str(older.uuid)]
    assert "findings" not in listed[0]

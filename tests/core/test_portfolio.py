"""The consultant's portfolio: the selector (one row per workspace) and its page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audits.models import AuditRun
from handover.models import Deploy
from launchready.models import Membership, Role, Site, Workspace
from launchready.portfolio import filter_rows, portfolio_rows, sort_rows
from monitoring.models import DailyRollup, Incident, Monitor


def _client_workspace(user, name: str, domain: str, role: str = Role.OWNER) -> Workspace:
    ws = Workspace.objects.create(name=name, timezone="Europe/Amsterdam")
    Membership.objects.create(workspace=ws, user=user, role=role)
    Site.objects.create(workspace=ws, domain=domain)
    return ws


def _audit(site: Site, verdict: str, blockers: int = 0, highs: int = 0, ago_hours: int = 1) -> AuditRun:
    return AuditRun.objects.create(
        site=site,
        status=AuditRun.Status.DONE,
        verdict=verdict,
        problem_counts={"blocker": blockers, "high": highs},  # distinct problems, as the plan counts
        created_at=timezone.now() - timedelta(hours=ago_hours),
    )


def _http_monitor(ws: Workspace) -> Monitor:
    return Monitor.objects.filter(workspace=ws, kind=Monitor.Kind.HTTP).first() or Monitor.objects.create(
        workspace=ws, name="home", kind=Monitor.Kind.HTTP, url="https://example.com/"
    )


def _full_workspace(user, name: str, domain: str) -> Workspace:
    """A workspace with everything the portfolio reads: audit, uptime, incident, expiry, deploy."""
    ws = _client_workspace(user, name, domain)
    site = ws.sites.get()
    _audit(site, "not_ready", blockers=2, highs=1)
    monitor = _http_monitor(ws)
    today = timezone.now().date()
    DailyRollup.objects.create(monitor=monitor, day=today, checks=100, failures=2)
    Incident.objects.create(monitor=monitor, workspace=ws, started_at=timezone.now(), cause="Timed out")
    Monitor.objects.filter(site=site, kind=Monitor.Kind.TLS_EXPIRY).update(
        expires_at=timezone.now() + timedelta(days=12)
    )
    Deploy.objects.create(site=site, environment="production", version="v1", state=Deploy.State.PASSED)
    return ws


def test_a_row_per_workspace_with_what_each_one_saw(owner, workspace, site, stranger):
    _full_workspace(owner, "Client B", "b-store.example")
    run = _audit(site, "ready_with_risks", highs=3)
    tls = Monitor.objects.get(site=site, kind=Monitor.Kind.TLS_EXPIRY)
    dom = Monitor.objects.get(site=site, kind=Monitor.Kind.DOMAIN_EXPIRY)
    Monitor.objects.filter(pk=tls.pk).update(expires_at=timezone.now() + timedelta(days=40))
    Monitor.objects.filter(pk=dom.pk).update(expires_at=timezone.now() + timedelta(days=20))
    Deploy.objects.create(
        site=site, environment="production", version="old", created_at=timezone.now() - timedelta(days=2)
    )
    Deploy.objects.create(site=site, environment="staging", version="new", state=Deploy.State.FAILED)

    rows = {r.workspace.name: r for r in portfolio_rows(owner)}

    assert set(rows) == {"Acme Store", "Client B"}  # not the stranger's workspace
    acme, client_b = rows["Acme Store"], rows["Client B"]
    assert acme.verdict_key == "ready_with_risks" and acme.open_highs == 3 and acme.open_blockers == 0
    assert acme.last_audit_at == run.created_at
    assert acme.next_expiry.what == "Domain" and acme.next_expiry.host == dom.hostname
    assert acme.last_deploy.version == "new" and acme.last_deploy.failed
    assert acme.uptime_7d is None  # no check ran: never shown as 100 %
    assert acme.open_incidents == 0
    assert client_b.verdict_key == "not_ready" and client_b.open_blockers == 2
    assert client_b.uptime_7d == pytest.approx(98.0)
    assert client_b.open_incidents == 1
    assert client_b.next_expiry.what == "Certificate"
    assert client_b.last_deploy.version == "v1" and not client_b.last_deploy.failed
    assert [r.workspace.name for r in portfolio_rows(stranger)] == ["Stranger's workspace"]


def test_a_site_never_audited_keeps_the_workspace_from_being_ready(owner, workspace, site):
    _audit(site, "ready")
    assert portfolio_rows(owner)[0].verdict_key == "ready"
    Site.objects.create(workspace=workspace, domain="second.example.com")
    row = portfolio_rows(owner)[0]
    assert row.verdict is None and row.verdict_key == "not_audited" and row.unaudited_sites == 1
    # A blocker seen on one site is enough to say "not ready", audited or not.
    _audit(site, "not_ready", blockers=1, ago_hours=0)
    assert portfolio_rows(owner)[0].verdict_key == "not_ready"


def test_uptime_counts_the_last_seven_days_only(owner, workspace, site):
    monitor = _http_monitor(workspace)
    today = timezone.now().date()
    DailyRollup.objects.create(monitor=monitor, day=today - timedelta(days=7), checks=100, failures=100)
    DailyRollup.objects.create(monitor=monitor, day=today - timedelta(days=6), checks=100, failures=10)
    assert portfolio_rows(owner)[0].uptime_7d == pytest.approx(90.0)


def test_rows_come_worst_first(make_user):
    owner = make_user("consultant")
    calm = _client_workspace(owner, "Calm", "calm.example")
    _audit(calm.sites.get(), "ready")
    risky = _client_workspace(owner, "Risky", "risky.example")
    _audit(risky.sites.get(), "ready_with_risks", highs=1)
    blocked = _client_workspace(owner, "Blocked", "blocked.example")
    _audit(blocked.sites.get(), "not_ready", blockers=1)
    down = _client_workspace(owner, "Down", "down.example")
    _audit(down.sites.get(), "ready")
    Incident.objects.create(monitor=_http_monitor(down), workspace=down, started_at=timezone.now(), cause="x")
    assert [r.workspace.name for r in portfolio_rows(owner)] == ["Down", "Blocked", "Risky", "Calm"]


def test_sorting_keeps_missing_values_last_and_filters_combine(make_user):
    owner = make_user("consultant")
    _full_workspace(owner, "Alpha", "alpha.example")
    beta = _client_workspace(owner, "Beta", "beta.example")
    _audit(beta.sites.get(), "ready")
    DailyRollup.objects.create(monitor=_http_monitor(beta), day=timezone.now().date(), checks=10, failures=0)
    _client_workspace(owner, "Gamma", "gamma.example")
    rows = portfolio_rows(owner)

    names = lambda rs: [r.workspace.name for r in rs]  # noqa: E731
    assert names(sort_rows(rows, "uptime")) == ["Alpha", "Beta", "Gamma"]
    assert names(sort_rows(rows, "uptime", descending=True)) == ["Beta", "Alpha", "Gamma"]
    assert names(sort_rows(rows, "name", descending=True)) == ["Gamma", "Beta", "Alpha"]
    assert names(filter_rows(rows, verdict="not_audited")) == ["Gamma"]
    assert names(filter_rows(rows, attention=True)) == ["Alpha", "Gamma"]
    assert names(filter_rows(rows, text="ALP")) == ["Alpha"]
    assert names(filter_rows(rows, text="a", verdict="ready")) == ["Beta"]


def _queries(user) -> int:
    with CaptureQueriesContext(connection) as ctx:
        portfolio_rows(user)
    return len(ctx)


def test_selector_query_count_does_not_grow_with_workspaces(make_user):
    owner = make_user("consultant")
    for i in range(2):
        _full_workspace(owner, f"Client {i}", f"client{i}.example")
    two = _queries(owner)
    for i in range(2, 10):
        _full_workspace(owner, f"Client {i}", f"client{i}.example")
    assert len(portfolio_rows(owner)) == 10
    assert _queries(owner) == two


def test_no_workspace_no_rows(make_user):
    assert portfolio_rows(make_user("lonely")) == []


# The page


def test_page_lists_only_the_users_workspaces_each_one_click_away(
    client_as, owner, workspace, site, stranger
):
    _full_workspace(owner, "Client B", "b-store.example")
    page = client_as(owner).get(reverse("portfolio")).content.decode()
    for ws in Workspace.objects.filter(memberships__user=owner):
        assert reverse("workspace_overview", kwargs={"workspace": ws.uuid}) in page
    assert "Stranger" not in page
    assert "Not ready" in page and "98.00 %" in page and "1 open" in page
    assert "Not audited" in page  # Acme Store's site: never claimed ready
    assert "2 of 2 workspaces need attention" in page


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("portfolio"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_sorting_and_filtering_are_get_parameters(client_as, make_user):
    consultant = make_user("consultant")
    _full_workspace(consultant, "Alpha", "alpha.example")
    beta = _client_workspace(consultant, "Beta", "beta.example")
    _audit(beta.sites.get(), "ready")
    c = client_as(consultant)
    url = reverse("portfolio")

    page = c.get(url, {"sort": "name", "dir": "desc"}).content.decode()
    assert page.index(">Beta<") < page.index(">Alpha<")
    assert '<th scope="col" aria-sort="descending"><a href="?sort=name&amp;dir=asc">Workspace' in page
    assert page.count("aria-sort=") == 1
    page = c.get(url, {"sort": "name", "dir": "asc"}).content.decode()
    assert page.index(">Alpha<") < page.index(">Beta<")
    assert 'aria-sort="ascending"' in page

    page = c.get(url, {"verdict": "ready"}).content.decode()
    assert ">Beta<" in page and ">Alpha<" not in page
    page = c.get(url, {"attention": "on"}).content.decode()
    assert ">Alpha<" in page and ">Beta<" not in page
    page = c.get(url, {"q": "zzz"}).content.decode()
    assert "No workspace matches these filters" in page


def test_a_bad_parameter_is_explained_and_ignored(client_as, owner, workspace):
    response = client_as(owner).get(reverse("portfolio"), {"sort": "password", "verdict": "great"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "was not understood and is ignored" in page and "sort:" in page and "verdict:" in page
    assert ">Acme Store<" in page


def test_dates_are_shown_in_each_workspaces_time_zone(client_as, make_user):
    consultant = make_user("consultant")
    ws = _client_workspace(consultant, "Tokyo shop", "tokyo.example")
    Workspace.objects.filter(pk=ws.pk).update(timezone="Asia/Tokyo")
    run = _audit(ws.sites.get(), "ready")
    AuditRun.objects.filter(pk=run.pk).update(created_at=datetime(2030, 1, 2, 20, 30, tzinfo=UTC))
    page = client_as(consultant).get(reverse("portfolio")).content.decode()
    assert "3 January 2030, 05:30" in page


def _page_queries(c) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert c.get(reverse("portfolio")).status_code == 200
    return len(ctx)


def test_page_query_count_is_the_same_for_2_and_10_workspaces(client_as, make_user):
    consultant = make_user("consultant")
    c = client_as(consultant)
    for i in range(2):
        _full_workspace(consultant, f"Client {i}", f"client{i}.example")
    two = _page_queries(c)
    for i in range(2, 10):
        _full_workspace(consultant, f"Client {i}", f"client{i}.example")
    ten = _page_queries(c)
    assert ten == two
    assert c.get(reverse("portfolio")).content.decode().count('<th scope="row">') == 10

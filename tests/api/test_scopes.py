"""Token scopes on every route: read-only tokens cannot write, a site token sees one site.

Routes come from the OpenAPI schema (tests/api/walk.py), so endpoints added later are
walked too; the tenancy walk (another workspace's token) is in tests/core/test_url_walk.py.
"""

from __future__ import annotations

import pytest

from audits.models import AuditRun
from launchready.models import Site
from monitoring.models import ApiToken, MaintenanceWindow, Monitor
from tests.api import walk

ROUTES = walk.api_routes()
WRITES = [r for r in ROUTES if r.writes]


def test_there_are_writes_to_walk():
    assert {"POST /api/v1/maintenance-windows", "POST /api/v1/sites/{site}/audits"} <= {
        str(r) for r in WRITES
    }


@pytest.mark.parametrize("route", WRITES, ids=str)
def test_a_read_only_token_gets_403_on_every_write(route, request, client, workspace):
    _, plain = ApiToken.issue(workspace, "Dashboard", read_only=True)
    filled = walk.fill(route, request)
    windows, runs = MaintenanceWindow.objects.count(), AuditRun.objects.count()
    response = walk.call(client, route, filled.url, plain, filled.body)
    assert response.status_code == 403, f"{route}: {response.content!r}"
    assert "read-only" in response.json()["error"]
    assert (MaintenanceWindow.objects.count(), AuditRun.objects.count()) == (windows, runs)


@pytest.mark.parametrize("route", [r for r in ROUTES if not r.writes], ids=str)
def test_a_read_only_token_reads(route, request, client, workspace):
    _, plain = ApiToken.issue(workspace, "Dashboard", read_only=True)
    filled = walk.fill(route, request)
    response = walk.call(client, route, filled.url, plain)
    assert response.status_code == 200, f"{route}: {response.content!r}"


@pytest.fixture
def other_site(workspace) -> Site:
    return Site.objects.create(workspace=workspace, domain="blog.example.com")


@pytest.fixture
def site_objects(request, site, workspace):
    """UUIDs of objects outside ``other_site``: ``site``'s, and workspace-wide ones."""
    Monitor.objects.create(workspace=workspace, site=site, kind=Monitor.Kind.HEARTBEAT, name="Feed export")
    found = {str(site.uuid)} | {str(m.uuid) for m in Monitor.objects.filter(workspace=workspace)}
    for name in sorted({n for r in ROUTES for n in r.params + r.query} | {"incident", "run", "window"}):
        try:
            found.add(str(request.getfixturevalue(f"url_kwarg_{name}").uuid))
        except pytest.FixtureLookupError:
            continue
    return found


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_a_site_token_gets_404_for_everything_outside_its_site(
    route, request, client, workspace, other_site, site_objects
):
    """The url_kwarg_* objects belong to ``site`` or to the whole workspace; the token to ``other_site``."""
    _, plain = ApiToken.issue(workspace, "Blog CI", site=other_site)
    filled = walk.fill(route, request)
    response = walk.call(client, route, filled.url, plain, filled.body)
    if filled.objects:
        assert response.status_code == 404, f"{route} reached outside its site: {response.content!r}"
    leaked = {u for u in site_objects if u in response.content.decode()}
    assert not leaked, f"{route} showed a site token objects outside its site"


def test_a_site_token_sees_its_own_site(client, workspace, site, other_site):
    _, plain = ApiToken.issue(workspace, "Shop CI", site=site)
    response = client.get("/api/v1/sites", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert [s["id"] for s in response.json()] == [str(site.uuid)]
    detail = client.get(f"/api/v1/sites/{site.uuid}", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert detail.status_code == 200 and detail.json()["domain"] == "shop.example.com"


def test_a_site_tokens_maintenance_window_covers_only_its_site(client, workspace, site):
    _, plain = ApiToken.issue(workspace, "Shop CI", site=site)
    response = client.post(
        "/api/v1/maintenance-windows",
        {"minutes": 10},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
    )
    assert response.status_code == 201
    assert MaintenanceWindow.objects.get().site == site


def test_a_workspace_token_may_aim_a_window_at_one_site(client, workspace, site):
    _, plain = ApiToken.issue(workspace, "Deploy")
    body = {"minutes": 10, "site": str(site.uuid)}
    response = client.post(
        "/api/v1/maintenance-windows",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
    )
    assert response.status_code == 201
    assert MaintenanceWindow.objects.get().site == site

"""Routes found on the store wait for the owner: a new site starts with its homepage, an
audit proposes what it found, only confirmed routes are timed and watched, any 4xx is down
unless the owner says otherwise, and old placeholder rows stop counting as real."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from audits.engine import declaration_for
from audits.models import AuditRun
from launchready.models import CriticalRoute, Site
from launchready.site_routes import add_starting_routes, propose_found_routes
from monitoring.models import Monitor

FOUND = {
    "routes": [
        {"name": "home", "path": "/", "source": "homepage", "evidence": ""},
        {"name": "product", "path": "/products/mug", "source": "sitemap", "evidence": ""},
        {"name": "login", "path": "/login", "source": "homepage", "evidence": ""},
        {"name": "order", "path": "/api/orders", "source": "platform", "evidence": ""},
    ]
}


def _url(name, site, **kw):
    return reverse(name, kwargs={"workspace": site.workspace.uuid, "site": site.uuid, **kw})


def _route_monitors(site) -> dict[str, str]:
    return {
        m.auto_key: m.expected_statuses
        for m in Monitor.objects.filter(site=site, auto_key__startswith="route:")
    }


@pytest.fixture
def site(workspace) -> Site:
    """A site as a new one starts: its homepage only."""
    new = Site.objects.create(workspace=workspace, domain="shop.example.com", canonical=Site.Canonical.WWW)
    add_starting_routes(new)
    return new


def _finished_audit(site) -> AuditRun:
    return AuditRun.objects.create(
        site=site, status=AuditRun.Status.DONE, facts={"discovered_routes": FOUND}, verdict="ready"
    )


def test_a_new_site_starts_with_its_homepage_only(client_as, member, workspace):
    client_as(member).post(
        reverse("site_create", kwargs={"workspace": workspace.uuid}),
        {"domain": "shop.test", "canonical": "www"},
    )
    site = Site.objects.get(workspace=workspace)
    assert [(r.name, r.path, r.confirmed) for r in site.routes.all()] == [("home", "/", True)]
    assert _route_monitors(site) == {}


def test_routes_found_by_an_audit_wait_for_confirmation(site):
    _finished_audit(site)
    found = {r.name: (r.path, r.source, r.confirmed) for r in site.routes.exclude(name="home")}
    assert found == {
        "product": ("/products/mug", "sitemap", False),
        "login": ("/login", "homepage", False),
        "order": ("/api/orders", "platform", False),
    }
    # Neither timed as critical nor watched until confirmed.
    assert [r.name for r in declaration_for(site).routes] == ["home"]
    assert _route_monitors(site) == {}


def test_a_confirmed_route_is_never_changed_by_what_an_audit_finds(site):
    CriticalRoute.objects.create(site=site, name="login", path="/account/sign-in", confirmed=True)
    assert propose_found_routes(site, [("login", "/login", "homepage")]) == 0
    assert site.routes.get(name="login").path == "/account/sign-in"


def test_confirm_all_works_without_javascript_and_creates_monitors_where_4xx_is_down(client_as, member, site):
    _finished_audit(site)
    response = client_as(member).post(_url("route_confirm_all", site))
    assert response.status_code == 302 and response["Location"] == _url("site_inputs", site) + "#routes"
    assert not site.routes.filter(confirmed=False).exists()
    assert _route_monitors(site) == {"route:login": "200-399", "route:order": "200-399"}
    assert {r.name for r in declaration_for(site).routes} == {"home", "product", "login", "order"}


def test_the_site_page_shows_found_routes_and_the_confirm_button(client_as, member, site):
    _finished_audit(site)
    client = client_as(member)
    assert "3 found routes to confirm" in client.get(_url("site_detail", site)).content.decode()
    body = client.get(_url("site_inputs", site)).content.decode()
    assert "found 3 routes on your store" in body
    assert "Confirm all found routes" in body
    assert "Not confirmed yet</strong>: found in the sitemap" in body


def test_editing_a_found_route_confirms_it_and_4xx_can_be_accepted(client_as, member, site):
    _finished_audit(site)
    order = site.routes.get(name="order")
    client_as(member).post(
        _url("route_update", site, route=order.uuid),
        {"name": "order", "path": "/api/v2/orders", "kind": "api", "accept_client_errors": "on"},
    )
    order.refresh_from_db()
    assert (order.path, order.confirmed, order.accept_client_errors) == ("/api/v2/orders", True, True)
    assert _route_monitors(site) == {"route:order": "200-499"}


def test_unconfirming_a_route_removes_its_monitor(site):
    route = CriticalRoute.objects.create(site=site, name="checkout", path="/checkout", confirmed=True)
    assert "route:checkout" in _route_monitors(site)
    route.confirmed = False
    route.save()
    assert _route_monitors(site) == {}


@pytest.mark.parametrize("who, status", [("viewer", 403), ("stranger", 404)])
def test_confirm_all_is_for_members_of_the_workspace(client_as, request, site, who, status):
    _finished_audit(site)
    response = client_as(request.getfixturevalue(who)).post(_url("route_confirm_all", site))
    assert response.status_code == status
    assert site.routes.filter(confirmed=False).count() == 3


def test_placeholder_rows_nobody_confirmed_become_unconfirmed_and_lose_their_monitor(site):
    migration = importlib.import_module("launchready.migrations.0007_placeholder_routes_unconfirmed")
    for name, path in migration.PLACEHOLDERS.items():
        CriticalRoute.objects.create(site=site, name=name, path=path, kind=CriticalRoute.kind_for(name, path))
    site.routes.filter(name="cart").update(path="/basket")  # edited by its owner: kept
    site.routes.filter(name="cart").first().save()
    assert {"route:login", "route:order", "route:checkout", "route:cart"} <= set(_route_monitors(site))

    migration.unconfirm_placeholders(apps, None)

    states = {r.name: (r.source, r.confirmed) for r in site.routes.all()}
    assert states["login"] == ("standard", False) and states["order"] == ("standard", False)
    assert states["home"] == ("standard", True)
    assert states["cart"] == ("user", True)
    assert _route_monitors(site) == {"route:cart": "200-399"}

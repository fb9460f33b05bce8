"""Sites: add with normalisation and defaults, edit, rows via htmx, email settings, delete."""

import pytest
from django.urls import reverse

from launchready.models import CampaignURL, CriticalRoute, Site, Subdomain


def _url(name, workspace, site=None, **kw):
    kwargs = {"workspace": workspace.uuid, **kw}
    if site is not None:
        kwargs["site"] = site.uuid
    return reverse(name, kwargs=kwargs)


def test_add_site_normalises_and_prefills_routes(client_as, member, workspace):
    response = client_as(member).post(
        _url("site_create", workspace),
        {"domain": "HTTPS://WWW.Shop.Example.com/cart?x=1", "canonical": "www"},
    )
    site = Site.objects.get(workspace=workspace)
    assert response["Location"] == _url("site_detail", workspace, site)
    assert site.domain == "shop.example.com"
    # Only the homepage: the other routes are found on the store by the first audit.
    routes = {r.name: (r.path, r.kind, r.budget_ms, r.confirmed) for r in site.routes.all()}
    assert routes == {"home": ("/", "page", 800, True)}


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ("localhost", "full domain"),
        ("10.0.0.1", "IP address"),
        ("bad_name.com", "not valid"),
        ("", "This field is required"),
    ],
)
def test_add_site_rejects_bad_domains_in_plain_words(client_as, member, workspace, domain, message):
    response = client_as(member).post(_url("site_create", workspace), {"domain": domain, "canonical": "apex"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Site.objects.exists()


def test_same_domain_twice_in_a_workspace_is_refused(client_as, member, workspace, site):
    response = client_as(member).post(
        _url("site_create", workspace), {"domain": "https://shop.example.com/", "canonical": "apex"}
    )
    assert "shop.example.com is already a site in this workspace" in response.content.decode()
    assert Site.objects.count() == 1


def test_same_domain_in_another_workspace_is_fine(client_as, stranger, site):
    other = stranger.memberships.get().workspace
    client_as(stranger).post(_url("site_create", other), {"domain": "shop.example.com", "canonical": "apex"})
    assert Site.objects.filter(domain="shop.example.com").count() == 2


def test_edit_with_bad_input_keeps_what_was_saved(client_as, member, workspace, site):
    c = client_as(member)
    response = c.post(
        _url("site_edit", workspace, site), {"domain": "not a domain", "name": "New", "canonical": "apex"}
    )
    assert response.status_code == 200 and "cannot contain spaces" in response.content.decode()
    # The form shows what was typed; the database still has the old values.
    assert 'value="not a domain"' in response.content.decode()
    site.refresh_from_db()
    assert (site.domain, site.name, site.canonical) == ("shop.example.com", "", "www")

    c.post(
        _url("site_edit", workspace, site),
        {"domain": "store.example.org", "name": "Store", "canonical": "apex"},
    )
    site.refresh_from_db()
    assert (site.domain, site.name, site.canonical) == ("store.example.org", "Store", "apex")


def test_email_settings(client_as, member, workspace, site):
    c = client_as(member)
    c.post(
        _url("site_email", workspace, site),
        {
            "sending_service": "google",
            "from_address": "orders@shop.example.com",
            "dkim_selectors": "google, S1 s2._domainkey",
        },
    )
    site.refresh_from_db()
    assert (site.sending_service, site.from_address, site.dkim_selectors) == (
        "google",
        "orders@shop.example.com",
        ["google", "s1", "s2"],
    )
    bad = c.post(
        _url("site_email", workspace, site),
        {"sending_service": "carrier-pigeon", "from_address": "nope", "dkim_selectors": "bad selector!"},
    )
    assert bad.status_code == 200
    text = bad.content.decode()
    assert (
        "Select a valid choice" in text
        and "valid email address" in text
        and "not a valid DKIM selector" in text
    )
    site.refresh_from_db()
    assert site.sending_service == "google" and site.dkim_selectors == ["google", "s1", "s2"]
    detail = c.get(_url("site_detail", workspace, site)).content.decode()
    assert "Google Workspace" in detail and "orders@shop.example.com" in detail


HX = {"HTTP_HX_REQUEST": "true"}


def test_routes_add_edit_remove_with_htmx(client_as, member, workspace, site):
    c = client_as(member)
    added = c.post(
        _url("route_add", workspace, site), {"name": "search", "path": "/api/search", "kind": "api"}, **HX
    )
    assert added.status_code == 200
    assert added.content.decode().lstrip().startswith('<section id="routes"')
    route = site.routes.get(name="search")
    assert (route.kind, route.budget_ms) == ("api", 500)  # default budget when left empty

    bad = c.post(
        _url("route_update", workspace, site, route=route.uuid),
        {"name": "search", "path": "no-slash", "kind": "api", "budget_ms": "300"},
        **HX,
    )
    assert "starts with “/”" in bad.content.decode()
    route.refresh_from_db()
    assert route.path == "/api/search"

    c.post(
        _url("route_update", workspace, site, route=route.uuid),
        {"name": "search", "path": "/api/v2/search", "kind": "api", "budget_ms": "300"},
        **HX,
    )
    route.refresh_from_db()
    assert (route.path, route.budget_ms) == ("/api/v2/search", 300)

    dup = c.post(
        _url("route_add", workspace, site), {"name": "cart", "path": "/basket", "kind": "page"}, **HX
    )
    assert "already a route called “cart”" in dup.content.decode()

    c.post(_url("route_delete", workspace, site, route=route.uuid), **HX)
    assert not CriticalRoute.objects.filter(pk=route.pk).exists()


def test_rows_work_without_javascript(client_as, member, workspace, site):
    response = client_as(member).post(
        _url("subdomain_add", workspace, site), {"name": "admin.shop.example.com", "purpose": "Back office"}
    )
    assert response["Location"] == _url("site_inputs", workspace, site) + "#subdomains"
    assert Subdomain.objects.get(site=site).name == "admin"
    bad = client_as(member).post(_url("subdomain_add", workspace, site), {"name": "bad name"})
    assert bad.status_code == 200 and "not a valid subdomain" in bad.content.decode()
    assert b"<html" in bad.content  # the full page, with the error in place
    assert 'id="routes"' in bad.content.decode()  # the inputs page: every form of the section


def test_subdomains_and_campaign_urls(client_as, member, workspace, site):
    c = client_as(member)
    c.post(_url("subdomain_add", workspace, site), {"name": "Staging", "owner": "Agency"}, **HX)
    dup = c.post(_url("subdomain_add", workspace, site), {"name": "staging"}, **HX)
    assert "staging.shop.example.com is already listed" in dup.content.decode()
    sub = Subdomain.objects.get(site=site)
    c.post(_url("subdomain_delete", workspace, site, subdomain=sub.uuid), **HX)
    assert not Subdomain.objects.exists()

    c.post(
        _url("campaign_url_add", workspace, site),
        {"url": "https://shop.example.com/bf-2024", "note": "Ads"},
        **HX,
    )
    camp = CampaignURL.objects.get(site=site)
    assert camp.note == "Ads"
    bad = c.post(_url("campaign_url_add", workspace, site), {"url": "not a url"}, **HX)
    assert "Enter a valid URL" in bad.content.decode()
    c.post(_url("campaign_url_delete", workspace, site, campaign_url=camp.uuid), **HX)
    assert not CampaignURL.objects.exists()


def test_rows_of_another_site_are_404(client_as, member, workspace, site):
    other = Site.objects.create(workspace=workspace, domain="other.example.com")
    foreign_route = CriticalRoute.objects.create(site=other, name="home", path="/")
    url = _url("route_delete", workspace, site, route=foreign_route.uuid)
    assert client_as(member).post(url).status_code == 404
    assert CriticalRoute.objects.filter(pk=foreign_route.pk).exists()


def test_delete_site_after_confirmation(client_as, member, workspace, site):
    c = client_as(member)
    confirm = c.get(_url("site_delete", workspace, site))
    assert b"cannot be undone" in confirm.content
    assert c.post(_url("site_delete", workspace, site))["Location"] == _url("site_list", workspace)
    assert not Site.objects.exists()


def test_site_detail_empty_states_and_audit_panel(client_as, viewer, workspace, site):
    c = client_as(viewer)
    page = c.get(_url("site_detail", workspace, site)).content.decode()
    assert "Run your first audit" in page and 'id="audit"' in page
    assert reverse("email_overview", kwargs={"workspace": workspace.uuid, "site": site.uuid}) in page
    inputs = c.get(_url("site_inputs", workspace, site)).content.decode()
    assert "No subdomains declared" in inputs and "No campaign URLs" in inputs
    assert "Add a route" not in inputs  # viewers see no edit controls


def test_what_the_audit_checks_is_drawn_when_opened(client_as, member, workspace, site):
    """Folded on the site page, without its forms: opening it fetches them (htmx); without
    JavaScript its link opens them as a page, where the forms come back to."""
    c = client_as(member)
    page = c.get(_url("site_detail", workspace, site)).content.decode()
    inputs_url = _url("site_inputs", workspace, site)
    fold = page[page.index('id="audit-inputs"') : page.index("</details>", page.index('id="audit-inputs"'))]
    assert f'hx-get="{inputs_url}"' in fold and f'href="{inputs_url}"' in fold
    assert 'id="routes"' not in page and "Add a route" not in page
    section = c.get(inputs_url, HTTP_HX_REQUEST="true").content.decode()
    assert section.lstrip().startswith('<section id="routes"') and "<html" not in section
    assert "Add a route" in section and 'id="subdomains"' in section and 'id="campaign-urls"' in section
    full = c.get(inputs_url).content.decode()
    assert "<html" in full and "Add a route" in full and "What the audit checks" in full


def test_what_the_audit_checks_is_the_workspaces_own(client_as, stranger, workspace, site):
    assert client_as(stranger).get(_url("site_inputs", workspace, site)).status_code == 404


def test_other_workspaces_site_is_404_even_for_a_member(client_as, member, workspace, stranger):
    foreign = Site.objects.create(workspace=stranger.memberships.get().workspace, domain="theirs.example.com")
    url = reverse("site_detail", kwargs={"workspace": workspace.uuid, "site": foreign.uuid})
    assert client_as(member).get(url).status_code == 404


def test_apps_plug_panels_into_the_site_page(client_as, viewer, workspace, site, tmp_path, settings):
    (tmp_path / "audits").mkdir()
    (tmp_path / "audits" / "site_audit_panel.html").write_text("<p>Verdict for {{ site.domain }}: GO</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    page = client_as(viewer).get(_url("site_detail", workspace, site)).content.decode()
    assert "Verdict for shop.example.com: GO" in page
    assert "Run your first audit" not in page

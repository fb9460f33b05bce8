"""Sites: list, add, detail, edit, email settings, delete."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from . import pagecache, selectors
from .forms import CampaignURLForm, RouteForm, SiteEmailForm, SiteForm, SubdomainForm
from .models import CriticalRoute, Membership, Role, Site
from .site_routes import add_starting_routes
from .views_common import is_htmx, workspace_view

logger = logging.getLogger(__name__)


def add_standard_routes(site: Site) -> None:
    """What a new site starts with: its homepage, confirmed. The other routes are found on
    the store by the first audit and shown for confirmation (launchready.site_routes)."""
    add_starting_routes(site)


def route_rows(site: Site, bound: RouteForm | None = None) -> list[tuple[CriticalRoute, RouteForm]]:
    """Each route with its inline edit form; ``bound`` replaces the form of the row that failed."""
    rows = []
    for route in site.routes.all():
        if bound is not None and bound.instance.pk == route.pk:
            rows.append((route, bound))
        else:
            rows.append((route, RouteForm(instance=route, site=site, auto_id=f"route-{route.uuid}-%s")))
    return rows


def site_context(site: Site, **overrides) -> dict:
    """What the audit checks (routes with their edit forms, subdomains, campaign URLs): the
    site's inputs page, its htmx sections and the site page's folded section when opened."""
    context = {
        "site": site,
        "routes": route_rows(site, overrides.pop("bound_route", None)),
        "routes_to_confirm": site.routes.filter(confirmed=False).count(),
        "route_form": RouteForm(site=site, auto_id="route-new-%s"),
        "subdomains": list(site.subdomains.all()),
        "subdomain_form": SubdomainForm(site=site, auto_id="subdomain-new-%s"),
        "campaign_urls": list(site.campaign_urls.all()),
        "campaign_url_form": CampaignURLForm(site=site, auto_id="campaign-new-%s"),
    }
    context.update(overrides)
    return context


@workspace_view()
@pagecache.workspace_page()
def site_list(request: HttpRequest, m: Membership) -> HttpResponse:
    return render(request, "sites/list.html", {"sites": selectors.site_list(m.workspace)})


@workspace_view(write=Role.MEMBER, read=Role.MEMBER)
def site_create(request: HttpRequest, m: Membership) -> HttpResponse:
    form = SiteForm(request.POST or None, workspace=m.workspace)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            site = form.save(commit=False)
            site.workspace = m.workspace
            site.save()
            add_standard_routes(site)
        logger.info("site added workspace=%s site=%s", m.workspace.uuid, site.uuid)
        messages.success(
            request,
            f"{site.domain} added. Run your first audit: it finds your store's product, cart and "
            "login pages for you to confirm.",
        )
        return redirect("site_detail", workspace=m.workspace.uuid, site=site.uuid)
    return render(request, "sites/create.html", {"form": form})


@workspace_view()
@pagecache.workspace_page()
def site_detail(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    """The site's panels; "What the audit checks" is folded and drawn only when opened
    (``site_inputs``): its route edit forms cost more than the rest of the page."""
    context = {"site": site, "routes_to_confirm": site.routes.filter(confirmed=False).count()}
    return render(request, "sites/detail.html", context)


@workspace_view()
def site_inputs(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    """What the audit checks: into the site page's folded section when opened (htmx), or a
    page of its own (the section's link without JavaScript, where its forms come back to)."""
    template = "sites/_audit_inputs.html" if is_htmx(request) else "sites/inputs.html"
    return render(request, template, site_context(site))


def _site_form(
    request: HttpRequest, m: Membership, site: Site, form, template: str, saved: str
) -> HttpResponse:
    """Show or save a form on the site; bad input is shown again and nothing saved is lost."""
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, saved)
            return redirect("site_detail", workspace=m.workspace.uuid, site=site.uuid)
        # A failed ModelForm has already written the bad values onto the instance.
        site.refresh_from_db()
    return render(request, template, {"form": form, "site": site})


@workspace_view(write=Role.MEMBER, read=Role.MEMBER)
def site_edit(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    form = SiteForm(request.POST or None, instance=site, workspace=m.workspace)
    return _site_form(request, m, site, form, "sites/edit.html", "Site saved.")


@workspace_view(write=Role.MEMBER, read=Role.MEMBER)
def site_email(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    form = SiteEmailForm(request.POST or None, instance=site)
    return _site_form(request, m, site, form, "sites/email.html", "Email sending settings saved.")


@workspace_view(write=Role.MEMBER, read=Role.MEMBER)
def site_delete(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    if request.method == "POST":
        domain = site.domain
        site.delete()
        logger.info("site deleted workspace=%s domain=%s", m.workspace.uuid, domain)
        messages.success(request, f"{domain} and everything recorded about it was deleted.")
        return redirect("site_list", workspace=m.workspace.uuid)
    return render(request, "sites/delete.html", {"site": site})

"""Rows of a site: critical routes, subdomains and campaign URLs.

Each action works as a plain form POST (redirect back to the site's inputs page, where the
forms are without JavaScript) and, when sent by htmx, answers with just the re-rendered
section so the page (the site page's opened fold, or the inputs page) updates in place.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from . import selectors, site_routes
from .forms import CampaignURLForm, RouteForm, SubdomainForm
from .models import Membership, Role, Site
from .views_common import is_htmx, workspace_view
from .views_sites import site_context

logger = logging.getLogger(__name__)

SECTIONS = {
    "routes": "sites/_routes.html",
    "subdomains": "sites/_subdomains.html",
    "campaign-urls": "sites/_campaign_urls.html",
}


def _respond(request: HttpRequest, site: Site, section: str, *, ok: bool, **overrides) -> HttpResponse:
    if is_htmx(request):
        return render(request, SECTIONS[section], site_context(site, **overrides))
    if ok:
        url = reverse("site_inputs", kwargs={"workspace": site.workspace.uuid, "site": site.uuid})
        return redirect(f"{url}#{section}")
    return render(request, "sites/inputs.html", site_context(site, **overrides))


def _add(
    request: HttpRequest, site: Site, form_class, section: str, prefix: str, context_key: str
) -> HttpResponse:
    """Add one row from a posted form; on bad input the section shows the form with its errors."""
    form = form_class(request.POST, site=site, auto_id=f"{prefix}-new-%s")
    if form.is_valid():
        form.save()
        return _respond(request, site, section, ok=True)
    return _respond(request, site, section, ok=False, **{context_key: form})


@workspace_view(write=Role.MEMBER, methods=["POST"])
def route_add(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    return _add(request, site, RouteForm, "routes", "route", "route_form")


@workspace_view(write=Role.MEMBER, methods=["POST"])
def route_update(request: HttpRequest, m: Membership, site: Site, route) -> HttpResponse:
    obj = selectors.route_in(site, route)
    form = RouteForm(request.POST, instance=obj, site=site, auto_id=f"route-{obj.uuid}-%s")
    if form.is_valid():
        form.save()
        return _respond(request, site, "routes", ok=True, saved_route=obj.uuid)
    return _respond(request, site, "routes", ok=False, bound_route=form)


@workspace_view(write=Role.MEMBER, methods=["POST"])
def route_confirm_all(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    """Confirm every route the audit found: from now on each is timed and gets a monitor."""
    confirmed = site_routes.confirm_all(site)
    logger.info("routes confirmed workspace=%s site=%s count=%d", m.workspace.uuid, site.uuid, confirmed)
    return _respond(request, site, "routes", ok=True)


@workspace_view(write=Role.MEMBER, methods=["POST"])
def route_delete(request: HttpRequest, m: Membership, site: Site, route) -> HttpResponse:
    selectors.route_in(site, route).delete()
    return _respond(request, site, "routes", ok=True)


@workspace_view(write=Role.MEMBER, methods=["POST"])
def subdomain_add(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    return _add(request, site, SubdomainForm, "subdomains", "subdomain", "subdomain_form")


@workspace_view(write=Role.MEMBER, methods=["POST"])
def subdomain_delete(request: HttpRequest, m: Membership, site: Site, subdomain) -> HttpResponse:
    selectors.subdomain_in(site, subdomain).delete()
    return _respond(request, site, "subdomains", ok=True)


@workspace_view(write=Role.MEMBER, methods=["POST"])
def campaign_url_add(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    return _add(request, site, CampaignURLForm, "campaign-urls", "campaign", "campaign_url_form")


@workspace_view(write=Role.MEMBER, methods=["POST"])
def campaign_url_delete(request: HttpRequest, m: Membership, site: Site, campaign_url) -> HttpResponse:
    selectors.campaign_url_in(site, campaign_url).delete()
    return _respond(request, site, "campaign-urls", ok=True)

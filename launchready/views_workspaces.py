"""Home, the workspaces page, workspace overview and settings, and the handover tab."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_http_methods

from handover.document import workspace_states

from . import fragments, pagecache, selectors, tenancy
from .forms import WorkspaceForm
from .models import Membership, Role
from .views_common import SESSION_WORKSPACE_KEY, workspace_view

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "landing.html")
    m = selectors.last_used_membership(request.user, request.session.get(SESSION_WORKSPACE_KEY))
    if m is None:
        return redirect("workspace_list")
    return redirect("workspace_overview", workspace=m.workspace.uuid)


@login_required
@require_http_methods(["GET", "HEAD"])
@pagecache.user_page()
def workspace_list(request: HttpRequest) -> HttpResponse:
    context = {
        "memberships": selectors.workspace_list(request.user),
        "invitations": selectors.open_invitations_for(request.user),
    }
    return render(request, "workspace/list.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def workspace_create(request: HttpRequest) -> HttpResponse:
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        m = tenancy.create_workspace(request.user, form.cleaned_data["name"], form.cleaned_data["timezone"])
        messages.success(request, f"Workspace “{m.workspace.name}” created. Add your first site.")
        return redirect("workspace_overview", workspace=m.workspace.uuid)
    return render(request, "workspace/create.html", {"form": form})


@workspace_view()
@pagecache.workspace_page(params=("page",))
def workspace_overview(request: HttpRequest, m: Membership) -> HttpResponse:
    """The site cards, worst first and paged, and the panels below them come from the cache
    (``fragments``): a new audit, a site or workspace saved drops them; the panels read
    ``sites`` only when they are drawn."""
    page_number = _page_number(request.GET.get("page"))
    cards = fragments.cached(
        "overview_cards", m.workspace_id, (page_number,), lambda: _site_cards(m.workspace, page_number)
    )
    context = {
        "has_sites": selectors.sites_for(m.workspace).exists(),
        "sites": SimpleLazyObject(lambda: list(selectors.site_list(m.workspace)[:50])),
        "site_cards": cards,
    }
    return render(request, "workspace/overview.html", context)


def _page_number(raw: str | None) -> int:
    """A page number for the cache key: anything else is the first page, a number past the
    last page shows the last (``Paginator.get_page``); bounded so no query string grows the cache."""
    return min(int(raw), 10_000) if raw and raw.isdigit() and int(raw) > 0 else 1


def _site_cards(workspace, page_number: int) -> str:
    page = Paginator(selectors.overview_sites(workspace), selectors.SITES_PER_PAGE).get_page(page_number)
    # A request of its own: the cards' audit statuses are computed once per request
    # (audit_tags) and must be those of this page's sites, not of the panels' list.
    context = {
        "workspace": workspace,
        "sites": list(page.object_list),
        "page": page,
        "request": HttpRequest(),
    }
    return render_to_string("workspace/_site_cards.html", context)


@workspace_view(write=Role.ADMIN)
def workspace_settings(request: HttpRequest, m: Membership) -> HttpResponse:
    form = WorkspaceForm(request.POST or None, instance=m.workspace)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Workspace settings saved.")
        return redirect("workspace_settings", workspace=m.workspace.uuid)
    return render(request, "workspace/settings.html", {"form": form, "read_only": not m.can(Role.ADMIN)})


@workspace_view()
@pagecache.workspace_page()
def workspace_handover(request: HttpRequest, m: Membership) -> HttpResponse:
    """Per site: the handover document's state (checklist, services, share links) and its links,
    drawn once per workspace version and role (``fragments``): ``states`` is read only then."""
    sites = selectors.sites_for(m.workspace).order_by("domain")[:200]
    return render(
        request, "workspace/handover.html", {"states": SimpleLazyObject(lambda: workspace_states(sites))}
    )

"""Home, the workspaces page, workspace overview and settings, and the handover tab."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from handover.document import workspace_states

from . import selectors, tenancy
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
def workspace_overview(request: HttpRequest, m: Membership) -> HttpResponse:
    sites = list(selectors.site_list(m.workspace)[:50])
    return render(request, "workspace/overview.html", {"sites": sites})


@workspace_view(write=Role.ADMIN)
def workspace_settings(request: HttpRequest, m: Membership) -> HttpResponse:
    form = WorkspaceForm(request.POST or None, instance=m.workspace)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Workspace settings saved.")
        return redirect("workspace_settings", workspace=m.workspace.uuid)
    return render(request, "workspace/settings.html", {"form": form, "read_only": not m.can(Role.ADMIN)})


@workspace_view()
def workspace_handover(request: HttpRequest, m: Membership) -> HttpResponse:
    """Per site: the handover document's state (checklist, services, share links) and its links."""
    sites = selectors.sites_for(m.workspace).order_by("domain")[:200]
    return render(request, "workspace/handover.html", {"states": workspace_states(sites)})

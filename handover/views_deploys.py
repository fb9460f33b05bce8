"""Deploy pages of a site: history and CI set-up, one deploy, smoke-test settings, rollbacks.

Mounted at ``/w/<uuid:workspace>/sites/<uuid:site>/deploys/`` (handover/urls_deploys.py).
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from launchready.models import Membership, Role, Site
from launchready.views_common import workspace_view

from . import deploys
from .ci_steps import ci_steps
from .forms_deploys import RollbackPlanForm, RollbackRecordForm, SmokeRouteForm
from .models.deploys import RollbackPlan

logger = logging.getLogger(__name__)


@workspace_view()
def deploy_list(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    api_url = request.build_absolute_uri(reverse("api:deploys"))
    return render(
        request,
        "handover/deploy_list.html",
        {
            "site": site,
            "environments": deploys.history(site, per_environment=25, scan=500),
            "ci": ci_steps(api_url, site),
        },
    )


@workspace_view()
def deploy_detail(request: HttpRequest, m: Membership, site: Site, deploy) -> HttpResponse:
    found = deploys.deploy_in(site, deploy)
    good = deploys.last_known_good(site).get(found.environment)
    return render(
        request,
        "handover/deploy_detail.html",
        {
            "site": site,
            "deploy": found,
            "results": list(found.smoke_results.all()),
            "last_known_good": good,
            "rollback_record": getattr(found, "rollback_record", None) if found.is_rollback else None,
            "rolled_back_by": found.rollbacks.order_by("-created_at").first(),
        },
    )


@workspace_view(write=Role.MEMBER)
def smoke_settings(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    rows = [
        (
            route,
            SmokeRouteForm(
                request.POST or None,
                prefix=route.name,
                initial={"included": setting.included, "smoke_keyword": setting.smoke_keyword},
            ),
        )
        for route, setting in deploys.smoke_settings(site)
    ]
    if not m.can(Role.MEMBER):
        for _, form in rows:
            for f in form.fields.values():
                f.disabled = True
    if request.method == "POST" and all(form.is_valid() for _, form in rows):
        deploys.save_smoke_settings(
            site,
            {
                route.name: (form.cleaned_data["included"], form.cleaned_data["smoke_keyword"])
                for route, form in rows
            },
        )
        messages.success(request, "Smoke test settings saved: the next deploy uses them.")
        return redirect("deploy_list", workspace=m.workspace.uuid, site=site.uuid)
    status = 400 if request.method == "POST" else 200
    return render(request, "handover/deploy_smoke_settings.html", {"site": site, "rows": rows}, status=status)


def _rollback_page(
    request: HttpRequest, site: Site, form: RollbackRecordForm, plan_form: RollbackPlanForm, status: int = 200
) -> HttpResponse:
    own_steps, default_steps = deploys.rollback_steps(site)
    return render(
        request,
        "handover/deploy_rollback.html",
        {
            "site": site,
            "form": form,
            "plan_form": plan_form,
            "own_steps": own_steps,
            "default_steps": default_steps,
            "last_known_good": deploys.last_known_good(site),
            "rollbacks": list(site.rollbacks.select_related("deploy")[:20]),
        },
        status=status,
    )


def _record_initial(site: Site, deploy_uuid: str | None) -> dict:
    """From a failed deploy's "roll back" link: its version and the environment's last known good."""
    if not deploy_uuid:
        return {}
    try:
        failed = deploys.deploy_in(site, deploy_uuid)
    except Http404:
        return {}
    good = deploys.last_known_good(site).get(failed.environment)
    return {
        "kind": "real",
        "environment": failed.environment,
        "from_version": failed.version,
        "to_version": good.version if good else "",
    }


@workspace_view(write=Role.MEMBER)
def rollback_checklist(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    form = RollbackRecordForm(
        request.POST or None,
        site=site,
        user=request.user,
        initial=_record_initial(site, request.GET.get("deploy")),
    )
    if request.method == "POST":
        if form.is_valid():
            rollback = form.save()
            logger.info(
                "rollback recorded site=%s rollback=%s kind=%s", site.uuid, rollback.uuid, rollback.kind
            )
            messages.success(
                request, f"{rollback.get_kind_display()} recorded: {rollback.minutes:g} minutes."
            )
            return redirect("deploy_rollback", workspace=m.workspace.uuid, site=site.uuid)
        return _rollback_page(request, site, form, _plan_form(site), status=400)
    return _rollback_page(request, site, form, _plan_form(site))


def _plan_form(site: Site, data=None) -> RollbackPlanForm:
    plan = RollbackPlan.objects.filter(site=site).first() or RollbackPlan(site=site)
    return RollbackPlanForm(data, instance=plan)


@workspace_view(write=Role.MEMBER, methods=["POST"])
def rollback_steps(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    plan_form = _plan_form(site, request.POST)
    if not plan_form.is_valid():
        form = RollbackRecordForm(site=site, user=request.user)
        return _rollback_page(request, site, form, plan_form, status=400)
    plan_form.save()
    messages.success(request, "Rollback steps saved.")
    return redirect("deploy_rollback", workspace=m.workspace.uuid, site=site.uuid)

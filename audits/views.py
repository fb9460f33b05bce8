"""Audit pages of a site: run now, live progress, run detail, Markdown export, accepted
risks, share links, the daily audit and ownership verification; plus the public
read-only page a share link opens.

Mounted at /w/<uuid:workspace>/sites/<uuid:site>/audits/ (audits/urls.py) and
/share/<token>/ (audits/public_urls.py). Every object is reached through the site the
decorator already scoped to the workspace, so a stranger gets 404.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from audits import ownership, presenters, services, sharing, tasks
from audits.forms import AcceptRiskForm, DailyAuditForm, ShareLinkForm
from audits.models import AcceptedRisk, AuditRun, Finding, ShareLink
from audits.report_text import render_markdown
from launchready.formats import human_date
from launchready.models import Membership, Role, Site
from launchready.selectors import get_or_404
from launchready.views_common import is_htmx, workspace_view

logger = logging.getLogger(__name__)


# --- access helpers: objects of this site, or 404 -----------------------------------


def run_in(site: Site, run_uuid) -> AuditRun:
    run = get_or_404(AuditRun.objects.filter(site=site), uuid=run_uuid)
    run.site = site
    return run


def finding_in(site: Site, finding_uuid) -> Finding:
    return get_or_404(Finding.objects.filter(run__site=site).select_related("run"), uuid=finding_uuid)


def acceptance_in(site: Site, uuid) -> AcceptedRisk:
    return get_or_404(AcceptedRisk.objects.filter(site=site), uuid=uuid)


def share_in(site: Site, uuid) -> ShareLink:
    return get_or_404(ShareLink.objects.filter(site=site), uuid=uuid)


def _back_to_site(m: Membership, site: Site, anchor: str = "audit") -> HttpResponse:
    url = reverse("site_detail", kwargs={"workspace": m.workspace.uuid, "site": site.uuid})
    return redirect(f"{url}#{anchor}")


# --- running an audit ----------------------------------------------------------------


@workspace_view(write=Role.MEMBER, methods=("POST",))
def audit_start(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    run = tasks.start_audit(site, user=request.user)
    logger.info("audit requested site=%s run=%s by=%s", site.uuid, run.uuid, request.user.pk)
    messages.success(request, f"Audit of {site.domain} started. This page updates as it runs.")
    return _back_to_site(m, site)


@workspace_view()
def run_progress(request: HttpRequest, m: Membership, site: Site, run) -> HttpResponse:
    """The small partial htmx polls every 2 s; once the run is over, the page reloads."""
    run = run_in(site, run)
    response = render(
        request,
        "audits/_progress.html",
        {"run": run, "states": presenters.progress_states(run), "site": site},
    )
    if run.is_finished and is_htmx(request):
        response["HX-Refresh"] = "true"
    return response


@workspace_view()
def run_detail(request: HttpRequest, m: Membership, site: Site, run) -> HttpResponse:
    run = run_in(site, run)
    context = {"site": site, "run": run, "states": presenters.progress_states(run)}
    if run.status == AuditRun.Status.DONE:
        context["rr"] = presenters.run_report(run)
        context["resolved"] = services.resolved_findings(run)
    return render(request, "audits/run_detail.html", context)


@workspace_view()
def run_export(request: HttpRequest, m: Membership, site: Site, run) -> HttpResponse:
    run = run_in(site, run)
    if run.status != AuditRun.Status.DONE:
        raise Http404("This audit has no report yet.")
    report, accepted = services.report_for_run(run)
    started = run.started_at or run.created_at
    text = render_markdown(
        site.domain, report, started_at=started, duration_ms=run.duration_ms, accepted=accepted
    )
    filename = f"launch-audit-{site.domain}-{started:%Y-%m-%d}.md"
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- accepted risks ------------------------------------------------------------------


@workspace_view(write=Role.MEMBER, read=Role.MEMBER)
def finding_accept(request: HttpRequest, m: Membership, site: Site, finding) -> HttpResponse:
    finding = finding_in(site, finding)
    form = AcceptRiskForm(request.POST or None, tz=m.workspace.timezone)
    if request.method == "POST" and form.is_valid():
        AcceptedRisk.objects.update_or_create(
            site=site,
            check_id=finding.check_id,
            subject=finding.subject,
            defaults={
                "reason": form.cleaned_data["reason"],
                "expires_at": form.expires_at(),
                "accepted_by": request.user,
            },
        )
        logger.info("risk accepted site=%s check=%s", site.uuid, finding.check_id)
        messages.success(
            request, f"Accepted “{finding.title}” until {human_date(form.cleaned_data['expires_on'])}."
        )
        return _back_to_site(m, site, "accepted")
    return render(request, "audits/accept_risk.html", {"site": site, "finding": finding, "form": form})


@workspace_view(write=Role.MEMBER, methods=("POST",))
def acceptance_revoke(request: HttpRequest, m: Membership, site: Site, accepted_risk) -> HttpResponse:
    risk = acceptance_in(site, accepted_risk)
    risk.delete()
    logger.info("risk acceptance revoked site=%s check=%s", site.uuid, risk.check_id)
    messages.success(request, f"{risk.check_id} on {risk.subject} counts again from the next report.")
    return _back_to_site(m, site)


# --- share links ---------------------------------------------------------------------


@workspace_view(write=Role.MEMBER, read=Role.MEMBER)
def share_links(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    form = ShareLinkForm(request.POST or None)
    new_url = None
    if request.method == "POST" and form.is_valid():
        _, token = sharing.create_link(site, user=request.user, days=form.cleaned_data["days"])
        new_url = request.build_absolute_uri(reverse("audit_shared_report", kwargs={"token": token}))
        form = ShareLinkForm()
    links = list(site.share_links.select_related("created_by").order_by("-created_at"))
    for link in links:
        link.revoke_url = reverse(
            "audit_share_revoke",
            kwargs={"workspace": m.workspace.uuid, "site": site.uuid, "share": link.uuid},
        )
    context = {"site": site, "form": form, "links": links, "new_url": new_url}
    return render(request, "audits/share_links.html", context)


@workspace_view(write=Role.MEMBER, methods=("POST",))
def share_revoke(request: HttpRequest, m: Membership, site: Site, share) -> HttpResponse:
    sharing.revoke(share_in(site, share))
    messages.success(request, "The link no longer works.")
    return redirect("audit_share_links", workspace=m.workspace.uuid, site=site.uuid)


@require_safe
def shared_report(request: HttpRequest, token: str) -> HttpResponse:
    """The public, read-only report behind a share link: no login, no workspace navigation."""
    link = sharing.link_for_token(token)
    if link is None:
        raise Http404("No such link.")
    if not link.is_active:
        response = render(request, "audits/share_gone.html", {"link": link}, status=410)
    else:
        site = link.site
        run = site.audit_runs.defer("facts").filter(status=AuditRun.Status.DONE).first()
        rr = None
        if run is not None:
            run.site = site
            rr = presenters.run_report(run, public=True)
        response = render(request, "audits/shared_report.html", {"site": site, "rr": rr, "link": link})
    # The token is the secret: keep it out of search engines, caches and Referer headers.
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store, private"
    return response


# --- site settings: daily audit, ownership -------------------------------------------


@workspace_view(write=Role.MEMBER, methods=("POST",))
def daily_toggle(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    form = DailyAuditForm(request.POST)
    form.is_valid()  # a lone optional checkbox is always valid
    enabled = form.cleaned_data.get("daily_enabled", False)
    with transaction.atomic():
        row = services.audit_settings(site)
        row.daily_enabled = enabled
        if enabled and row.next_daily_at is None:
            row.next_daily_at = timezone.now()
        row.save(update_fields=["daily_enabled", "next_daily_at"])
    messages.success(request, "Daily audits are on." if enabled else "Daily audits are off.")
    return _back_to_site(m, site, "audit-settings")


@workspace_view(write=Role.MEMBER, methods=("POST",))
def ownership_check(request: HttpRequest, m: Membership, site: Site) -> HttpResponse:
    check = services.verify_ownership(site)
    if check.verified:
        how = "DNS record" if check.method == ownership.Method.DNS else "verification file"
        messages.success(request, f"{site.domain} is verified (found the {how}).")
    else:
        messages.error(request, f"Not verified yet. {check.summary}")
    return _back_to_site(m, site, "ownership")

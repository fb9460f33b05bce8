"""A founder presses "Run audit", the worker runs it against the sandbox's broken demo
store, and the site page, the Markdown export and a share link show the real report."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from audits.models import AuditRun
from audits.tasks import run_audit_task
from launchready.models import Site
from launchready.views_sites import add_standard_routes

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def broken(sandbox_scenario):
    return sandbox_scenario("demo_broken")


def test_run_audit_then_read_the_report(broken, client_as, member, workspace):
    site = Site.objects.create(workspace=workspace, domain="broken-store.test", canonical=Site.Canonical.WWW)
    add_standard_routes(site)
    site.routes.update(path="/")  # keep the samples few and the paths real
    client = client_as(member)
    ws = {"workspace": workspace.uuid, "site": site.uuid}

    assert client.post(reverse("audit_start", kwargs=ws)).status_code == 302
    run = AuditRun.objects.get(site=site)
    page = client.get(reverse("site_detail", kwargs=ws)).content.decode()
    assert 'hx-trigger="every 2s"' in page and "Audit queued" in page

    run_audit_task(run.pk)  # what the worker does once the request has committed
    run.refresh_from_db()
    assert run.status == AuditRun.Status.DONE, run.error

    partial = client.get(
        reverse("audit_run_progress", kwargs={**ws, "run": run.uuid}), HTTP_HX_REQUEST="true"
    )
    assert partial["HX-Refresh"] == "true"

    page = re.sub(r"\s+", " ", client.get(reverse("site_detail", kwargs=ws)).content.decode())
    assert '<p class="verdict-headline">Not ready</p>' in page
    plan = page[page.index("The 48-hour plan") : page.index("By roadmap stage")]
    assert "sev-blocker" in plan and "Why it matters" in plan and "How to fix" in plan
    assert 'hx-trigger="every' not in page  # no more polling (the owners panel still loads once)

    export = client.get(reverse("audit_run_export", kwargs={**ws, "run": run.uuid})).content.decode()
    assert export.startswith("# Launch audit of broken-store.test") and "NOT READY" in export
    assert "exposure.env_file" in export

"""The handover document of a sandbox store after two real audits.

The good demo store (sandbox/scenarios/demo_good.yaml) is audited by the audit task,
like the daily audit does; between the two audits the workspace adds an escalation
contact, so ``monitoring.escalation_contact_missing`` is resolved by the second audit.
A risk is accepted, and variables are imported from a pasted ``.env`` (values dropped).
"""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone

from audits.models import AcceptedRisk, AuditRun
from audits.tasks import run_audit_task
from handover import document, links
from handover.envfile import parse_env
from handover.models import EnvVar
from launchready.models import Site
from launchready.views_sites import add_standard_routes
from monitoring.models import EscalationContact

SECRET_VALUES = (
    "sk_live_51HxQz8Lk2mN4pR7sT9vW",
    "hunter2-correct-horse",
    "postgres://shop:Pa55word@db.internal/shop",
)
PASTED_ENV = f"""
# Stripe secret key for payments
STRIPE_SECRET_KEY={SECRET_VALUES[0]}
# Admin password (optional)
ADMIN_PASSWORD="{SECRET_VALUES[1]}"
DATABASE_URL={SECRET_VALUES[2]}
"""


@pytest.fixture(scope="module")
def good(sandbox_scenario):
    return sandbox_scenario("demo_good")


def audit(site: Site, days_ago: int) -> AuditRun:
    run = AuditRun.objects.create(site=site)
    assert run_audit_task(run.pk) == "done"
    when = timezone.now() - dt.timedelta(days=days_ago)
    AuditRun.objects.filter(pk=run.pk).update(
        created_at=when, started_at=when, finished_at=when + dt.timedelta(seconds=20)
    )
    run.refresh_from_db()
    return run


@pytest.fixture
def store(good, workspace, owner, db) -> tuple[Site, AuditRun, AuditRun]:
    site = Site.objects.create(workspace=workspace, domain="good-store.test", canonical=Site.Canonical.WWW)
    add_standard_routes(site)
    first = audit(site, days_ago=12)
    assert first.findings.filter(check_id="monitoring.escalation_contact_missing").exists()
    EscalationContact.objects.create(workspace=workspace, name="Ana Silva", email="ana@good-store.test")
    second = audit(site, days_ago=2)
    assert not second.findings.filter(check_id="monitoring.escalation_contact_missing").exists()
    AcceptedRisk.objects.create(
        site=site,
        check_id="monitoring.heartbeat_missing",
        subject="good-store.test",
        reason="Order emails are sent by the platform; no job of ours to watch yet.",
        expires_at=timezone.now() + dt.timedelta(days=45),
        accepted_by=owner,
    )
    parsed = parse_env(PASTED_ENV)
    EnvVar.objects.bulk_create(
        [
            EnvVar(site=site, environment="production", name=v.name, purpose=v.purpose, required=v.required)
            for v in parsed.variables
        ]
    )
    EnvVar.objects.filter(site=site, name="STRIPE_SECRET_KEY").update(
        storage=EnvVar.Storage.HOSTING, storage_detail="Vercel project settings"
    )
    EnvVar.objects.filter(site=site, name="DATABASE_URL").update(storage=EnvVar.Storage.SECRET_MANAGER)
    return site, first, second


def test_what_changed_since_the_first_audit(store):
    site, first, second = store
    site = Site.objects.select_related("workspace").get(pk=site.pk)
    doc = document.build(site)
    assert doc.audits.runs == 2
    assert doc.audits.first_at == first.finished_at and doc.audits.latest_at == second.finished_at
    resolved = {r.check: r for r in doc.resolved}
    fixed = resolved["monitoring.escalation_contact_missing"]
    assert fixed.resolved_on == second.finished_at
    assert fixed.found_on == first.created_at
    assert fixed.subject == "good-store.test"
    # Still open or accepted is never "resolved".
    assert "monitoring.heartbeat_missing" not in resolved
    assert "monitoring.heartbeat_missing" not in {o.check for o in doc.open}
    assert {o.check for o in doc.open} <= {f.check_id for f in second.findings.all()}


def test_accepted_risk_shows_reason_and_expiry(store):
    site, _, _ = store
    (accepted,) = document.build(site).accepted
    assert accepted.check == "monitoring.heartbeat_missing"
    assert accepted.reason.startswith("Order emails are sent by the platform")
    assert accepted.accepted_by == "owner@example.com"
    assert (accepted.expires_at - timezone.now()).days in (44, 45)
    assert document.build(site, public=True).accepted[0].accepted_by == ""


def test_page_markdown_and_pdf_show_the_history(store, client_as, member, workspace):
    site, first, second = store
    kwargs = {"workspace": workspace.uuid, "site": site.uuid}
    page = client_as(member).get(reverse("handover_document", kwargs=kwargs)).content.decode()
    markdown = client_as(member).get(reverse("handover_markdown", kwargs=kwargs)).content.decode()
    data = client_as(member).get(reverse("handover_pdf", kwargs=kwargs)).content
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages).split())

    fixed_on = second.finished_at.astimezone(zoneinfo.ZoneInfo(workspace.timezone))
    long_date = f"{fixed_on.day} {fixed_on:%B %Y}"
    title = first.findings.get(check_id="monitoring.escalation_contact_missing").title
    row = next(line for line in markdown.splitlines() if title in line)
    assert row.startswith(f"| {long_date} | "), row
    page_row = page[page.index(title) - 300 : page.index(title)]
    assert f"{fixed_on.day} {fixed_on:%B %Y}" in page_row
    assert long_date in text and title in text and "What changed since the first audit" in text
    expires = timezone.localtime(AcceptedRisk.objects.get(site=site).expires_at)
    for body in (page, markdown, text):
        assert "Order emails are sent by the platform" in body
    assert f"Accepted until {expires.day} {expires:%B %Y}" in markdown


def test_variables_show_where_they_live_and_never_a_value(store, client_as, client, member, workspace, owner):
    site, _, _ = store
    kwargs = {"workspace": workspace.uuid, "site": site.uuid}
    _, token = links.create_link(site, user=owner, days=3)
    shared = client.get(reverse("handover_shared", kwargs={"token": token})).content.decode()
    client = client_as(member)
    page = client.get(reverse("handover_document", kwargs=kwargs)).content.decode()
    markdown = client.get(reverse("handover_markdown", kwargs=kwargs)).content.decode()
    data = client.get(reverse("handover_pdf", kwargs=kwargs)).content
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "STRIPE_SECRET_KEY" in page and "Hosting dashboard: Vercel project settings" in page
    assert "STRIPE\\_SECRET\\_KEY" in markdown and "Hosting dashboard: Vercel project settings" in markdown
    assert "Secret manager" in text and "Vercel project settings" in text
    assert "ADMIN_PASSWORD" in text and "not recorded" in text  # no place recorded yet: said plainly
    assert "Vercel project settings" in shared and "owner@example.com" not in shared
    for value in SECRET_VALUES:
        for body in (page, markdown, text, shared):
            assert value not in body
            assert value[-10:] not in body


def test_providers_are_prefilled_from_the_audit(store, client_as, member, workspace):
    site, _, _ = store
    rows = {r.kind: r for r in document.ownership(site).rows}
    assert rows["registrar"].provider == "Sandbox Registrar, Inc." and not rows["registrar"].is_recorded
    assert rows["analytics"].detected is not None and rows["error_tracking"].detected is not None
    add = reverse("handover_service_add", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    form = client_as(member).get(f"{add}?kind=registrar").content.decode()
    assert 'value="Sandbox Registrar, Inc."' in form
    doc = document.build(site)
    assert any(s.provider == "Sandbox Registrar, Inc." and not s.recorded for s in doc.services)
    # Week one: the certificate and domain dates come from the latest audit until monitors run.
    sources = {d.what: d.source for d in doc.week_one.dates}
    assert sources == {
        "Certificate of www.good-store.test": "latest audit",
        "Domain registration of good-store.test": "latest audit",
    }
    assert {r.name for r in doc.week_one.routes} >= {"home", "cart", "checkout"}
    assert all(r.p95_audit_ms is not None for r in doc.week_one.routes if r.name == "home")

"""Ownership belongs to a domain: changing the site's domain forgets the proof, and the
light load test checks the proof again just before it sends a single request.

Against the sandbox internet: real DNS TXT records, real stores, real audit runs.
"""

from __future__ import annotations

import asyncio

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from audits import ownership, services
from audits.engine import declaration_for
from audits.models import AuditRun, Finding, SiteAuditSettings
from audits.tasks import run_audit_task, start_audit
from launchready.models import Site
from launchready.views_sites import add_standard_routes

pytestmark = pytest.mark.sandbox

TOKEN = "fedcba9876543210fedcba9876543210"
WELL_KNOWN = "/.well-known/launchready-verification.txt"
HOME = [{"path": "/", "body": "<html><head><title>Shop</title></head><body>Shop</body></html>"}]

SCENARIO = {
    "name": "ownership_domain",
    "zones": {
        # The member's own store: the proof is published.
        "proof-store.test": {
            "records": [{"name": "_launchready", "type": "TXT", "value": f"launchready-verification={TOKEN}"}]
        },
        # A store that was verified once; the record and the file have since been removed.
        "gone-store.test": {"records": []},
        # Somebody else's store, which a member must not be able to load test.
        "victim-store.test": {"records": []},
        # A store whose verification file has an empty line (an empty token must never match).
        "blank-store.test": {
            "records": [{"name": "_launchready", "type": "TXT", "value": "launchready-verification="}]
        },
    },
    "hosts": [
        {"name": "www.proof-store.test", "routes": HOME},
        {"name": "www.gone-store.test", "routes": HOME},
        {"name": "www.victim-store.test", "routes": HOME},
        {"name": "www.blank-store.test", "routes": [{"path": WELL_KNOWN, "body": "\n\n"}, *HOME]},
    ],
}


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


def make_site(workspace, domain: str) -> Site:
    site = Site.objects.create(workspace=workspace, domain=domain, canonical=Site.Canonical.WWW)
    add_standard_routes(site)
    site.routes.exclude(name="home").delete()  # the homepage is the route the load test uses
    SiteAuditSettings.objects.filter(site=site).update(verification_token=TOKEN)
    return site


def fresh(site: Site) -> Site:
    return Site.objects.select_related("audit_settings").get(pk=site.pk)


def audit(site: Site) -> AuditRun:
    run = start_audit(site)
    assert run_audit_task(run.pk) == "done"
    run.refresh_from_db()
    return run


def verify(site: Site) -> ownership.OwnershipCheck:
    return services.verify_ownership(site)


# --- the domain changes: the proof no longer counts -----------------------------------


def test_editing_the_domain_forgets_the_verification_and_the_load_test_does_not_run(
    sb, client_as, member, workspace
):
    site = make_site(workspace, "proof-store.test")
    assert verify(site).verified
    assert declaration_for(fresh(site)).ownership_verified

    edit = reverse("site_edit", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    response = client_as(member).post(edit, {"domain": "victim-store.test", "name": "", "canonical": "www"})
    assert response.status_code == 302

    row = SiteAuditSettings.objects.get(site=site)
    assert row.verified_at is None and row.verified_method == "" and not row.is_verified
    assert "proof-store.test" in row.verification_error and "victim-store.test" in row.verification_error
    assert not declaration_for(fresh(site)).ownership_verified

    page = client_as(member).get(
        reverse("site_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    )
    assert "Not verified" in page.content.decode()

    run = audit(fresh(site))
    assert run.facts["site"]["domain"] == "victim-store.test"
    assert run.facts["load"] is None  # not one load-test request reached the other store
    assert not run.findings.filter(check_id="perf.degrades_under_load").exists()


def test_a_domain_changed_in_the_admin_is_no_longer_verified(sb, admin_client, workspace):
    site = make_site(workspace, "proof-store.test")
    assert verify(site).verified
    change = reverse("admin:launchready_site_change", args=[site.pk])
    routes = list(site.routes.values_list("name", "path", "source", "confirmed"))
    form = {
        "workspace": workspace.pk,
        "domain": "victim-store.test",
        "name": "",
        "canonical": "www",
        "sending_service": "",
        "from_address": "",
        "dkim_selectors": "[]",
    }
    for prefix in ("routes", "subdomains", "campaign_urls"):
        rows = getattr(site, prefix).all()
        form |= {
            f"{prefix}-TOTAL_FORMS": len(rows),
            f"{prefix}-INITIAL_FORMS": len(rows),
            f"{prefix}-MIN_NUM_FORMS": 0,
            f"{prefix}-MAX_NUM_FORMS": 1000,
        }
        for i, row in enumerate(rows):
            # Every field of the row as the change form shows it (a checkbox is absent when off),
            # so the rows are saved unchanged whatever fields the inline gains.
            for field, value in model_to_dict(row).items():
                if value is not False:
                    form[f"{prefix}-{i}-{field}"] = (
                        "on" if value is True else ("" if value is None else value)
                    )
    response = admin_client.post(change, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert fresh(site).domain == "victim-store.test"
    assert list(site.routes.values_list("name", "path", "source", "confirmed")) == routes
    assert not SiteAuditSettings.objects.get(site=site).is_verified
    assert not declaration_for(fresh(site)).ownership_verified


def test_a_domain_changed_without_signals_is_not_verified_either(sb, workspace):
    """A bulk update (a data fix, a script) skips signals: the recorded domain still differs."""
    site = make_site(workspace, "proof-store.test")
    assert verify(site).verified
    Site.objects.filter(pk=site.pk).update(domain="victim-store.test")
    row = SiteAuditSettings.objects.select_related("site").get(site=site)
    assert row.verified_at is not None and not row.is_verified
    assert not declaration_for(fresh(site)).ownership_verified


def test_saving_the_site_without_changing_the_domain_keeps_the_verification(sb, workspace):
    site = make_site(workspace, "proof-store.test")
    assert verify(site).verified
    site = fresh(site)
    site.name = "My shop"
    site.save()
    assert SiteAuditSettings.objects.select_related("site").get(site=site).is_verified


# --- the proof is checked again right before the load test ----------------------------


def test_the_load_test_runs_while_the_proof_is_published(sb, workspace):
    site = make_site(workspace, "proof-store.test")
    assert verify(site).verified
    run = audit(fresh(site))
    (load,) = run.facts["load"]
    assert load["unavailable"] is None and load["requests"] > 0


def test_proof_removed_after_verification_stops_the_load_test_and_the_report_says_why(
    sb, client_as, member, workspace
):
    site = make_site(workspace, "gone-store.test")
    # Verified once (the record was there then); it has since been removed from the zone.
    SiteAuditSettings.objects.filter(site=site).update(
        verified_at=timezone.now(), verified_method="dns", verified_domain="gone-store.test"
    )
    assert declaration_for(fresh(site)).ownership_verified

    run = audit(fresh(site))
    (load,) = run.facts["load"]
    assert load["requests"] == 0 and load["ttfb_ms"] == []
    assert "ownership" in load["unavailable"]["reason"]
    assert "No TXT record at _launchready.gone-store.test." in load["unavailable"]["reason"]

    finding = run.findings.get(check_id="perf.degrades_under_load")
    assert finding.status == Finding.Status.INCONCLUSIVE  # never a silent pass
    assert "load test did not run" in finding.evidence

    export = reverse(
        "audit_run_export", kwargs={"workspace": workspace.uuid, "site": site.uuid, "run": run.uuid}
    )
    text = client_as(member).get(export).content.decode()
    could_not = text[text.index("## Could not be checked") :]
    assert "perf.degrades_under_load" in could_not and "load test did not run" in could_not


def test_an_empty_token_never_proves_ownership(sb, workspace):
    site = make_site(workspace, "blank-store.test")
    check = asyncio.run(ownership.check_ownership_async(site, ""))
    assert not check.verified
    SiteAuditSettings.objects.filter(site=site).update(verification_token="")
    assert not verify(site).verified

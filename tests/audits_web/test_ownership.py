"""Ownership verification against the sandbox internet: a DNS TXT record or a file."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audits import ownership, services
from audits.models import SiteAuditSettings
from launchready.models import Site

pytestmark = pytest.mark.sandbox

TOKEN = "0123456789abcdef0123456789abcdef"
WELL_KNOWN = "/.well-known/launchready-verification.txt"

SCENARIO = {
    "name": "ownership",
    "zones": {
        "dns-store.test": {
            "records": [
                {"name": "_launchready", "type": "TXT", "value": f"launchready-verification={TOKEN}"},
                {"name": "_launchready", "type": "TXT", "value": "some-other-service=abc"},
            ]
        },
        "file-store.test": {"records": []},
        "wrong-store.test": {
            "records": [{"name": "_launchready", "type": "TXT", "value": "launchready-verification=nope"}]
        },
        "away-store.test": {"records": []},
    },
    "hosts": [
        {"name": "www.file-store.test", "routes": [{"path": WELL_KNOWN, "body": f"{TOKEN}\n"}]},
        {"name": "file-store.test", "redirect_to": "https://www.file-store.test"},
        {"name": "www.wrong-store.test", "routes": [{"path": WELL_KNOWN, "body": "not the token\n"}]},
        {"name": "www.away-store.test", "redirect_to": "https://www.elsewhere.test"},
        {"name": "www.elsewhere.test", "routes": [{"path": WELL_KNOWN, "body": f"{TOKEN}\n"}]},
    ],
}


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


def make_site(workspace, domain: str) -> Site:
    site = Site.objects.create(workspace=workspace, domain=domain, canonical=Site.Canonical.WWW)
    SiteAuditSettings.objects.filter(site=site).update(verification_token=TOKEN)
    return site


def test_txt_record_verifies(sb, workspace):
    site = make_site(workspace, "dns-store.test")
    check = services.verify_ownership(site)
    assert check.verified and check.method == ownership.Method.DNS
    row = SiteAuditSettings.objects.get(site=site)
    assert row.is_verified and row.verified_method == "dns" and row.verification_error == ""


def test_well_known_file_verifies(sb, workspace):
    site = make_site(workspace, "file-store.test")
    check = services.verify_ownership(site)
    assert check.verified and check.method == ownership.Method.FILE
    assert SiteAuditSettings.objects.get(site=site).verified_method == "file"


def test_wrong_token_does_not_verify_and_says_why(sb, workspace):
    site = make_site(workspace, "wrong-store.test")
    check = services.verify_ownership(site)
    assert not check.verified
    row = SiteAuditSettings.objects.get(site=site)
    assert row.verified_at is None and row.verification_checked_at is not None
    assert "_launchready.wrong-store.test exists but does not hold" in row.verification_error
    assert "does not contain the verification token" in row.verification_error


def test_file_on_another_domain_does_not_count(sb, workspace):
    site = make_site(workspace, "away-store.test")
    check = services.verify_ownership(site)
    assert not check.verified
    assert "not on away-store.test" in check.summary
    assert "No TXT record at _launchready.away-store.test." in check.summary


def test_a_verified_site_stays_verified_after_a_failed_check(sb, workspace):
    site = make_site(workspace, "wrong-store.test")
    SiteAuditSettings.objects.filter(site=site).update(
        verified_at="2026-01-01T00:00:00Z", verified_method="dns", verified_domain="wrong-store.test"
    )
    services.verify_ownership(site)
    assert SiteAuditSettings.objects.get(site=site).is_verified


def test_check_now_button(sb, client_as, member, workspace):
    site = make_site(workspace, "dns-store.test")
    client = client_as(member)
    page = client.get(reverse("site_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid}))
    body = page.content.decode()
    assert "Not verified" in body and f"launchready-verification={TOKEN}" in body
    assert "_launchready.dns-store.test" in body and f"https://www.dns-store.test{WELL_KNOWN}" in body
    check = reverse("audit_ownership_check", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    response = client.post(check, follow=True)
    text = response.content.decode()
    assert "dns-store.test is verified (found the DNS record)" in text
    assert ">Verified<" in text and "Not verified" not in text


def test_check_now_failure_is_shown(sb, client_as, member, workspace):
    site = make_site(workspace, "wrong-store.test")
    check = reverse("audit_ownership_check", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    text = client_as(member).post(check, follow=True).content.decode()
    assert "Not verified yet." in text and "does not contain the verification token" in text

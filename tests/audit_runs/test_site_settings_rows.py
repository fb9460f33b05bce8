"""Audit settings exist from a site's creation; read paths never create them."""

import pytest
from django.urls import reverse

from audits.models import SiteAuditSettings
from launchready.models import Site


@pytest.mark.django_db
def test_new_site_gets_audit_settings_with_daily_audits_on(workspace):
    site = Site.objects.create(workspace=workspace, domain="fresh-store.example")
    row = SiteAuditSettings.objects.get(site=site)
    assert row.daily_enabled and row.next_daily_at is not None


@pytest.mark.django_db
def test_site_page_does_not_write_settings(client_as, owner, workspace):
    site = Site.objects.create(workspace=workspace, domain="legacy-store.example")
    SiteAuditSettings.objects.filter(site=site).delete()  # a site from before audit settings existed
    url = reverse("site_detail", kwargs={"workspace": workspace.uuid, "site": site.uuid})
    assert client_as(owner).get(url).status_code == 200
    assert not SiteAuditSettings.objects.filter(site=site).exists()

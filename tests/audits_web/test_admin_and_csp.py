"""Admin pages of the audit models, and the pages' fit with the strict CSP."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from audits.models import AcceptedRisk, AuditRun, Finding, ShareLink, SiteAuditSettings

AUDIT_MODELS = [AuditRun, Finding, AcceptedRisk, SiteAuditSettings, ShareLink]


@pytest.fixture
def staff(owner):
    owner.is_staff = owner.is_superuser = True
    owner.save()
    return owner


@pytest.mark.parametrize("model", AUDIT_MODELS, ids=lambda m: m.__name__)
def test_registered_with_filters_and_search(model):
    model_admin = admin.site._registry[model]
    assert len(model_admin.list_display) > 1 and model_admin.list_filter and model_admin.search_fields


@pytest.mark.parametrize("model", AUDIT_MODELS, ids=lambda m: m.__name__)
def test_changelist_renders_for_staff(
    client_as, staff, audit_run, url_kwarg_accepted_risk, share_link, model
):
    SiteAuditSettings.objects.get_or_create(site=audit_run.site)
    url = reverse(f"admin:audits_{model._meta.model_name}_changelist")
    assert client_as(staff).get(url, {"q": "example"}).status_code == 200


def test_run_change_page_shows_findings(client_as, staff, audit_run):
    url = reverse("admin:audits_auditrun_change", args=[audit_run.pk])
    body = client_as(staff).get(url).content.decode()
    assert "exposure.env_file" in body and "http.hsts_missing" in body


def test_share_token_hash_is_not_shown(client_as, staff, share_link):
    link, token = share_link
    body = client_as(staff).get(reverse("admin:audits_sharelink_change", args=[link.pk])).content.decode()
    assert link.token_hash not in body and token not in body


def pages(workspace, site, run, finding, token):
    ws = {"workspace": workspace.uuid, "site": site.uuid}
    return [
        reverse("site_detail", kwargs=ws),
        reverse("workspace_overview", kwargs={"workspace": workspace.uuid}),
        reverse("audit_run_detail", kwargs={**ws, "run": run.uuid}),
        reverse("audit_run_progress", kwargs={**ws, "run": run.uuid}),
        reverse("audit_finding_accept", kwargs={**ws, "finding": finding.uuid}),
        reverse("audit_share_links", kwargs=ws),
        reverse("audit_shared_report", kwargs={"token": token}),
    ]


def test_no_inline_scripts_or_styles(
    client_as, owner, workspace, site, audit_run, url_kwarg_finding, share_link
):
    client = client_as(owner)
    for path in pages(workspace, site, audit_run, url_kwarg_finding, share_link[1]):
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.content.decode()
        assert not re.search(r"\sstyle=", body), path
        assert not re.search(r"<style", body), path
        assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", body)), path
        assert not re.search(r"\son[a-z]+=", body), path

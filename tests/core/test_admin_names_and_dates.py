"""The admin reads like English: right plurals and names; findings are records, not
editable rows; one date format across pages, emails and the admin."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from audits.models import AuditRun, Finding
from launchready.models import Invitation

OURS = ("launchready", "audits", "monitoring", "handover", "reports")
# Words whose plural is not "add an s" (address → addresses, settings → settings).
IRREGULAR_ENDINGS = ("s", "x", "z", "ch", "sh")


def _our_models():
    return [m for m in admin.site._registry if m._meta.app_label in OURS]


def _every_model():
    """Every model of our apps, in the admin or not (its names show in messages and logs too)."""
    from django.apps import apps

    return [m for m in apps.get_models() if m._meta.app_label in OURS]


@pytest.mark.parametrize("model", _every_model(), ids=lambda m: m._meta.label)
def test_admin_plural_is_not_a_blind_s(model):
    singular, plural = str(model._meta.verbose_name), str(model._meta.verbose_name_plural)
    if singular.endswith(IRREGULAR_ENDINGS) or re.search(r"[^aeiou]y$", singular):
        assert plural != singular + "s", f"{model._meta.label}: “{plural}”"


# Acronyms a founder reads in capitals ("campaign URL", "API token", "DMARC report").
ACRONYMS = r"dmarc|dkim|spf|mx|dns|tls|ssl|http|https|url|urls|api|sms|smtp|ip|rdap|uuid|csv|pdf|html|json"


@pytest.mark.parametrize("model", _our_models(), ids=lambda m: m._meta.label)
def test_admin_names_write_acronyms_in_capitals(model):
    for name in (str(model._meta.verbose_name), str(model._meta.verbose_name_plural)):
        assert not re.search(rf"\b({ACRONYMS})s?\b", name), f"{model._meta.label}: “{name}”"


def test_admin_index_names_campaign_urls_and_api_tokens(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert ">Campaign URLs<" in page and ">API tokens<" in page


def test_admin_index_shows_the_right_names(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    for name in ("Inbound addresses", "Site audit settings", "DMARC reports", "DMARC report records"):
        assert f">{name}<" in page
    assert "addresss" not in page and "settingss" not in page


# Findings: what an audit observed, not something staff edit.


@pytest.fixture
def finding(site) -> Finding:
    run = AuditRun.objects.create(site=site, status=AuditRun.Status.DONE, verdict="not_ready")
    return Finding.objects.create(
        run=run,
        check_id="tls.expired",
        severity="blocker",
        stage="tls",
        subject="shop.example.com",
        title="x",
    )


def test_a_finding_can_be_read_but_not_added_saved_or_deleted(admin_client, finding):
    change = admin_client.get(reverse("admin:audits_finding_change", args=[finding.pk]))
    assert change.status_code == 200
    page = change.content.decode()
    assert "tls.expired" in page
    assert 'name="_save"' not in page and 'name="_continue"' not in page
    assert "deletelink" not in page
    assert admin_client.get(reverse("admin:audits_finding_add")).status_code == 403
    assert admin_client.get(reverse("admin:audits_finding_delete", args=[finding.pk])).status_code == 403
    posted = admin_client.post(reverse("admin:audits_finding_change", args=[finding.pk]), {"title": "edited"})
    assert posted.status_code == 403
    finding.refresh_from_db()
    assert finding.title == "x"
    changelist = admin_client.get(reverse("admin:audits_finding_changelist")).content.decode()
    assert "delete_selected" not in changelist
    assert reverse("admin:audits_finding_add") not in changelist


def test_an_audit_runs_findings_cannot_be_added_inline(admin_client, finding):
    page = admin_client.get(reverse("admin:audits_auditrun_change", args=[finding.run.pk])).content.decode()
    assert "tls.expired" in page
    assert 'name="findings-MAX_NUM_FORMS" value="0"' in page  # no empty row, no "Add another"


# One date format: "5 December 2026" and "5 December 2026, 14:30", everywhere.

WHEN = datetime(2030, 3, 7, 9, 5, tzinfo=UTC)


def test_admin_writes_dates_like_the_pages(admin_client, finding):
    AuditRun.objects.filter(pk=finding.run.pk).update(created_at=WHEN)
    changelist = admin_client.get(reverse("admin:audits_auditrun_changelist")).content.decode()
    assert "7 March 2030, 09:05" in changelist
    assert "March 7, 2030" not in changelist and "a.m." not in changelist


def test_pages_and_emails_write_dates_the_same_way(client_as, owner, workspace, make_user):
    Invitation.objects.create(workspace=workspace, email="new@example.com", invited_by=owner, expires_at=WHEN)
    # The members page (in the workspace's time zone, Amsterdam: UTC+1 in March).
    page = client_as(owner).get(reverse("member_list", kwargs={"workspace": workspace.uuid})).content.decode()
    assert "7 March 2030" in page
    with timezone.override(UTC):
        from django.template.loader import render_to_string

        text = render_to_string("email/invitation.txt", {"invitation": Invitation.objects.get(), "url": "x"})
    assert "7 March 2030" in text


def test_monitoring_times_say_which_time_zone_they_are_in(client_as, owner, workspace, url_kwarg_incident):
    # Workspace pages show the workspace's time (Amsterdam), so they must not label it "UTC".
    incident = url_kwarg_incident
    type(incident).objects.filter(pk=incident.pk).update(started_at=WHEN)
    url = reverse("monitoring:incident", kwargs={"workspace": workspace.uuid, "incident": incident.uuid})
    page = client_as(owner).get(url).content.decode()
    assert "started 7 March 2030, 10:05 CET" in page
    assert "09:05" not in page and "2030-03-07" not in page

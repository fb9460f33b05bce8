"""Batch isolation: one site whose data makes its audit raise must not stop the others,
and it gets a visible "could not run" instead of silence.

The bad data is real rows, not patched functions: a run whose start time the ORM cannot
read (``infinity``, which PostgreSQL stores and SQLite keeps as text), and declared DKIM
selectors that are a number instead of a list (the admin's JSON field accepts it).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audits.models import AuditRun, SiteAuditSettings
from audits.tasks import run_audit_task, schedule_daily_audits
from launchready.models import Membership, Role, Site, Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_workspace(make_user) -> Workspace:
    workspace = Workspace.objects.create(name="Another client")
    Membership.objects.create(workspace=workspace, user=make_user("carol"), role=Role.OWNER)
    return workspace


def due(site: Site, minutes_ago: int) -> None:
    SiteAuditSettings.objects.filter(site=site).update(
        daily_enabled=True, next_daily_at=timezone.now() - timedelta(minutes=minutes_ago)
    )


def corrupt_run(site: Site) -> AuditRun:
    """A run of ``site`` still marked running whose start the ORM cannot read back."""
    run = AuditRun.objects.create(site=site, status=AuditRun.Status.RUNNING)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audits_auditrun SET created_at = 'infinity' WHERE id = %s", [run.pk])
    return run


def test_one_bad_site_does_not_stop_the_daily_audits_of_the_others(workspace, other_workspace, caplog):
    bad = Site.objects.create(workspace=workspace, domain="bad-data.example.com")
    good = Site.objects.create(workspace=other_workspace, domain="good.example.com")
    due(bad, minutes_ago=60)  # the most overdue: handled first
    due(good, minutes_ago=5)
    corrupt_run(bad)

    with caplog.at_level(logging.ERROR, logger="audits.tasks"):
        assert schedule_daily_audits() == 1

    queued = AuditRun.objects.get(site=good)
    assert queued.status == AuditRun.Status.QUEUED and queued.trigger == AuditRun.Trigger.SCHEDULED

    failed = AuditRun.objects.filter(site=bad, status=AuditRun.Status.FAILED).values("trigger", "error").get()
    assert failed["trigger"] == AuditRun.Trigger.SCHEDULED
    assert "daily audit could not start" in failed["error"]
    (record,) = [r for r in caplog.records if r.name == "audits.tasks"]
    assert record.exc_info is not None and str(bad.uuid) in record.getMessage()

    # Tried again tomorrow, like every other site, not on every tick.
    for site in (bad, good):
        assert SiteAuditSettings.objects.get(site=site).next_daily_at > timezone.now() + timedelta(hours=23)
    assert schedule_daily_audits() == 0


def test_an_audit_that_cannot_read_its_site_is_marked_failed(workspace, caplog):
    site = Site.objects.create(workspace=workspace, domain="selectors.example.com", dkim_selectors=5)
    run = AuditRun.objects.create(site=site)

    with caplog.at_level(logging.ERROR, logger="audits.tasks"):
        assert run_audit_task(run.pk) == "failed"

    run.refresh_from_db()
    assert run.status == AuditRun.Status.FAILED and run.finished_at is not None
    assert "error on our side" in run.error
    assert any(r.exc_info for r in caplog.records if r.name == "audits.tasks")

"""A blocker that a later audit finds is a critical alert, once per channel."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from audits import services
from audits.models import AuditRun
from audits.tasks import run_audit_task, start_audit
from monitoring import outbox
from monitoring.models import AlertChannel, Notification


@pytest.fixture(scope="module")
def broken(sandbox_scenario):
    return sandbox_scenario("demo_broken")


@pytest.mark.django_db
def test_new_blockers_alert_every_channel_once(broken, site, email_channel, workspace):
    sms = AlertChannel(workspace=workspace, kind=AlertChannel.Kind.SMS, name="On-call phone")
    sms.credentials = {"to": "+15550001111"}
    sms.save()
    site.domain = "broken-store.test"
    site.save()
    site.routes.exclude(name="home").delete()  # keep the audit quick: the homepage is enough here
    # A clean earlier run: everything the next run finds is new.
    AuditRun.objects.create(
        site=site, status=AuditRun.Status.DONE, finished_at=timezone.now(), verdict="ready"
    )
    run = start_audit(site)
    assert run_audit_task(run.pk) == "done"

    rows = Notification.objects.filter(audit_run=run, event=Notification.Event.AUDIT_BLOCKER)
    assert {n.channel_id for n in rows} == {email_channel.pk, sms.pk}  # critical: SMS included

    from monitoring.audit_alerts import alert_new_audit_blockers

    alert_new_audit_blockers(run, services.new_blockers(run))  # a retried task
    assert rows.count() == 2

    email_row = rows.get(channel=email_channel)
    assert outbox.send(email_row.pk)
    (message,) = mail.outbox
    assert "NEW BLOCKER on broken-store.test" in message.subject
    assert "How to fix each one" in message.body and str(site.uuid) in message.body
    assert not outbox.send(email_row.pk)  # sent once


@pytest.mark.django_db
def test_first_audit_does_not_alert(broken, site, email_channel):
    site.domain = "broken-store.test"
    site.save()
    site.routes.exclude(name="home").delete()  # keep the audit quick: the homepage is enough here
    run = start_audit(site)
    run_audit_task(run.pk)
    assert not Notification.objects.filter(audit_run=run).exists()

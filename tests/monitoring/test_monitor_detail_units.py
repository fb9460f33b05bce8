"""The monitor page writes its schedule in the units a person uses, not seconds."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monitoring.models import Monitor
from monitoring.templatetags.durations import duration

pytestmark = pytest.mark.django_db


def _page(client_as, member, monitor) -> str:
    url = reverse(
        "monitoring:monitor_detail", kwargs={"workspace": monitor.workspace.uuid, "monitor": monitor.uuid}
    )
    return client_as(member).get(url).content.decode()


def test_a_heartbeat_schedule_is_in_hours_and_minutes(client_as, member, workspace):
    hb = Monitor.objects.create(
        workspace=workspace, kind="heartbeat", name="Backup", period_s=3600, grace_s=300
    )
    page = _page(client_as, member, hb)
    assert "every 1 hour, then 5 minutes of grace before it counts as late" in page
    assert "3600 s" not in page and "300 s" not in page


def test_a_checked_monitor_says_how_often_in_minutes(client_as, member, workspace):
    mon = Monitor.objects.create(
        workspace=workspace,
        kind=Monitor.Kind.HTTP,
        name="Checkout",
        url="https://shop.example.com/checkout",
        interval_s=120,
    )
    page = _page(client_as, member, mon)
    assert "<dt>Checked every</dt><dd>2 minutes; down after" in page
    assert "120 s" not in page


def test_an_uneven_duration_stays_in_seconds():
    assert duration(90) == "90 seconds" and duration(86400) == "1 day" and duration(None) == ""

"""Monitoring fixtures (a pytest plugin, registered in tests/conftest.py).

Also the ``url_kwarg_*`` values the URLconf walk needs for monitoring URLs.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring.models import AlertChannel, ApiToken, EscalationContact, Incident, MaintenanceWindow, Monitor


@pytest.fixture
def http_monitor(workspace) -> Monitor:
    return Monitor.objects.create(
        workspace=workspace, kind=Monitor.Kind.HTTP, name="Checkout", url="https://shop.example.com/checkout"
    )


@pytest.fixture
def email_channel(workspace) -> AlertChannel:
    ch = AlertChannel(
        workspace=workspace, kind=AlertChannel.Kind.EMAIL, name="Ops mail", label="ops@example.com"
    )
    ch.credentials = {"address": "ops@example.com"}
    ch.save()
    return ch


@pytest.fixture
def url_kwarg_monitor(http_monitor):
    return http_monitor


@pytest.fixture
def url_kwarg_incident(http_monitor):
    return Incident.objects.create(
        monitor=http_monitor, workspace=http_monitor.workspace, started_at=timezone.now(), cause="Status 502."
    )


@pytest.fixture
def url_kwarg_channel(email_channel):
    return email_channel


@pytest.fixture
def url_kwarg_contact(workspace):
    return EscalationContact.objects.create(workspace=workspace, name="Dana", email="dana@example.com")


@pytest.fixture
def url_kwarg_window(workspace):
    now = timezone.now()
    return MaintenanceWindow.objects.create(
        workspace=workspace, starts_at=now, ends_at=now + timedelta(hours=1)
    )


@pytest.fixture
def url_kwarg_token(workspace):
    token, _ = ApiToken.issue(workspace, "Deploy")
    return token

"""Monitoring admin: the closed days are records of the hourly job, read but never edited."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from monitoring.models import ClosedDay

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_day() -> ClosedDay:
    return ClosedDay.objects.create(day=date(2030, 3, 6), closed_at=datetime(2030, 3, 7, 1, 5, tzinfo=UTC))


def test_closed_days_are_listed_with_a_plain_plural(admin_client, closed_day):
    page = admin_client.get(reverse("admin:monitoring_closedday_changelist")).content.decode()
    assert "6 March 2030" in page and "7 March 2030, 01:05" in page
    assert "1 closed day" in page
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert ">Closed days<" in index


def test_a_closed_day_can_be_read_but_not_added_saved_or_deleted(admin_client, closed_day):
    change = reverse("admin:monitoring_closedday_change", args=[closed_day.pk])
    page = admin_client.get(change).content.decode()
    assert "6 March 2030" in page
    assert 'name="_save"' not in page and "deletelink" not in page
    assert admin_client.get(reverse("admin:monitoring_closedday_add")).status_code == 403
    delete = reverse("admin:monitoring_closedday_delete", args=[closed_day.pk])
    assert admin_client.get(delete).status_code == 403
    assert (
        admin_client.post(change, {"closed_at_0": "8 March 2030", "closed_at_1": "00:00"}).status_code == 403
    )
    closed_day.refresh_from_db()
    assert closed_day.closed_at == datetime(2030, 3, 7, 1, 5, tzinfo=UTC)
    changelist = admin_client.get(reverse("admin:monitoring_closedday_changelist")).content.decode()
    assert "delete_selected" not in changelist

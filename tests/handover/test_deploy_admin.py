"""Admin pages for deploys, smoke results and rollbacks: list columns, filters and search work."""

from __future__ import annotations

import pytest
from django.utils import timezone

from handover.models import Deploy, Rollback, SmokeResult

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(site):
    deploy = Deploy.objects.create(site=site, environment="production", version="v9.9.9", state="failed")
    SmokeResult.objects.create(
        deploy=deploy,
        route_name="checkout",
        url="u",
        passed=False,
        budget_ms=800,
        reason="Status 502.",
        checked_at=timezone.now(),
    )
    Rollback.objects.create(
        site=site, kind="rehearsal", minutes=4, from_version="v9.9.9", to_version="v9.9.8"
    )
    return deploy


@pytest.mark.parametrize(
    ("model", "query", "shown"),
    [
        ("deploy", "?q=v9.9.9&state__exact=failed", "v9.9.9"),
        ("smokeresult", "?q=checkout&passed__exact=0", "Status 502."),
        ("rollback", "?q=v9.9.8&kind__exact=rehearsal", "v9.9.8"),
        ("smokeroutesetting", "", "0 smoke route settings"),
        ("rollbackplan", "", "0 rollback plans"),
    ],
)
def test_the_admin_lists_filter_and_search(admin_client, records, model, query, shown):
    response = admin_client.get(f"/admin/handover/{model}/{query}")
    assert response.status_code == 200
    assert shown in response.content.decode()


def test_a_deploy_shows_its_smoke_results_inline(admin_client, records):
    response = admin_client.get(f"/admin/handover/deploy/{records.pk}/change/")
    assert response.status_code == 200
    assert "Status 502." in response.content.decode()

"""Kept pages and API lists show what a deploy's smoke test changes with ``queryset.update()``
at once: the maintenance window it opened ends when the smoke test finishes, in the
transaction after which the finish bumps the workspace again. (A rollback's minutes, the
other such update, are shown only on the rollback page, which is not kept.)"""

from __future__ import annotations

import pytest
from django.urls import reverse

from handover import deploys
from tests.monitoring.test_kept_pages_background import api, as_listed, browser, get, kept

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(workspace) -> str:
    from monitoring.models import ApiToken

    return ApiToken.issue(workspace, "CI", read_only=True)[1]


def test_a_finished_smoke_test_ends_its_maintenance_window_at_once(
    client, client_as, owner, workspace, site, token
):
    deploy = deploys.record_deploy(site, environment="production", version="v2", maintenance_minutes=30)
    page = browser(client_as, owner)
    overview = reverse("monitoring:overview", kwargs={"workspace": workspace.uuid})
    assert "Deploy of v2 to production" in kept(page, overview)
    assert "Deploy of v2 to production" in kept(client, "/api/v1/maintenance-windows", **api(token))
    deploys.finish_smoke(deploys.claim_smoke(deploy.pk), [], error="Our worker stopped.")
    assert "Deploy of v2 to production" not in get(page, overview)
    windows = get(client, "/api/v1/maintenance-windows", **api(token))
    deploy.maintenance_window.refresh_from_db()
    assert as_listed(deploy.maintenance_window.ends_at) in windows

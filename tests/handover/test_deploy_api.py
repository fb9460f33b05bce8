"""The deploy hook: POST /api/v1/deploys and GET /api/v1/deploys/{id} (scopes, validation, rollbacks)."""

from __future__ import annotations

import json

import pytest

from handover.models import Deploy, Rollback
from launchready.models import Site, Workspace
from monitoring.models import ApiToken, MaintenanceWindow

pytestmark = pytest.mark.django_db

URL = "/api/v1/deploys"


def post(client, plain: str, body: dict):
    return client.post(
        URL, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plain}"
    )


def get(client, plain: str, url: str):
    return client.get(url, HTTP_AUTHORIZATION=f"Bearer {plain}")


@pytest.fixture
def shop_token(workspace, site) -> str:
    return ApiToken.issue(workspace, "Shop CI", site=site)[1]


@pytest.fixture
def other_site(workspace) -> Site:
    return Site.objects.create(workspace=workspace, domain="blog.example.com")


def test_a_site_token_reports_a_deploy_and_its_smoke_test_is_queued_on_commit(
    client, site, shop_token, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(
            client,
            shop_token,
            {
                "environment": "Production",
                "version": " v1.4.2 ",
                "commit_url": "https://github.com/acme/shop/commit/abc123",
                "migrations_ran": True,
            },
        )
    assert response.status_code == 201, response.content
    body = response.json()
    deploy = Deploy.objects.get()
    assert body["id"] == str(deploy.uuid) and body["site"] == str(site.uuid)
    assert (body["environment"], body["version"], body["state"], body["finished"]) == (
        "production",
        "v1.4.2",
        "queued",
        False,
    )
    assert body["deployed_by"] == deploy.deployed_by == "API token Shop CI"
    assert body["migrations_ran"] is True and body["results"] == [] and body["last_known_good"] is False
    assert body["url"].endswith(f"/sites/{site.uuid}/deploys/{deploy.uuid}/")
    # The smoke test, sent to the broker only once the deploy is saved (the other callbacks
    # drop the workspace's cached pages when the deploy commits).
    assert [callback.args for callback in callbacks if callback.__name__ == "delay"] == [(deploy.pk,)]


def test_get_answers_the_state_and_one_result_per_route(client, site, shop_token, deploy_record):
    deploy_record.state = Deploy.State.FAILED
    deploy_record.save()
    deploy_record.smoke_results.create(
        route_name="checkout",
        url="https://www.shop.example.com/checkout",
        passed=False,
        status_code=502,
        elapsed_ms=90,
        budget_ms=800,
        reason="Status 502 (expected 200–399).",
        checked_at=deploy_record.created_at,
    )
    response = get(client, shop_token, f"{URL}/{deploy_record.uuid}")
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["finished"]) == ("failed", True)
    assert body["results"] == [
        {
            "route": "checkout",
            "url": "https://www.shop.example.com/checkout",
            "passed": False,
            "status": 502,
            "elapsed_ms": 90,
            "budget_ms": 800,
            "keyword": "",
            "reason": "Status 502 (expected 200–399).",
            "checked_at": body["results"][0]["checked_at"],
        }
    ]


def test_a_workspace_token_names_the_site(client, workspace, site):
    plain = ApiToken.issue(workspace, "Agency CI")[1]
    missing = post(client, plain, {"environment": "production", "version": "v1"})
    assert missing.status_code == 400 and "“site”" in missing.json()["error"]
    named = post(client, plain, {"site": str(site.uuid), "environment": "production", "version": "v1"})
    assert named.status_code == 201 and Deploy.objects.get().site == site


def test_a_site_token_cannot_report_for_another_site_of_its_workspace(client, shop_token, other_site):
    response = post(
        client, shop_token, {"site": str(other_site.uuid), "environment": "production", "version": "v1"}
    )
    assert response.status_code == 404
    assert not Deploy.objects.exists()


def test_a_site_token_cannot_read_another_sites_deploy(client, shop_token, other_site):
    theirs = Deploy.objects.create(site=other_site, environment="production", version="v1")
    assert get(client, shop_token, f"{URL}/{theirs.uuid}").status_code == 404
    assert get(client, shop_token, URL).json() == []


def test_another_workspaces_token_gets_404_for_the_deploy_and_cannot_report_for_the_site(
    client, site, deploy_record
):
    elsewhere = Workspace.objects.create(name="Elsewhere")
    plain = ApiToken.issue(elsewhere, "Their CI")[1]
    response = get(client, plain, f"{URL}/{deploy_record.uuid}")
    assert response.status_code == 404
    assert str(deploy_record.uuid) not in response.content.decode()
    assert (
        post(
            client, plain, {"site": str(site.uuid), "environment": "production", "version": "v2"}
        ).status_code
        == 404
    )
    assert get(client, plain, URL).json() == []
    assert Deploy.objects.count() == 1


def test_a_read_only_token_reads_but_cannot_report(client, workspace, site, deploy_record):
    plain = ApiToken.issue(workspace, "Dashboard", site=site, read_only=True)[1]
    response = post(client, plain, {"environment": "production", "version": "v2"})
    assert response.status_code == 403 and "read-only" in response.json()["error"]
    assert Deploy.objects.count() == 1
    assert get(client, plain, f"{URL}/{deploy_record.uuid}").status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"environment": "prod env!"}, "environment"),
        ({"environment": ""}, "environment"),
        ({"version": ""}, "version"),
        ({"version": "v1\nrm -rf /"}, "version"),
        ({"version": "x" * 101}, "version"),
        ({"commit_url": "javascript:alert(1)"}, "commit_url"),
        ({"migrations_ran": "yes"}, "migrations_ran"),
        ({"maintenance_minutes": 0}, "maintenance_minutes"),
        ({"maintenance_minutes": 121}, "maintenance_minutes"),
        ({"kind": "hotfix"}, "kind"),
        ({"rollback_of": "not-a-uuid"}, "rollback_of"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, shop_token, change, field):
    response = post(client, shop_token, {"environment": "production", "version": "v1", **change})
    assert response.status_code == 400, response.content
    assert f"“{field}”" in response.json()["error"]
    assert not Deploy.objects.exists() and not MaintenanceWindow.objects.exists()


def test_a_rollback_is_recorded_against_the_deploy_it_undoes(client, site, shop_token, deploy_record):
    response = post(
        client,
        shop_token,
        {"environment": "production", "version": "v0.9.0", "rollback_of": str(deploy_record.uuid)},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "rollback" and body["rollback_of"] == str(deploy_record.uuid)
    assert body["rollback"] == {"from_version": "v1.0.0", "to_version": "v0.9.0", "minutes": None}
    assert Rollback.objects.get().deploy.uuid.hex == body["id"].replace("-", "")


def test_a_rollback_of_another_workspaces_deploy_is_refused_like_an_unknown_one(client, shop_token):
    elsewhere = Workspace.objects.create(name="Elsewhere")
    their_site = Site.objects.create(workspace=elsewhere, domain="theirs.example.com")
    theirs = Deploy.objects.create(site=their_site, environment="production", version="v1")
    response = post(
        client, shop_token, {"environment": "production", "version": "v0", "rollback_of": str(theirs.uuid)}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "“rollback_of” names no deploy of this site."}


def test_maintenance_minutes_open_a_window_for_the_site(client, site, workspace, shop_token):
    response = post(
        client, shop_token, {"environment": "production", "version": "v2", "maintenance_minutes": 15}
    )
    assert response.status_code == 201
    window = MaintenanceWindow.objects.get()
    assert (window.workspace, window.site, window.created_by) == (workspace, site, "API token Shop CI")
    assert (window.ends_at - window.starts_at).total_seconds() == 15 * 60


def test_the_list_is_newest_first_and_filters_by_environment(client, site, shop_token):
    for env, version in [("production", "v1"), ("staging", "v2-rc"), ("production", "v2")]:
        assert post(client, shop_token, {"environment": env, "version": version}).status_code == 201
    assert [d["version"] for d in get(client, shop_token, URL).json()] == ["v2", "v2-rc", "v1"]
    assert [
        d["version"] for d in get(client, shop_token, f"{URL}?environment=production&limit=1").json()
    ] == ["v2"]

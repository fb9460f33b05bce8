"""The CI step shown on the deploys page, run as-is with sh, curl and jq against the running app.

The app runs in pytest's live server, Celery eagerly (the smoke test runs when the deploy
is saved) and the stores in the sandbox internet.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from handover.ci_steps import ci_steps
from handover.models import Deploy
from launchready.models import Site
from launchready.views_sites import add_standard_routes
from monitoring.models import ApiToken
from tests.fixtures_core import add_confirmed_routes

# The routes the store's owner confirmed (a new site starts with home only).
STORE_ROUTES = {
    "listing": "/collections/all",
    "product": "/products/example",
    "cart": "/cart",
    "login": "/account/login",
    "checkout": "/checkout",
    "order": "/api/orders",
}

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq"),
]

PAGES = [
    {"path": "/", "body": "Welcome"},
    {"path": "/collections/all", "body": "All products"},
    {"path": "/products/example", "body": "Add to cart"},
    {"path": "/cart", "body": "Your cart"},
]
SCENARIO = {
    "name": "deploy_ci",
    "hosts": [
        {"name": "www.ci-good.test", "routes": [*PAGES, {"path": "/checkout", "body": "Checkout"}]},
        {"name": "www.ci-bad.test", "routes": [*PAGES, {"path": "/checkout", "status": 500, "body": "Oops"}]},
    ],
}


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


@pytest.fixture
def eager_celery():
    from launchready.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def run_step(live_server, workspace, domain: str, **env) -> tuple[Site, subprocess.CompletedProcess]:
    site = Site.objects.create(workspace=workspace, domain=domain, canonical=Site.Canonical.WWW)
    add_standard_routes(site)
    add_confirmed_routes(site, STORE_ROUTES)
    _, plain = ApiToken.issue(workspace, "GitHub Actions", site=site)
    script = ci_steps(f"{live_server.url}/api/v1/deploys", site).shell
    result = subprocess.run(
        ["sh", "-c", script],
        env={"PATH": "/usr/bin:/bin", "LAUNCHREADY_TOKEN": plain, "VERSION": "v3.1.0", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return site, result


def test_the_step_reports_the_deploy_and_passes_with_the_smoke_test(
    live_server, transactional_db, workspace, sb, eager_celery
):
    site, result = run_step(live_server, workspace, "ci-good.test", COMMIT_URL="https://example.com/c/1")
    assert result.returncode == 0, result.stderr
    deploy = Deploy.objects.get(site=site)
    assert result.stdout.startswith("Smoke test passed: ")
    assert str(deploy.uuid) in result.stdout
    assert (deploy.version, deploy.state, deploy.environment) == ("v3.1.0", "passed", "production")
    assert (deploy.deployed_by, deploy.commit_url) == ("API token GitHub Actions", "https://example.com/c/1")


def test_the_step_fails_the_pipeline_and_names_the_failing_route(
    live_server, transactional_db, workspace, sb, eager_celery
):
    site, result = run_step(live_server, workspace, "ci-bad.test")
    assert result.returncode == 1
    assert "Smoke test FAILED" in result.stderr
    assert "checkout: Status 500 (expected 200–399)." in result.stderr
    assert Deploy.objects.get(site=site).state == "failed"


def test_a_rollback_reported_by_the_step_is_verified(
    live_server, transactional_db, workspace, sb, eager_celery
):
    site, first = run_step(live_server, workspace, "ci-good.test")
    assert first.returncode == 0, first.stderr
    _, plain = ApiToken.issue(workspace, "Rollback", site=site)
    script = ci_steps(f"{live_server.url}/api/v1/deploys", site).shell
    result = subprocess.run(
        ["sh", "-c", script],
        env={"PATH": "/usr/bin:/bin", "LAUNCHREADY_TOKEN": plain, "VERSION": "v3.0.9", "KIND": "rollback"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rollback = Deploy.objects.get(site=site, kind="rollback")
    assert rollback.rollback_of.version == "v3.1.0"
    assert rollback.rollback_record.minutes is not None

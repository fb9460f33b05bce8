"""A real browser presses "Run audit now" and watches a real Celery worker audit the
broken demo store in the sandbox: live progress, then the verdict and the 48-hour plan."""

from __future__ import annotations

import html

import pytest

from launchready.models import Site
from tests.browser.test_journey import browser, pytestmark  # noqa: F401 - the same browser and skip rule
from tests.browser.workers import solo_worker
from tests.fixtures_core import PASSWORD


@pytest.fixture(scope="module")
def broken(sandbox_scenario):
    return sandbox_scenario("demo_broken")


@pytest.fixture
def worker(transactional_db):
    with solo_worker("launchready-browser-test") as app:
        yield app


def test_run_audit_and_read_the_verdict(browser, live_server, broken, worker, owner, workspace):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    site = Site.objects.create(workspace=workspace, domain="broken-store.test")
    site.routes.all().delete()
    site.routes.create(name="home", path="/", kind="page", budget_ms=800)

    browser.get(f"{live_server.url}/accounts/login/")
    browser.find_element(By.NAME, "login").send_keys(owner.email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("/w/"))

    browser.get(f"{live_server.url}/w/{workspace.uuid}/sites/{site.uuid}/")
    browser.find_element(By.XPATH, "//button[normalize-space()='Run audit now']").click()
    # The page polls the run's progress and reloads once the worker has finished.
    WebDriverWait(browser, 60).until(lambda b: "The 48-hour plan" in b.page_source)
    page = browser.page_source
    run = site.audit_runs.get()
    assert run.status == "done" and run.verdict == "not_ready"  # done by the worker, not faked
    assert "Not ready" in page
    assert "Your environment file with secrets is public" in page  # a blocker, with its fix
    finding = run.findings.get(check_id="exposure.env_file", subject="broken-store.test")
    assert html.escape(finding.fix.split(".")[0], quote=False) in page  # its fix is on the page (as text)

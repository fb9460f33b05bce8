"""A real browser walks a consultant's handover: paste the store's ``.env`` (the values are
thrown away), create a site token, copy the deploy step from the deploys page and run it
with sh, curl and jq against the running app while a real Celery worker smoke-tests the
store in the sandbox internet, then read the deploy history and the handover document.

Screenshots at 1280 and 390 px wide are saved as /tmp/journey-<page>-<width>.png.
Needs chromium and chromedriver (the same skip rule as test_journey.py) and curl and jq.
"""

from __future__ import annotations

import logging
import shutil
import subprocess

import pytest
from django.apps import apps
from django.db import models

from handover.models import Deploy, EnvVar
from launchready.models import Site
from launchready.views_sites import add_standard_routes
from tests.browser.pages import wait_until_gone
from tests.browser.test_journey import _console_problems, browser  # noqa: F401 - the same browser
from tests.browser.test_journey import pytestmark as browser_rule
from tests.browser.workers import solo_worker
from tests.fixtures_core import PASSWORD, add_confirmed_routes

# The routes the store's owner confirmed (a new site starts with home only).
STORE_ROUTES = {
    "listing": "/collections/all",
    "product": "/products/example",
    "cart": "/cart",
    "login": "/account/login",
    "checkout": "/checkout",
    "order": "/api/orders",
}

MISSING_TOOLS = [tool for tool in ("curl", "jq") if not shutil.which(tool)]
pytestmark = [
    browser_rule,
    pytest.mark.skipif(
        bool(MISSING_TOOLS),
        reason=f"{' and '.join(MISSING_TOOLS)} not installed: the CI step needs curl and jq",
    ),
]

DOMAIN = "journey-shop.test"
VERSION = "v2.4.0"
SCENARIO = {
    "name": "handover_journey",
    "hosts": [
        {
            "name": f"www.{DOMAIN}",
            "routes": [
                {"path": "/", "body": "Welcome to the shop"},
                {"path": "/collections/all", "body": "All products"},
                {"path": "/products/example", "body": "Blue mug. Add to cart"},
                {"path": "/cart", "body": "Your cart"},
                {"path": "/checkout", "body": "Secure checkout"},
            ],
        }
    ],
}

# What the consultant pastes: four values, one of them a live Stripe key, and comments.
ENV_FILE = """\
# Charges cards at checkout
STRIPE_SECRET_KEY=sk_live_51JourneyQ8ZtV2mLx0Pr7sWb4KdN
# The order database
DATABASE_URL=postgres://shop:Hunter2-journey-pw@db.journey-internal:5432/orders
# Optional: where order emails come from
export MAIL_FROM="Orders <orders@journey-mail.example>"
SESSION_SECRET='x9Kq2VbT7mWz4LpR8sNd3HjF'
"""
NAMES = ["STRIPE_SECRET_KEY", "DATABASE_URL", "MAIL_FROM", "SESSION_SECRET"]
VALUES = [
    "sk_live_51JourneyQ8ZtV2mLx0Pr7sWb4KdN",
    "51JourneyQ8ZtV2mLx0Pr7sWb4KdN",
    "Hunter2-journey-pw",
    "db.journey-internal",
    "orders@journey-mail.example",
    "x9Kq2VbT7mWz4LpR8sNd3HjF",
]
WIDTHS = (1280, 390)


@pytest.fixture(scope="module")
def store(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


@pytest.fixture
def worker(transactional_db):
    with solo_worker("launchready-handover-journey") as app:
        yield app


def _stored_text() -> str:
    """Every text and JSON column of every table, the handover tables included."""
    kinds = (models.CharField, models.TextField, models.JSONField)
    chunks = []
    for model in apps.get_models():
        columns = [f.attname for f in model._meta.concrete_fields if isinstance(f, kinds)]
        if columns:
            for row in model._base_manager.values_list(*columns):
                chunks.extend(str(value) for value in row if value)
    return "\n".join(chunks)


def _wider_than_screen(driver) -> list[str]:
    """The outermost visible elements that reach past the window's right edge and are not
    inside a box that scrolls or clips them (those widen the page), as CSS-like paths."""
    return driver.execute_script(
        """
        const w = window.innerWidth, out = [];
        const clipped = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement)
            if (getComputedStyle(a).overflowX !== 'visible') return true;
          return false; };
        const path = e => { const p = [];
          for (; e && e !== document.body; e = e.parentElement)
            p.unshift(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
              (e.classList.length ? '.' + [...e.classList].join('.') : ''));
          return p.join(' > '); };
        for (const e of document.body.querySelectorAll('*')) {
          const r = e.getBoundingClientRect();
          if (r.width && r.right > w + 1 && e.checkVisibility() && !clipped(e)
              && !out.some(o => o.el.contains(e)))
            out.push({el: e, desc: path(e) + ' (right edge ' + Math.round(r.right) + ' px)'});
        }
        return out.map(o => o.desc);
        """
    )


def _screenshots(driver, page: str) -> dict[int, list[str]]:
    """Screenshots of the whole page at each width; what overflows sideways at each."""
    overflow = {}
    for width in WIDTHS:
        driver.set_window_size(width, 900)
        if driver.execute_script("return document.documentElement.scrollWidth > window.innerWidth"):
            overflow[width] = _wider_than_screen(driver)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(height + 100, 8000))
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(f"/tmp/journey-{page}-{width}.png")
    driver.set_window_size(WIDTHS[0], 900)
    return overflow


def _log_in(driver, live_server, user) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{live_server.url}/accounts/login/")
    driver.find_element(By.NAME, "login").send_keys(user.email)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("/w/"))


def _open_site_page(driver, url: str) -> None:
    """The site page, once its ownership panel has loaded (htmx swaps it in after the page)."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 10).until(lambda d: "Loading the services" not in d.page_source)


def _click_and_wait(driver, element) -> None:

    element.click()
    wait_until_gone(driver, element)


def test_paste_env_report_a_deploy_from_ci_and_hand_over(
    browser,  # noqa: F811
    live_server,
    store,
    worker,
    owner,
    workspace,
    tmp_path,
    caplog,
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    caplog.set_level(logging.INFO)
    site = Site.objects.create(workspace=workspace, domain=DOMAIN, canonical=Site.Canonical.WWW)
    add_standard_routes(site)
    add_confirmed_routes(site, STORE_ROUTES)
    site_url = f"{live_server.url}/w/{workspace.uuid}/sites/{site.uuid}/"
    overflow: dict[str, dict[int, list[str]]] = {}

    # 1. Paste the .env into the import form of the environment-variable page.
    _log_in(browser, live_server, owner)
    _open_site_page(browser, site_url)
    _click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Inventory and CI gate"))
    _click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Import a .env"))
    browser.find_element(By.NAME, "text").send_keys(ENV_FILE)
    _click_and_wait(browser, browser.find_element(By.XPATH, "//button[normalize-space()='Import names']"))

    assert "/env/" in browser.current_url
    table = browser.find_element(By.CSS_SELECTOR, "#variables table").text
    for name in NAMES:
        assert name in table
    assert "Charges cards at checkout" in table  # a comment became the purpose
    assert "4 values were discarded; only names were kept." in browser.page_source
    source = browser.page_source
    assert not [value for value in VALUES if value in source]
    overflow["env"] = _screenshots(browser, "env")

    stored = _stored_text()
    assert all(name in stored for name in NAMES)  # the scan does see what was imported
    assert not [value for value in VALUES if value in stored]
    assert sorted(EnvVar.objects.filter(site=site).values_list("name", flat=True)) == sorted(NAMES)

    # 2. From the deploys page, create a read-write token for the site; it is shown once.
    _open_site_page(browser, site_url)
    _click_and_wait(browser, browser.find_element(By.LINK_TEXT, "History and CI step"))
    deploys_url = browser.current_url
    _click_and_wait(browser, browser.find_element(By.PARTIAL_LINK_TEXT, "Maintenance & API tokens"))
    browser.find_element(By.ID, "token_name").clear()
    browser.find_element(By.ID, "token_name").send_keys("GitHub Actions")
    Select(browser.find_element(By.ID, "token_site")).select_by_visible_text(DOMAIN)
    browser.find_element(By.CSS_SELECTOR, "input[name=access][value=read_write]").click()
    _click_and_wait(browser, browser.find_element(By.XPATH, "//button[normalize-space()='Create token']"))
    token = browser.find_element(By.CSS_SELECTOR, ".message-success .snippet code").text
    assert token.startswith("lr_")
    browser.refresh()
    assert token not in browser.page_source  # shown once
    listed = browser.find_element(By.XPATH, "//tr[td[starts-with(normalize-space(), 'GitHub Actions')]]").text
    assert DOMAIN in listed and "Read and write" in listed

    # 3. Copy the shell step from the deploys page and run it as a CI job would.
    browser.get(deploys_url)
    details = browser.find_element(
        By.XPATH, "//details[summary[normalize-space()='Any CI: a shell script (curl and jq)']]"
    )
    details.find_element(By.TAG_NAME, "summary").click()
    script = details.find_element(By.CSS_SELECTOR, "pre code").text
    assert script.startswith("#!/bin/sh") and str(site.uuid) in script
    path = tmp_path / "launchready-deploy.sh"
    path.write_text(script + "\n")
    result = subprocess.run(
        ["sh", str(path)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "LAUNCHREADY_TOKEN": token, "VERSION": VERSION},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"stdout: {result.stdout}\nstderr: {result.stderr}"
    deploy = Deploy.objects.get(site=site)
    assert result.stdout.startswith("Smoke test passed: ") and str(deploy.uuid) in result.stdout
    assert (deploy.version, deploy.state) == (VERSION, Deploy.State.PASSED)  # the worker ran it
    assert deploy.smoke_results.filter(passed=True).count() == 5

    # 4. The deploy history shows the deploy, its passed smoke test and the last known good.
    browser.get(deploys_url)
    history = browser.find_element(By.CSS_SELECTOR, ".deploy-env")
    heading = " ".join(history.find_element(By.TAG_NAME, "h3").text.split())
    assert heading.startswith(f"production last known good: {VERSION} (")
    (row,) = history.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert VERSION in row.text and "API token GitHub Actions" in row.text
    assert row.find_element(By.CSS_SELECTOR, ".badge-pass").text == "Passed"
    overflow["deploys"] = _screenshots(browser, "deploys")

    # 5. The handover document: where secrets live, deploy and roll back, week one; no value.
    _open_site_page(browser, site_url)
    _click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Handover document"))
    secrets = browser.find_element(By.ID, "secrets").text
    assert secrets.startswith("Where secrets live")
    for name in NAMES:
        assert name in secrets
    deploy_part = browser.find_element(By.ID, "deploy").text
    assert deploy_part.startswith("How to deploy and roll back")
    assert f"Last known good version: production: {VERSION}" in deploy_part
    week_one = browser.find_element(By.ID, "week-one").text
    assert week_one.startswith("Week one: what good looks like") and "checkout" in week_one
    source = browser.page_source
    assert not [value for value in VALUES if value in source]
    markdown = browser.execute_async_script(
        "fetch(arguments[0]).then(r => r.text()).then(arguments[arguments.length - 1]);",
        browser.current_url + "handover.md",
    )
    assert "Charges cards at checkout" in markdown and not [value for value in VALUES if value in markdown]
    overflow["handover"] = _screenshots(browser, "handover")

    assert _console_problems(browser) == []
    logged = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith(("selenium", "urllib3"))
    )
    assert not [value for value in VALUES if value in logged]
    # Nothing on these pages is wider than a phone (a wide table or code block scrolls in its box).
    assert overflow == {"env": {}, "deploys": {}, "handover": {}}

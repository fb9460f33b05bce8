"""A real browser (headless Chromium) walks a founder's first minutes: sign up, confirm the
email, land in the personal workspace, add a site. The page must work under our strict
Content-Security-Policy (no inline script or style), so the browser's console is checked.

Needs Debian's chromium and chromium-driver (.ci/run installs them). On a laptop without
them the test is skipped with that reason; in CI (CI=1) a missing browser is a failure.
"""

from __future__ import annotations

import os
import re

import pytest
from django.core import mail

from tests.browser.chrome import CHROMEDRIVER, CHROMIUM, HAVE_BROWSER
from tests.browser.pages import wait_until_gone

pytestmark = pytest.mark.skipif(
    not HAVE_BROWSER and not os.environ.get("CI"), reason="chromium and chromedriver are not installed"
)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def _fill(browser, name: str, value: str) -> None:
    from selenium.webdriver.common.by import By

    field = browser.find_element(By.NAME, name)
    field.clear()
    field.send_keys(value)


def _submit(browser) -> None:
    """Submit the page's main form and wait for the next page."""
    from selenium.webdriver.common.by import By

    button = browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]")
    button.click()
    wait_until_gone(browser, button)


def _console_problems(browser) -> list[str]:
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"]
    ]


@pytest.mark.django_db(transaction=True)
def test_sign_up_confirm_and_add_a_site(browser, live_server):
    from selenium.webdriver.common.by import By

    browser.get(f"{live_server.url}/accounts/signup/")
    _fill(browser, "email", "dana@shop.example")
    _fill(browser, "password1", "a-long-unusual-passphrase-42")
    _fill(browser, "password2", "a-long-unusual-passphrase-42")
    _submit(browser)
    assert "verify" in browser.page_source.lower() or "confirm" in browser.page_source.lower()

    (message,) = mail.outbox
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", message.body).group(0)
    browser.get(link.replace("http://testserver", live_server.url))
    _submit(browser)  # "Confirm"

    # Logged in, in the personal workspace.
    assert "/w/" in browser.current_url
    assert "dana" in browser.page_source.lower()
    browser.find_element(By.LINK_TEXT, "Sites").click()
    browser.find_element(By.PARTIAL_LINK_TEXT, "Add a site").click()
    _fill(browser, "domain", "https://Shop.Example.COM/products?ref=ad")
    _submit(browser)
    heading = browser.find_element(By.TAG_NAME, "h1").text
    assert "shop.example.com" in browser.page_source and heading
    assert "Run audit now" in browser.page_source

    # Static files and htmx loaded, and nothing broke the Content-Security-Policy.
    assert browser.execute_script("return typeof window.htmx") == "object"
    assert _console_problems(browser) == []

"""The add-monitor and alert-channel forms and the heartbeat page in a real browser, with and
without JavaScript: only the chosen kind's fields, no WCAG 2.1 A/AA violation that axe-core
finds, no sideways scrolling at 390 px, nothing blocked by our Content-Security-Policy.
Screenshots: /tmp/monitoring-forms-<page>-<width>[-nojs].png."""

from __future__ import annotations

import pytest
from django.utils import timezone

from monitoring import engine
from monitoring.heartbeats import ScheduleError
from monitoring.models import AlertChannel, Monitor
from tests.browser.chrome import CHROMEDRIVER, CHROMIUM
from tests.browser.pages import axe_violations, fits_and_shoot, wait_until_gone
from tests.browser.pages import log_in as _log_in
from tests.browser.test_journey import (  # noqa: F401 - the same browser and skip rule
    _console_problems,
    browser,
    pytestmark,
)


@pytest.fixture
def browser_without_js(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
    ):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'nojs'}")
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


def _fits_and_shoot(driver, name: str) -> None:
    fits_and_shoot(driver, f"monitoring-forms-{name}")


def _shown(driver, names: tuple[str, ...]) -> set[str]:
    from selenium.webdriver.common.by import By

    return {n for n in names if driver.find_elements(By.NAME, n)}


def test_forms_follow_the_kind_with_javascript(browser, live_server, admin, workspace):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    _log_in(browser, live_server, admin)
    base = f"{live_server.url}/w/{workspace.uuid}/monitoring"
    browser.get(f"{base}/monitors/new/")
    assert not browser.find_element(By.NAME, "show_kind").is_displayed()  # htmx does it
    assert _shown(browser, ("url", "hostname", "period_s")) == {"url"}
    _fits_and_shoot(browser, "monitor-http")
    assert axe_violations(browser) == []
    browser.find_element(By.NAME, "name").send_keys("Nightly backup")
    Select(browser.find_element(By.ID, "id_kind")).select_by_value("heartbeat")
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.NAME, "period_s"))
    assert _shown(browser, ("url", "hostname", "period_s", "tz")) == {"period_s", "tz"}
    assert browser.find_element(By.NAME, "name").get_attribute("value") == "Nightly backup"
    _fits_and_shoot(browser, "monitor-heartbeat")
    assert axe_violations(browser) == []
    browser.find_element(By.CSS_SELECTOR, "main form button.button:not([name])").click()
    WebDriverWait(browser, 10).until(lambda b: "/monitors/new/" not in b.current_url)
    monitor = Monitor.objects.get(name="Nightly backup")
    assert monitor.kind == "heartbeat" and monitor.period_s == 3600

    # The heartbeat page: the full ping URL with a copy button that JavaScript shows.
    copy = browser.find_element(By.CSS_SELECTOR, "button[data-copy='ping-url']")
    assert copy.is_displayed()
    assert browser.find_element(By.ID, "ping-url").text.startswith("http")
    _fits_and_shoot(browser, "heartbeat-page")
    assert axe_violations(browser) == []

    # A schedule that cannot be judged says so, and why, on the same page, at both widths.
    engine.mark_could_not_run(monitor.pk, ScheduleError("The cron expression never fires"), timezone.now())
    browser.refresh()
    facts = browser.find_element(By.CSS_SELECTOR, "dl.facts").text
    assert "This check could not run: The cron expression never fires" in facts
    _fits_and_shoot(browser, "heartbeat-page-could-not-run")
    assert axe_violations(browser) == []

    browser.get(f"{base}/channels/")
    assert _shown(browser, ("address", "webhook_url", "to_number", "url")) == {"address"}
    Select(browser.find_element(By.ID, "id_kind")).select_by_value("sms")
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.NAME, "to_number"))
    assert _shown(browser, ("address", "webhook_url", "to_number", "url")) == {"to_number"}
    _fits_and_shoot(browser, "channel-sms")
    assert axe_violations(browser) == []
    assert _console_problems(browser) == []


def test_forms_follow_the_kind_without_javascript(browser_without_js, live_server, admin, workspace):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser_without_js
    _log_in(driver, live_server, admin)
    base = f"{live_server.url}/w/{workspace.uuid}/monitoring"
    driver.get(f"{base}/monitors/new/")
    assert driver.execute_script("return 1") == 1  # WebDriver still runs its own scripts
    Select(driver.find_element(By.ID, "id_kind")).select_by_value("dns")
    assert _shown(driver, ("hostname",)) == set()  # nothing swaps the form by itself
    show = driver.find_element(By.NAME, "show_kind")
    show.click()
    wait_until_gone(driver, show)  # the form for the kind
    assert _shown(driver, ("url", "hostname", "record_type", "expected_values")) == {
        "hostname",
        "record_type",
        "expected_values",
    }
    _fits_and_shoot(driver, "monitor-dns-nojs")
    driver.find_element(By.NAME, "name").send_keys("Mail records")
    driver.find_element(By.NAME, "hostname").send_keys("shop.example.com")
    driver.find_element(By.NAME, "expected_values").send_keys("192.0.2.10")
    button = driver.find_element(By.CSS_SELECTOR, "main form button.button:not([name])")
    button.click()
    wait_until_gone(driver, button)  # the saved page
    assert Monitor.objects.get(name="Mail records").expected_values == ["192.0.2.10"]

    driver.get(f"{base}/channels/")
    Select(driver.find_element(By.ID, "id_kind")).select_by_value("slack")
    show = driver.find_element(By.NAME, "show_kind")
    show.click()
    wait_until_gone(driver, show)  # the form for the kind
    assert _shown(driver, ("address", "webhook_url", "to_number", "url")) == {"webhook_url"}
    _fits_and_shoot(driver, "channel-slack-nojs")
    driver.find_element(By.NAME, "name").send_keys("Team")
    driver.find_element(By.NAME, "webhook_url").send_keys("https://hooks.slack.com/services/T/B/x")
    button = driver.find_element(By.XPATH, "//button[text()='Add channel']")
    button.click()
    wait_until_gone(driver, button)
    assert AlertChannel.objects.get(workspace=workspace).kind == "slack"

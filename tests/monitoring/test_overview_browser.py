"""The monitoring page in a real browser: sites grouped worst first over pages, no WCAG 2.1
A/AA violation that axe-core finds, no sideways scrolling at 390 px, pages reached by plain
links (also without JavaScript). Screenshots: /tmp/monitoring-overview-<width>[-nojs].png."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from launchready.models import Site
from monitoring import rollups, selectors
from monitoring.models import DailyRollup, Incident, Monitor
from tests.browser.test_journey import browser, pytestmark  # noqa: F401 - the same browser and skip rule
from tests.browser.test_monitoring_forms import browser_without_js  # noqa: F401 - a browser without JavaScript
from tests.browser.test_portfolio import OVERFLOW, _log_in, axe_violations


def _sites(workspace) -> None:
    now = timezone.now()
    for i in range(selectors.SITES_PER_PAGE + 1):
        site = Site.objects.create(
            workspace=workspace, domain=f"a-rather-long-store-name-{i:02d}.example.com"
        )
        Monitor.objects.filter(site=site).update(state=Monitor.State.UP)
        monitors = list(Monitor.objects.filter(site=site))
        DailyRollup.objects.bulk_create(
            [
                DailyRollup(
                    monitor=m, day=(now - timedelta(days=d)).date(), checks=1440, failures=(d * i) % 40
                )
                for m in monitors
                for d in range(90)
            ]
        )
        if i == 7:
            home = Monitor.objects.get(site=site, auto_key="home")
            Monitor.objects.filter(pk=home.pk).update(state=Monitor.State.DOWN)
            Incident.objects.create(monitor=home, workspace=workspace, started_at=now, cause="Status 502.")
    rollups.refresh_bars()


def _check(driver, live_server, workspace, suffix: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{live_server.url}/w/{workspace.uuid}/monitoring/")
    first = driver.find_element(By.CSS_SELECTOR, ".monitor-group h3").text
    assert first == "a-rather-long-store-name-07.example.com"  # the site with a monitor down
    for width in (1280, 390):
        driver.set_window_size(width, 900)
        scroll_width, inner_width = driver.execute_script(OVERFLOW)
        assert scroll_width <= inner_width, (width, scroll_width, inner_width)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(height + 100, 6000))
        driver.save_screenshot(f"/tmp/monitoring-overview-{width}{suffix}.png")
    driver.find_element(By.LINK_TEXT, "Next sites").click()
    groups = driver.find_elements(By.CSS_SELECTOR, ".monitor-group h3")
    assert [g.text for g in groups] == ["a-rather-long-store-name-10.example.com"]
    assert "Page 2 of 2" in driver.page_source


def test_the_monitoring_page_in_a_browser(browser, live_server, owner, workspace):  # noqa: F811
    _sites(workspace)
    _log_in(browser, live_server, owner)
    browser.get(f"{live_server.url}/w/{workspace.uuid}/monitoring/")
    assert axe_violations(browser) == []
    _check(browser, live_server, workspace, "")
    assert axe_violations(browser) == []


def test_the_monitoring_page_without_javascript(browser_without_js, live_server, owner, workspace):  # noqa: F811
    _sites(workspace)
    _log_in(browser_without_js, live_server, owner)
    _check(browser_without_js, live_server, workspace, "-nojs")

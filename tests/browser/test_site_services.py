"""The site settings page with its "Services you use" section, in a real browser: no WCAG 2.1
A/AA violation that axe-core finds, fits a 390 px phone, and a declaration typed there is
saved. Screenshots: /tmp/site-services-1280.png and /tmp/site-services-390.png."""

from __future__ import annotations

from tests.browser.pages import axe_violations, fits_and_shoot
from tests.browser.pages import log_in as _log_in
from tests.browser.test_journey import browser, pytestmark  # noqa: F401 - the same browser and skip rule


def test_declare_services_on_the_site_settings_page(browser, live_server, owner, workspace, site):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _log_in(browser, live_server, owner)
    browser.get(f"{live_server.url}/w/{workspace.uuid}/sites/{site.uuid}/edit/")
    assert browser.find_element(By.CSS_SELECTOR, "fieldset#services legend").text == "Services you use"
    fits_and_shoot(browser, "site-services")
    assert axe_violations(browser) == []

    browser.find_element(By.ID, "id_error_tracking_service").send_keys("Sentry (server side)")
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: not b.current_url.endswith("/edit/"))
    site.refresh_from_db()
    assert site.error_tracking_service == "Sentry (server side)"

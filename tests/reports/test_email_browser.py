"""The weekly report's HTML, opened in the real browser at phone width, fits without sideways scrolling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from audits.models import AuditRun, Finding
from reports import content, render
from tests.browser.test_journey import browser, pytestmark  # noqa: F401 - the same browser and skip rule
from tests.browser.test_phone_width import WIDE


def test_weekly_email_fits_a_390px_screen(browser, tmp_path, workspace, site):  # noqa: F811
    end = datetime(2025, 4, 7, 6, 0, tzinfo=UTC)
    run = AuditRun.objects.create(
        site=site, status=AuditRun.Status.DONE, verdict="not_ready", created_at=end - timedelta(days=1)
    )
    Finding.objects.create(
        run=run,
        check_id="edge.x",
        severity="blocker",
        stage="edge",
        subject="s",
        title="A-very-long-unbroken-title-from-a-store-" * 4,
    )
    c = content.build(workspace, end - timedelta(days=7), end)
    c.report_url = "https://app.example.com/w/report/"
    html = render.weekly(c, unsubscribe="https://app.example.com/reports/unsubscribe/" + "x" * 120 + "/").html
    page = tmp_path / "weekly.html"
    page.write_text(html, encoding="utf-8")
    browser.set_window_size(390, 900)
    browser.get(page.as_uri())
    scroll_width, inner_width, wide = browser.execute_script(WIDE)
    browser.save_screenshot(str(tmp_path / "weekly.png"))
    assert scroll_width <= inner_width, wide

"""One way to write a date: Python code that puts a date into a sentence (alerts, heartbeat
causes, the weekly report, rule evidence, admin titles, documents) goes through
``launchready.formats`` and reads like the pages: "7 March 2030, 10:05 CET", in the
workspace's time zone where there is one, and always naming the zone."""

from __future__ import annotations

import ast
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from audits.models import AuditRun
from launchready.formats import human_date, human_datetime
from launchready.net.results import human_date as net_human_date
from monitoring import engine, outbox, runner
from monitoring.checks.specs import CheckOutcome
from monitoring.models import Incident, Monitor
from reports import content

ROOT = Path(__file__).resolve().parents[2]
APPS = ("launchready", "audits", "monitoring", "handover", "reports")
# A strftime directive that writes part of a date or time.
DIRECTIVE = re.compile(r"%[aAbBdHIjmMpSUwWyYzZ]")

# Formats that are not sentences for people, each with why it must stay as it is.
MACHINE_FORMATS = {
    ("handover/views_handover.py", "%Y-%m-%d"): "a download's file name sorts by date",
    ("audits/views.py", "%Y-%m-%d"): "a download's file name sorts by date",
    ("handover/forms_deploys.py", "%Y-%m-%dT%H:%M"): "the value <input type=datetime-local> requires",
    ("handover/forms_handover.py", "%Y-%m-%d"): "the value <input type=date> requires",
    # The network chokepoint imports nothing from Django; a test below checks it writes
    # the same "5 December 2026" as human_date.
    ("launchready/net/results.py", "%B %Y"): "same format, checked below",
    # The 90-day uptime bar labels its days "28 Nov": the year is the bar's, and a full
    # date in each of 90 tooltips makes the stored SVG longer for nothing.
    ("monitoring/charts.py", "%d %b"): "compact day labels of a 90-day bar",
}


def _date_formats(path: Path) -> list[tuple[int, str]]:
    """(line, format) of each strftime call and f-string date format in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "strftime"
        ):
            fmt = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else "?"
            found.append((node.lineno, str(fmt)))
        elif isinstance(node, ast.Call):
            for kw in node.keywords:  # DateInput(format="%Y-%m-%d") and the like
                if (
                    kw.arg == "format"
                    and isinstance(kw.value, ast.Constant)
                    and DIRECTIVE.search(str(kw.value.value))
                ):
                    found.append((node.lineno, str(kw.value.value)))
        elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            spec = "".join(
                str(part.value) for part in ast.walk(node.format_spec) if isinstance(part, ast.Constant)
            )
            if DIRECTIVE.search(spec):
                found.append((node.lineno, spec))
    return found


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in rel and not rel.startswith("launchready/formats/"):
                yield rel, path


def test_no_date_is_formatted_outside_the_helper():
    strays = [
        f"{rel}:{line}: {fmt}"
        for rel, path in _modules()
        for line, fmt in _date_formats(path)
        if (rel, fmt) not in MACHINE_FORMATS
    ]
    assert not strays, "write dates with launchready.formats.human_date(time):\n" + "\n".join(strays)


def test_the_scan_sees_every_kind_of_date_format(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "def f(when, forms):\n"
        "    a = when.strftime('%d/%m')\n"
        "    b = f'at {when:%Y-%m-%d %H:%M} UTC'\n"
        "    c = forms.DateInput(format='%d.%m.%Y')\n"
        "    d = f'{when:>10}'\n"  # a width, not a date
    )
    assert sorted(fmt for _, fmt in _date_formats(module)) == ["%Y-%m-%d %H:%M", "%d.%m.%Y", "%d/%m"]


WHEN = datetime(2030, 3, 7, 9, 5, tzinfo=UTC)


def test_human_datetime_names_the_zone_it_writes_in():
    assert human_datetime(WHEN) == "7 March 2030, 09:05 UTC"
    assert human_datetime(WHEN, "Europe/Amsterdam") == "7 March 2030, 10:05 CET"
    assert human_datetime(WHEN + timedelta(days=120), "Europe/Amsterdam") == "5 July 2030, 11:05 CEST"
    # A zone without an abbreviation is written as an offset from UTC, not a bare "+04".
    assert human_datetime(WHEN, "Asia/Dubai") == "7 March 2030, 13:05 UTC+04"
    # A stored name that is not a time zone does not stop the message: it says UTC.
    assert human_datetime(WHEN, "Mars/Olympus") == "7 March 2030, 09:05 UTC"


def test_human_date_takes_the_day_in_the_zone():
    late = datetime(2030, 3, 7, 23, 30, tzinfo=UTC)
    assert human_date(late) == "7 March 2030"
    assert human_date(late, "Europe/Amsterdam") == "8 March 2030"
    assert human_date(date(2026, 12, 5)) == "5 December 2026"


def test_the_network_layer_writes_the_same_date():
    for when in (WHEN, datetime(2026, 12, 5, 1, 0, tzinfo=UTC), datetime(2027, 1, 31, 23, 59, tzinfo=UTC)):
        assert net_human_date(when) == human_date(when)


# Rendered outputs. The workspace fixture is in Europe/Amsterdam (UTC+1 in March).


@pytest.mark.django_db
def test_an_alert_email_gives_the_time_in_the_workspaces_zone(http_monitor, email_channel):
    failures = [
        CheckOutcome(http_monitor.pk, False, WHEN + timedelta(seconds=30 * i), "Status 502.")
        for i in range(3)
    ]
    with time_machine.travel(WHEN + timedelta(minutes=2), tick=False):
        engine.apply_outcomes(failures)
        assert outbox.deliver_due() == 1
    body = mail.outbox[0].body
    assert "Since: 7 March 2030, 10:05 CET" in body
    assert "UTC" not in body and "2030-03-07" not in body


@pytest.mark.django_db
def test_a_late_heartbeat_says_when_in_the_monitors_zone(workspace):
    hb = Monitor.objects.create(
        workspace=workspace, kind="heartbeat", name="Nightly export", period_s=3600, grace_s=300
    )
    hb.last_ping_at = WHEN
    outcome = runner.heartbeat_outcome(hb, WHEN + timedelta(hours=2))
    assert outcome is not None and not outcome.ok
    assert outcome.message == "No ping since 7 March 2030, 10:05 CET; one was due by 7 March 2030, 11:10 CET."
    # A monitor with its own time zone is told in that zone.
    hb.tz, hb.last_ping_at = "America/New_York", None
    Monitor.objects.filter(pk=hb.pk).update(created_at=WHEN)
    hb.created_at = WHEN
    outcome = runner.heartbeat_outcome(hb, WHEN + timedelta(hours=2))
    assert outcome is not None
    assert outcome.message == "No ping received yet; one was due by 7 March 2030, 05:10 EST."


@pytest.mark.django_db
def test_the_weekly_report_gives_times_in_the_workspaces_zone(workspace, http_monitor):
    Monitor.objects.filter(pk=http_monitor.pk).update(severity="info")
    Incident.objects.create(
        monitor=http_monitor, workspace=workspace, started_at=WHEN, cause="Status 502.", severity="info"
    )
    report = content.build(workspace, WHEN - timedelta(days=3), WHEN + timedelta(days=4))
    info = next(s for s in report.sections if s.key == "info")
    assert [i.detail for i in info.items] == ["7 March 2030, 10:05 CET"]


@pytest.mark.django_db
def test_the_admin_title_of_an_audit_run_names_its_zone(site, admin_client):
    run = AuditRun.objects.create(site=site, status=AuditRun.Status.DONE)
    AuditRun.objects.filter(pk=run.pk).update(created_at=WHEN)
    run.refresh_from_db()
    assert str(run) == "Audit of shop.example.com at 7 March 2030, 09:05 UTC"
    page = admin_client.get(reverse("admin:audits_auditrun_change", args=[run.pk])).content.decode()
    assert "Audit of shop.example.com at 7 March 2030, 09:05 UTC" in page

"""Property: whatever one workspace's monitors hold, another workspace's monitors are checked.

Hypothesis generates monitors with extreme values in every field — any value the
database can hold, saved past the form's validation as an old row, the admin or a
future bug could — and mixes them into one dispatch and one batch with ordinary
monitors of another workspace. The ordinary ones must all be checked and recorded.
CI runs this on PostgreSQL, which refuses more than SQLite does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launchready.models import Workspace
from monitoring import runner, scheduler
from monitoring.models import CheckResult, Monitor

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db, pytest.mark.slow]

SCENARIO = {
    "name": "batch-properties",
    "zones": {"shop.test": {"records": []}},
    "registrations": {"shop.test": {"expires": "+200d"}},
    "hosts": [
        {
            "name": "www.shop.test",
            "routes": [
                {"path": "/", "body": "Welcome. Add to cart"},
                {"path": "/nul", "status": 500, "body": "broken\x00page"},
            ],
        }
    ],
}

INT4 = 2**31 - 1
INT2 = 2**15 - 1


def text(max_size: int, *examples: str) -> st.SearchStrategy[str]:
    """Any text PostgreSQL can store (no NUL, no lone surrogate), plus hand-picked nasty values."""
    chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
    return (
        st.one_of(st.sampled_from(examples), st.text(chars, max_size=max_size))
        if examples
        else st.text(chars, max_size=max_size)
    )


dates = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | text(40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text(10), inner, max_size=3),
    max_leaves=12,
).filter(lambda v: v is not None)  # the columns are NOT NULL: JSON null is not SQL NULL

extreme_monitor = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(Monitor.Kind.values),
        "state": st.sampled_from(["up", "down", "unknown"]),
        "severity": st.sampled_from(["critical", "warning", "info", "bogus"]),
        "url": text(
            1000,
            "https://www.shop.test/",
            "https://www.shop.test/nul",
            "http://[::1]/",
            "https://localhost/",
            "https://www.shop.test:99999/",
            "ftp://www.shop.test/",
        ),
        "method": st.sampled_from(["GET", "HEAD", "POST", "BREW", ""]),
        "expected_statuses": text(100, "200-399", "abc", "599-100", "", "1-99999"),
        "keyword": text(200),
        "keyword_mode": st.sampled_from(["present", "absent", "maybe"]),
        "max_response_ms": st.none() | st.integers(0, INT4),
        "timeout_s": st.integers(0, INT2),
        "follow_redirects": st.booleans(),
        "headers_secret": text(200, "", "not-a-token"),
        "hostname": text(
            253, "[::1]:443", "localhost", "www.shop.test", "shop.test", "shop.test:99999", "", "["
        ),
        "record_type": st.sampled_from(["A", "TXT", "ZZZ", "", "ANY"]),
        "expected_values": json_values,
        "last_values": json_values,
        "expires_at": st.none() | dates,
        "alerted_threshold_days": st.none() | st.integers(0, INT2),
        "schedule": st.sampled_from(["period", "cron", "weird"]),
        "period_s": st.integers(0, INT4),
        "grace_s": st.integers(0, INT4),
        "cron": text(100, "0 0 30 2 *", "0 0 29 2 *", "* * * * *", "@reboot", "", "*/0 * * * *"),
        "tz": st.sampled_from(["", "UTC", "Mars/Olympus", "Pacific/Kiritimati"]),
        "last_ping_at": st.none() | dates,
        "last_start_at": st.none() | dates,
        "interval_s": st.integers(0, INT4),
        "consecutive_failures": st.integers(0, INT4),
        "consecutive_successes": st.integers(0, INT4),
        "confirm_failures": st.integers(0, INT2),
        "recover_successes": st.integers(0, INT2),
        "transitions": json_values,
        "created_at": dates,
    }
)


@pytest.fixture(scope="module")
def sb(sandbox_scenario):
    return sandbox_scenario(SCENARIO)


def test_extreme_monitors_never_cost_another_workspace_its_checks(workspace, sb, monkeypatch):
    monkeypatch.setattr(runner, "RECHECK_DELAY_S", 0.0)
    other = Workspace.objects.create(name="Ordinary client", timezone="UTC")

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.lists(extreme_monitor, min_size=1, max_size=3))
    def one_batch(fields_list):
        with transaction.atomic():  # each example starts from the same data
            check_one_batch(fields_list)
            transaction.set_rollback(True)

    def check_one_batch(fields_list):
        now = timezone.now()
        page = Monitor.objects.create(
            workspace=other, name="Home", url="https://www.shop.test/", next_check_at=now
        )
        job = Monitor.objects.create(
            workspace=other,
            kind="heartbeat",
            name="Nightly",
            period_s=3600,
            grace_s=60,
            last_ping_at=now - timedelta(hours=2),
            next_check_at=now,
        )
        for fields in fields_list:
            fields = dict(fields)
            created_at = fields.pop("created_at")
            m = Monitor.objects.create(workspace=workspace, name="Extreme", next_check_at=now, **fields)
            Monitor.objects.filter(pk=m.pk).update(created_at=created_at)

        claims, _ = scheduler.claim_due(now, batch_size=50)
        assert {page.pk, job.pk} <= {c.monitor_id for c in claims}
        runner.run_batch(claims)

        assert CheckResult.objects.filter(monitor=page, ok=True, checked_at__gte=now).count() == 1
        assert CheckResult.objects.filter(monitor=job, ok=False, checked_at__gte=now).count() == 1

    one_batch()

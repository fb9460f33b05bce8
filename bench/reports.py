"""Weekly reports benchmark: 1,000 workspaces' reports rendered and handed to SMTP by one worker.

A fresh SQLite database is seeded with ``--workspaces`` (1,000) workspaces, each with one
owner, one site (its automatic monitors), a finished audit run with a blocker and a high,
and a week of daily rollups. A local aiosmtpd server receives the messages.

- ``baseline``: building and rendering every report (HTML and text), no SMTP.
- ``value``: issuing every report (the claim), building, rendering and handing each to
  the SMTP server over one connection, as the beat job does in one worker process.
- ``ratio`` = value / baseline. Goal: value < 60 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import tempfile
import time
from datetime import UTC, datetime, timedelta

GOAL_S = 60.0


def _setup(workdir: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "launchready.settings_test",
            "DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
            "LAUNCHREADY_VAR_DIR": workdir,
            "CELERY_BROKER_URL": "memory://",
        }
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def _seed(n: int, slot: datetime) -> None:
    from django.contrib.auth import get_user_model

    from audits.models import AuditRun, Finding
    from launchready.models import Membership, Site, Workspace
    from monitoring.models import DailyRollup, Monitor
    from reports.models import ReportSchedule

    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"u{i}", email=f"owner{i}@example.com") for i in range(n)]
    )
    workspaces = Workspace.objects.bulk_create(
        [Workspace(name=f"Store {i}", timezone="UTC") for i in range(n)]
    )
    Membership.objects.bulk_create(
        [Membership(workspace=w, user=u, role="owner") for w, u in zip(workspaces, users, strict=True)]
    )
    for w in workspaces:
        Site.objects.create(workspace=w, domain=f"store{w.pk}.example.com")  # signals add routes and monitors
    runs = AuditRun.objects.bulk_create(
        [
            AuditRun(site=s, status="done", verdict="not_ready", created_at=slot - timedelta(days=1))
            for s in Site.objects.all()
        ]
    )
    Finding.objects.bulk_create(
        [
            Finding(
                run=r, check_id=f"x.{sev}", severity=sev, stage="edge", subject="s", title=f"A {sev} problem"
            )
            for r in runs
            for sev in ("blocker", "high")
        ]
    )
    DailyRollup.objects.bulk_create(
        [
            DailyRollup(
                monitor=m,
                day=(slot - timedelta(days=d)).date(),
                checks=1440,
                failures=1,
                p50_ms=200,
                p95_ms=450,
            )
            for m in Monitor.objects.filter(kind="http")
            for d in range(1, 8)
        ]
    )
    ReportSchedule.objects.bulk_create([ReportSchedule(workspace=w, next_send_at=slot) for w in workspaces])


def run(argv: list[str]) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m bench reports")
    parser.add_argument("--workspaces", type=int, default=1000)
    args = parser.parse_args(argv)
    slot = datetime(2025, 4, 7, 8, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as workdir:
        _setup(workdir)
        from aiosmtpd.controller import Controller
        from django.conf import settings

        from launchready.models import Membership, Workspace
        from reports import content, delivery, render

        _seed(args.workspaces, slot)

        class Sink:
            received = 0

            async def handle_DATA(self, server, session, envelope):  # aiosmtpd hook name
                Sink.received += 1
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(Sink(), hostname="127.0.0.1", port=port)
        controller.start()
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        try:
            started = time.perf_counter()
            workspaces = list(Workspace.objects.all())
            for first in range(0, len(workspaces), delivery.BUILD_BATCH):  # as the sender reads them
                batch = workspaces[first : first + delivery.BUILD_BATCH]
                built = content.build_many(batch, slot - timedelta(days=7), slot)
                members = dict(
                    Membership.objects.filter(workspace__in=batch).values_list("workspace_id", "uuid")
                )
                for ws in batch:
                    render.weekly(built[ws.pk], unsubscribe=render.unsubscribe_url("weekly", members[ws.pk]))
            baseline = time.perf_counter() - started
            now = slot + timedelta(minutes=1)
            started = time.perf_counter()
            while delivery.issue_due(now):  # the beat issues at most ISSUE_BATCH a tick
                pass
            sent = delivery.deliver(now=now)
            value = time.perf_counter() - started
        finally:
            controller.stop()
    return [
        {
            "name": "reports",
            "value": round(value, 2),
            "unit": "s",
            "baseline": round(baseline, 2),
            "ratio": round(value / baseline, 2) if baseline else None,
            "workspaces": args.workspaces,
            "sent": sent,
            "received": Sink.received,
            "goal_s": GOAL_S,
            "database": "sqlite",
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        }
    ]

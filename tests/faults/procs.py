"""Real processes for the fault tests: Celery workers, beats, the web app, Redis, PostgreSQL.

Every process is started in its own session so that ``kill -9`` takes it and its
children (a prefork worker's pool) and nothing else; the fixture ends the ones still
running by their own pids. Logs go to files under the test's temporary folder and are
printed when a wait times out.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from celery import Celery

from tests.reports.fixtures import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(condition: Callable[[], object], timeout: float, what: str, logs: list[Path] = ()) -> object:
    """Poll ``condition`` until it is truthy; fail with ``what`` and the processes' logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs if p.exists())
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tails}")


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def children(self) -> list[int]:
        """Direct children (a prefork worker's pool processes)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.pid:
                found.append(int(entry.name))
        return found

    def kill9(self) -> None:
        """``kill -9`` of the process and everything it started (its session)."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
                self.popen.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill9()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Processes:
    """Starts processes with the test's environment; ``close()`` ends those still running."""

    folder: Path
    env: dict[str, str]
    started: list[Proc] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Proc:
        log = self.folder / f"{name}-{len(self.started)}.log"
        handle = log.open("wb")
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        handle.close()
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    def worker(self, name: str = "worker", concurrency: int = 1, pool: str = "prefork") -> Proc:
        proc = self.start(
            name,
            [
                str(VENV_BIN / "celery"),
                "-A",
                "launchready",
                "worker",
                "--loglevel",
                "INFO",
                "--pool",
                pool,
                "--concurrency",
                str(concurrency),
                "--hostname",
                f"{name}-{os.getpid()}-{len(self.started)}@faults",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
        )
        wait_for(lambda: "ready." in proc.output(), 60, f"the Celery worker {name} to be ready", [proc.log])
        return proc

    def beat(self, name: str = "beat") -> Proc:
        schedule = self.folder / f"{name}-schedule"
        return self.start(
            name,
            [
                str(VENV_BIN / "celery"),
                "-A",
                "launchready",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(schedule),
                "--max-interval",
                "1",
            ],
        )

    def web(self, name: str = "web") -> tuple[Proc, str]:
        """The web app under gunicorn (as in production's Procfile); returns it and its base URL."""
        port = free_port()
        proc = self.start(
            name,
            [
                str(VENV_BIN / "gunicorn"),
                "launchready.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "30",
            ],
        )
        wait_for(lambda: port_open(port), 60, "the web app to listen", [proc.log])
        return proc, f"http://127.0.0.1:{port}"

    def close(self) -> None:
        for proc in reversed(self.started):
            proc.stop()


def send_task(broker_url: str, name: str, *args, **options) -> None:
    """Queue a task on ``broker_url`` as the product's code would (JSON, by name); ``options``
    are ``apply_async``'s (``soft_time_limit``, ``time_limit``…)."""
    app = Celery("faults-sender", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    with app.connection_for_write(broker_url) as conn:
        app.send_task(name, args=list(args), connection=conn, **options)


class Smtp:
    """A real SMTP server that can be stopped and started again on its port."""

    def __init__(self) -> None:
        self.handler = SmtpServer(port=free_port())
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.handler.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class OwnRedis:
    """A redis-server of the test's own on a free port, to stop and start again (nothing on disk,
    so a restart loses what was queued, as a broker that died would)."""

    def __init__(self, processes: Processes) -> None:
        self.processes = processes
        self.port = free_port()
        self.proc: Proc | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        argv = [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self.proc = self.processes.start("redis", argv)
        wait_for(lambda: port_open(self.port), 20, "redis-server to listen", [self.proc.log])

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill9()
            self.proc = None

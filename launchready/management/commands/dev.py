"""``make run``: the whole product for development in one terminal, demo stores included.

Starts the sandbox internet serving both demo stores (``demo_broken`` and
``demo_good``), points every process at it through the environment, creates the demo
login and its workspace holding both stores, then runs the processes of
``Procfile.dev`` (web, worker, scheduler, mail receiver) under honcho. Once the web
process serves, a banner says where to go and how to log in. Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

DEMO_SCENARIOS = ("demo_broken", "demo_good")
WEB_URL = "http://127.0.0.1:8000"
# runserver prints this once it serves requests (again after each reload).
WEB_READY_LINE = "Quit the server with"
BANNER_DELAY_SECONDS = 1.0


class Command(BaseCommand):
    help = (
        "Run Launch Ready for development: the sandbox with both demo stores, the web app, a worker, "
        "the scheduler and the mail receiver. Ctrl-C stops everything. DEBUG=true only."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--procfile", default="Procfile.dev", help="the processes to run (default: %(default)s)"
        )
        parser.add_argument(
            "--no-sandbox",
            action="store_true",
            help="do not start the sandbox: audits then reach the real internet (or whatever .env points at)",
        )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("dev only runs with DEBUG=true: it creates a known login and demo stores.")
        honcho = shutil.which(
            "honcho", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
        )
        if honcho is None:
            raise CommandError("honcho is not installed: run `make install` first.")

        from sandbox import Sandbox
        from sandbox.combine import combine

        sandbox = None
        env = dict(os.environ)
        if not options["no_sandbox"]:
            sandbox = Sandbox(combine(DEMO_SCENARIOS)).start()
            env.update(sandbox.env)
        try:
            call_command("devsetup", demo_stores=sandbox is not None, quiet=True, stdout=self.stdout)
            self._run(honcho, options["procfile"], env, demo_stores=sandbox is not None)
        finally:
            if sandbox is not None:
                sandbox.stop()
            self.stdout.write("Launch Ready stopped.")

    def _run(self, honcho: str, procfile: str, env: dict[str, str], *, demo_stores: bool) -> None:
        """Relay the processes' output; banner once the web process serves; Ctrl-C stops all.

        honcho runs in a session of its own, so the terminal's Ctrl-C reaches only this
        process, which then asks honcho to stop its processes in order (each shuts down
        cleanly instead of every pool child being interrupted at once) and relays nothing
        more: stopping is quiet. A second Ctrl-C kills what is left.
        """
        process = subprocess.Popen(  # our own tool, its output relayed line by line
            [honcho, "--no-colour", "-f", procfile, "start"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        lock = threading.Lock()
        state = {"stopping": False, "banner": None}

        def stop(signum, frame) -> None:
            if state["stopping"]:
                os.killpg(process.pid, signal.SIGKILL)
                return
            state["stopping"] = True
            with lock:
                self.stdout.write("\nStopping Launch Ready…")
                self.stdout.flush()
            process.send_signal(signal.SIGINT)

        def banner() -> None:
            with lock:
                if not state["stopping"]:
                    self._banner(demo_stores)

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            assert process.stdout is not None
            for line in process.stdout:
                if state["stopping"]:
                    continue
                with lock:
                    self.stdout.write(line, ending="")
                if state["banner"] is None and WEB_READY_LINE in line:
                    # Printed once runserver's own start-up lines are out, so it stays last.
                    state["banner"] = threading.Timer(BANNER_DELAY_SECONDS, banner)
                    state["banner"].start()
            process.wait()
        finally:
            if state["banner"] is not None:
                state["banner"].cancel()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _banner(self, demo_stores: bool) -> None:
        from .devsetup import DEMO_EMAIL, DEMO_PASSWORD

        lines = [
            f"Launch Ready is running: open {WEB_URL}/",
            f"Log in as {DEMO_EMAIL}  /  {DEMO_PASSWORD}",
        ]
        if demo_stores:
            lines.append('Your demo workspace holds both demo stores: open "broken-store.test" and press')
            lines.append('"Run audit now" to see a verdict. The stores live in a local sandbox, not online.')
        lines.append(f"Signing up instead? Emails appear in this terminal and at {WEB_URL}/dev/mail/.")
        lines.append("Press Ctrl-C to stop everything.")
        width = max(len(line) for line in lines) + 4
        rule = "=" * width
        text = "\n".join(["", rule, *(f"  {line}" for line in lines), rule, ""])
        self.stdout.write(self.style.SUCCESS(text) if self.stdout.isatty() else text)
        self.stdout.flush()

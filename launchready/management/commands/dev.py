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
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

DEMO_SCENARIOS = ("demo_broken", "demo_good")
WEB_URL = "http://127.0.0.1:8000"
# runserver prints this once it serves requests (again after each reload).
WEB_READY_LINE = "Quit the server with"


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
        # honcho and its processes share our terminal's process group, so Ctrl-C reaches
        # them directly; this process relays their output and prints the banner once the
        # web process says it is serving (no network call: the output says when).
        process = subprocess.Popen(  # our own tool, its output relayed line by line
            [honcho, "--no-colour", "-f", procfile, "start"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        shown = False
        try:
            assert process.stdout is not None
            for line in process.stdout:
                self.stdout.write(line, ending="")
                if not shown and WEB_READY_LINE in line:
                    self._banner(demo_stores)
                    shown = True
            process.wait()
        finally:
            signal.signal(signal.SIGINT, previous)

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

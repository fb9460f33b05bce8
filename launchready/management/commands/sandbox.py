"""Run the sandbox internet in the foreground (for demos): ``manage.py sandbox demo_broken``.

Several scenarios are served by one sandbox: ``manage.py sandbox demo_broken demo_good``.
"""

from __future__ import annotations

import logging
import shlex
import signal
import threading
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Start the sandbox internet (DNS, HTTP/HTTPS hosts, RDAP, webhook and SMTP receivers) for a "
        "scenario and print the environment variables that point Launch Ready at it. Ctrl-C stops it."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "scenario",
            nargs="*",
            default=["demo_broken"],
            help="scenario names or YAML paths (several: one sandbox)",
        )
        parser.add_argument("--list", action="store_true", help="list the bundled scenarios and exit")
        parser.add_argument("--env-file", help="also write the variables to this file (KEY=value lines)")

    def handle(self, *args, **options) -> None:
        from sandbox import Sandbox, ScenarioError, load_scenario
        from sandbox.combine import combine
        from sandbox.scenario import SCENARIO_DIR

        if options["list"]:
            for path in sorted(SCENARIO_DIR.glob("*.yaml")):
                scenario = load_scenario(path)
                self.stdout.write(f"{path.stem:<14} {scenario.description.strip()[:100]}")
            return
        try:
            scenario = combine(options["scenario"])
        except ScenarioError as exc:
            raise CommandError(str(exc)) from exc

        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        sandbox = Sandbox(scenario).start()
        try:
            if options["env_file"]:
                # Written before anything is printed: a reader who sees the banner can source it.
                lines = [f"{key}={value}\n" for key, value in sandbox.env.items()]
                Path(options["env_file"]).write_text("".join(lines))
                self.stdout.write(f"# Variables written to {options['env_file']}")
            self._print(sandbox)
            self.stdout.flush()
            while not stop.wait(0.5):
                pass
        finally:
            sandbox.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stdout.write("\nSandbox stopped.")

    def _print(self, sandbox) -> None:
        scenario = sandbox.scenario
        self.stdout.write(
            f"# Sandbox scenario {scenario.name!r} is running (started in {sandbox.startup_seconds:.2f} s)."
        )
        self.stdout.write("# Paste these lines into another shell, then run the app or an audit there:")
        for key, value in sandbox.env.items():
            self.stdout.write(f"export {key}={shlex.quote(value)}")
        self.stdout.write("#")
        self.stdout.write(f"# DNS resolver: 127.0.0.1 port {sandbox.dns_port} (UDP and TCP)")
        self.stdout.write(
            f"# Ports: http {sandbox.http_port}, https {sandbox.https_port}, smtp {sandbox.smtp_port} "
            "(on every host address below)"
        )
        self.stdout.write("# Hosts:")
        for host in scenario.hosts:
            schemes = [s for s, on in (("http", host.http), ("https", host.https)) if on]
            if host.smtp:
                schemes.append("smtp")
            cert = f" cert={host.cert.profile}" if host.https else ""
            self.stdout.write(f"#   {host.name:<34} {host.address:<14} {'+'.join(schemes) or '-'}{cert}")
        self.stdout.write('# Try: curl --cacert "$LAUNCHREADY_CA_BUNDLE" \\')
        sites = [h for h in scenario.hosts if h.https and h.kind == "site"]
        first = next((h for h in sites if h.name.startswith("www.")), sites[0] if sites else None)
        if first is not None:
            self.stdout.write(
                f"#        --resolve {first.name}:{sandbox.https_port}:{first.address} "
                f"https://{first.name}:{sandbox.https_port}/"
            )
        self.stdout.write("# Press Ctrl-C to stop.")

"""``manage.py sandbox``: lists scenarios, runs one in the foreground, stops on Ctrl-C."""

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.sandbox

ROOT = Path(__file__).resolve().parents[2]


def test_list_shows_the_bundled_scenarios():
    out = StringIO()
    call_command("sandbox", "--list", stdout=out)
    names = [line.split()[0] for line in out.getvalue().splitlines()]
    assert {"demo_good", "demo_broken", "netlab"} <= set(names)


def test_unknown_scenario_is_a_command_error():
    with pytest.raises(CommandError, match="no scenario"):
        call_command("sandbox", "nope_not_here")


def test_foreground_run_prints_exports_and_stops_on_ctrl_c(tmp_path):
    env_file = tmp_path / "sandbox.env"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "launchready.settings_test", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", "demo_good", "--env-file", str(env_file)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        output = "".join(lines)
        assert "export LAUNCHREADY_DNS_SERVERS=127.0.0.1:" in output
        assert "export LAUNCHREADY_ALLOWED_TARGET_NETWORKS=127.77.0.0/16" in output
        assert "www.good-store.test" in output
        assert env_file.read_text().count("\n") >= 5
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "Sandbox stopped." in rest

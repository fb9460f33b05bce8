"""The ready-to-paste CI steps, run for real: names only on the wire, and the exit codes.

Each variant runs in bash or sh with curl, jq or python3, first against a server that
records what it receives (no value may be in it, not even a line of a multi-line
value), then against the running app (0 when every required variable is set, 1 when
one is missing or the token is wrong).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from handover.ci_env import env_gate_steps
from handover.models import EnvCheck
from monitoring.models import ApiToken

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "jq", "python3")),
    reason="the CI steps need bash, curl, jq and python3",
)

VALUE = "postgres://shop:Tr0ub4dor-" + "zz9@db/shop"
MULTI_LINE = "-----BEGIN KEY-----\nSECRET_LINE=Tr0ub4dor-zz9\n-----END KEY-----"


def _github_script(github_step: str) -> str:
    return textwrap.dedent(github_step.split("  run: |\n", 1)[1])


def _variants(site, environment: str = "production") -> dict[str, list[str]]:
    steps = env_gate_steps(site, environment)
    return {
        "github": ["bash", "-eo", "pipefail", "-c", _github_script(steps.github)],
        "bash": ["bash", "-o", "pipefail", "-c", steps.bash],
        "python": ["sh", "-c", steps.python],
    }


def _run(command: list[str], tmp_path, **env) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    return subprocess.run(
        command, cwd=tmp_path, env={**base, **env}, capture_output=True, text=True, timeout=60
    )


class _Recorder(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self):  # the stdlib's name
        self.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        answer = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.SITE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    _Recorder.bodies = []
    yield _Recorder.bodies
    server.shutdown()


@pytest.mark.django_db
@pytest.mark.parametrize("variant", ["github", "bash", "python"])
def test_the_steps_send_names_and_never_values(variant, site, recorder, tmp_path):
    result = _run(
        _variants(site)[variant],
        tmp_path,
        LAUNCHREADY_TOKEN="lr_test",
        DATABASE_URL=VALUE,
        PEM_KEY=MULTI_LINE,
    )
    assert result.returncode == 0, result.stderr
    (body,) = recorder
    assert b"Tr0ub4dor" not in body and b"SECRET_LINE" not in body and b"BEGIN" not in body
    sent = json.loads(body)
    assert sent["site"] == str(site.uuid) and sent["environment"] == "production"
    assert {"DATABASE_URL", "PEM_KEY", "LAUNCHREADY_TOKEN"} <= set(sent["names"])


@pytest.mark.parametrize("variant", ["github", "bash", "python"])
def test_the_exit_code_follows_ok(variant, live_server, settings, workspace, site, env_vars, tmp_path):
    settings.SITE_URL = live_server.url
    _, plain = ApiToken.issue(workspace, "CI", site=site)
    command = _variants(site)[variant]
    present = {"DATABASE_URL": VALUE, "STRIPE_SECRET_KEY": "x"}

    assert _run(command, tmp_path, LAUNCHREADY_TOKEN=plain, **present).returncode == 0
    missing = _run(command, tmp_path, LAUNCHREADY_TOKEN=plain, DATABASE_URL=VALUE)
    assert missing.returncode == 1 and "STRIPE_SECRET_KEY" in missing.stderr + missing.stdout
    assert _run(command, tmp_path, LAUNCHREADY_TOKEN="lr_wrong", **present).returncode == 1
    assert [c.ok for c in EnvCheck.objects.order_by("checked_at", "id")] == [True, False]

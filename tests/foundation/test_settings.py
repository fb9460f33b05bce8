"""Settings: production refuses unsafe start-up and passes Django's deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run_manage(*args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SECRET_KEY", "DEBUG", "SECURE_", "LAUNCHREADY_"))
    }
    env.update(
        {"DJANGO_SETTINGS_MODULE": "launchready.settings", "LAUNCHREADY_VAR_DIR": "/tmp/lr-settings-test"}
    )
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_secret_key():
    result = _run_manage("check", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_refuses_to_start_without_encryption_keys():
    result = _run_manage("check", DEBUG="false", SECRET_KEY="s" * 60)
    assert result.returncode != 0
    assert "LAUNCHREADY_ENCRYPTION_KEYS is not set" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = _run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="k" * 20 + "-production-like-secret-9f8e7d6c5b4a3928171615141312",
        ALLOWED_HOSTS="app.launchready.example",
        SITE_URL="https://app.launchready.example",
        EMAIL_URL="smtp://mail.example:587",
        LAUNCHREADY_ENCRYPTION_KEYS="cHJvZHVjdGlvbi1saWtlLWZlcm5ldC1rZXktMDEyMzQ=",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_runs_without_secret_key():
    result = _run_manage("check", DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_our_pages_carry_security_headers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert len(response["X-Request-ID"]) >= 8

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


# The development keys are published in this repository: production must not run on them.
DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
DEV_ENCRYPTION_KEY = "ZGV2LW9ubHktaW5zZWN1cmUtZW5jcnlwdGlvbi1rZXk="
PRODUCTION_LIKE = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "-production-like-secret-9f8e7d6c5b4a3928171615141312",
    "LAUNCHREADY_ENCRYPTION_KEYS": "cHJvZHVjdGlvbi1saWtlLWZlcm5ldC1rZXktMDEyMzQ=",
}


def test_production_refuses_the_development_secret_key():
    result = _run_manage("check", **{**PRODUCTION_LIKE, "SECRET_KEY": f" {DEV_SECRET_KEY}"})
    assert result.returncode != 0
    assert "SECRET_KEY is the development key" in result.stderr
    assert "get_random_secret_key()" in result.stderr  # and says how to make a new one


def test_production_refuses_the_development_encryption_key():
    result = _run_manage(
        "check", **{**PRODUCTION_LIKE, "LAUNCHREADY_ENCRYPTION_KEYS": f"{DEV_ENCRYPTION_KEY} "}
    )
    assert result.returncode != 0
    assert "LAUNCHREADY_ENCRYPTION_KEYS starts with the development key" in result.stderr
    assert "Fernet.generate_key()" in result.stderr and "reencrypt_secrets" in result.stderr


def test_development_encryption_key_may_stay_behind_a_new_one_while_rotating_away_from_it():
    # Secrets already encrypted with it stay readable until `reencrypt_secrets` has run.
    keys = f"{PRODUCTION_LIKE['LAUNCHREADY_ENCRYPTION_KEYS']},{DEV_ENCRYPTION_KEY}"
    result = _run_manage("check", **{**PRODUCTION_LIKE, "LAUNCHREADY_ENCRYPTION_KEYS": keys})
    assert result.returncode == 0, result.stderr


def test_debug_still_uses_the_development_keys():
    result = _run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; print(s.SECRET_KEY, s.LAUNCHREADY_ENCRYPTION_KEYS[0])",
        DEBUG="true",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [DEV_SECRET_KEY, DEV_ENCRYPTION_KEY]


def _proxy_settings(**env: str) -> subprocess.CompletedProcess:
    code = (
        "from django.conf import settings as s; "
        "print(s.TRUSTED_PROXY_COUNT, s.TRUSTED_CLIENT_IP_HEADER or '-', "
        "s.ALLAUTH_TRUSTED_PROXY_COUNT, s.ALLAUTH_TRUSTED_CLIENT_IP_HEADER)"
    )
    return _run_manage("shell", "--no-imports", "-c", code, **{**PRODUCTION_LIKE, **env})


def test_trusted_proxy_settings_reach_allauth():
    assert _proxy_settings().stdout.split() == ["0", "-", "0", "None"]
    assert _proxy_settings(TRUSTED_PROXY_COUNT="2").stdout.split() == ["2", "-", "2", "None"]
    by_header = _proxy_settings(TRUSTED_CLIENT_IP_HEADER="X-Real-IP")
    assert by_header.stdout.split() == ["0", "X-Real-IP", "0", "X-Real-IP"]


def test_trusted_proxy_count_and_header_together_are_refused():
    result = _proxy_settings(TRUSTED_PROXY_COUNT="1", TRUSTED_CLIENT_IP_HEADER="X-Real-IP")
    assert result.returncode != 0
    assert "not both" in result.stderr


def test_the_embedded_default_cache_is_shared_by_the_products_processes(tmp_path):
    """`make run` starts web, worker and beat as separate processes on the embedded defaults
    (no CACHE_URL): a page version the worker moves when an audit ends must be seen by the
    web process at once, or the founder waits for the kept page to expire."""
    env = {k: v for k, v in os.environ.items() if k not in ("CACHE_URL", "DATABASE_URL")}
    env |= {"DJANGO_SETTINGS_MODULE": "launchready.settings", "LAUNCHREADY_VAR_DIR": str(tmp_path)}
    env |= {"DEBUG": "true"}

    def shell(code: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""

    read = "from launchready import fragments; print(fragments.version(7))"
    before = shell(read)
    assert shell(read) == before  # another process sees the same version
    shell("from launchready import fragments; fragments.bump(7)")  # as the worker does
    after = shell(read)
    assert after != before and shell(read) == after


def test_each_test_process_has_its_own_var_folder(settings):
    """The embedded broker's queue lives there: two xdist workers sharing it take each
    other's tasks (a worker of one test process running another's audit)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    assert Path(settings.VAR_DIR).name == f"launchready-test-var-{worker}"
    assert settings.CELERY_TASK_DEFAULT_QUEUE == f"launchready-test-{worker}"  # Redis is shared
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        assert folder.parent == Path(settings.VAR_DIR)

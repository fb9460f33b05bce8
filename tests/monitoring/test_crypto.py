"""Credentials at rest: MultiFernet with a dedicated key list, rotation, production refusal."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from monitoring import crypto
from monitoring.models import AlertChannel, Monitor

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture
def keys(settings):
    crypto._fernet.cache_clear()
    settings.LAUNCHREADY_ENCRYPTION_KEYS = [OLD]
    yield settings
    crypto._fernet.cache_clear()


def test_first_key_encrypts_any_key_decrypts(keys):
    token = crypto.encrypt("hooks.slack.com/secret")
    keys.LAUNCHREADY_ENCRYPTION_KEYS = [NEW, OLD]
    assert crypto.decrypt(token) == "hooks.slack.com/secret"
    keys.LAUNCHREADY_ENCRYPTION_KEYS = [NEW]
    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt(token)


@pytest.mark.django_db
def test_reencrypt_secrets_rotates_to_the_first_key(keys, workspace, capsys):
    ch = AlertChannel(workspace=workspace, kind="sms", name="Phone")
    ch.credentials = {"auth_token": "twilio-token"}
    ch.save()
    monitor = Monitor.objects.create(
        workspace=workspace, name="API", url="https://shop.example.com/api", headers={"X-Api-Key": "k-123"}
    )
    keys.LAUNCHREADY_ENCRYPTION_KEYS = [NEW, OLD]
    call_command("reencrypt_secrets")
    assert "2 stored secret(s)" in capsys.readouterr().out
    keys.LAUNCHREADY_ENCRYPTION_KEYS = [NEW]  # the old key can now be dropped
    ch.refresh_from_db()
    assert ch.credentials == {"auth_token": "twilio-token"}
    assert "twilio-token" not in repr(ch) and "twilio-token" not in ch.secret
    monitor.refresh_from_db()
    assert monitor.headers == {"X-Api-Key": "k-123"} and "k-123" not in monitor.headers_secret


@pytest.mark.django_db
def test_reencrypt_refuses_when_a_secret_is_unreadable(keys, workspace):
    ch = AlertChannel(workspace=workspace, kind="sms", name="Phone")
    ch.credentials = {"auth_token": "x"}
    ch.save()
    keys.LAUNCHREADY_ENCRYPTION_KEYS = [NEW]
    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("reencrypt_secrets")


def test_production_refuses_to_start_without_keys():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LAUNCHREADY_ENCRYPTION_KEYS", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        {"DEBUG": "false", "SECRET_KEY": "x" * 50, "LAUNCHREADY_VAR_DIR": "/tmp/launchready-crypto-test"}
    )
    proc = subprocess.run(
        [sys.executable, "-c", "import launchready.settings"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0 and "LAUNCHREADY_ENCRYPTION_KEYS is not set" in proc.stderr

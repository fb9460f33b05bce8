"""Encryption at rest for channel credentials (webhook URLs, Twilio tokens).

``LAUNCHREADY_ENCRYPTION_KEYS`` is a comma list of Fernet keys, kept apart from
``SECRET_KEY`` so rotating one never breaks the other: the first key encrypts,
any key decrypts (MultiFernet). To rotate, put a new key first, run
``manage.py reencrypt_secrets``, then drop the old key. Plain values never reach a
log line or an exception message.
"""

from __future__ import annotations

import functools
import json
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)


class SecretUnreadable(Exception):
    """No configured key decrypts this value (a key was dropped too early)."""


@functools.cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("LAUNCHREADY_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError:
        raise ImproperlyConfigured(
            "LAUNCHREADY_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(generate one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
        ) from None


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.LAUNCHREADY_ENCRYPTION_KEYS))


def encrypt(plain: str) -> str:
    return fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("No key in LAUNCHREADY_ENCRYPTION_KEYS decrypts this secret.") from None


def rotate(token: str) -> str:
    """Re-encrypt with the first key (MultiFernet.rotate keeps the original timestamp)."""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("No key in LAUNCHREADY_ENCRYPTION_KEYS decrypts this secret.") from None


def encrypt_json(value: dict) -> str:
    return encrypt(json.dumps(value, separators=(",", ":"), sort_keys=True))


def decrypt_json(token: str) -> dict:
    return json.loads(decrypt(token))

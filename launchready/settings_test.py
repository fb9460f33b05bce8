"""Test settings: the production settings with test-only defaults.

``DATABASE_URL`` and ``CELERY_BROKER_URL`` still come from the environment, so CI
runs the same suite on PostgreSQL and Redis.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-key-not-secret-" + "x" * 40)
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("LAUNCHREADY_ENCRYPTION_KEYS", "dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTAxMjM0NTY=")
# A var folder (the embedded broker's queue, uploads) per pytest-xdist worker. The workers
# inherit the environment of the main process, which set its own folder first: that one is
# replaced, a folder given from outside is kept.
_TEST_VAR = os.path.join(tempfile.gettempdir(), "launchready-test-var-")
if os.environ.get("LAUNCHREADY_VAR_DIR", _TEST_VAR).startswith(_TEST_VAR):
    os.environ["LAUNCHREADY_VAR_DIR"] = _TEST_VAR + os.environ.get("PYTEST_XDIST_WORKER", "main")
# The suite runs in one process per xdist worker: its own memory cache unless CI gives Redis.
os.environ.setdefault("CACHE_URL", "locmemcache://")

from .settings import *  # noqa: F403, E402 - after the environment above

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# Test runs share one Redis database between pytest-xdist workers: each worker's keys carry
# its own prefix, and tests empty only their worker's keys (tests/conftest.py).
CACHES["default"]["KEY_PREFIX"] = "test-" + os.environ.get("PYTEST_XDIST_WORKER", "main")  # noqa: F405
# One task queue per test process: CI's Redis broker is shared by the pytest-xdist workers, and
# a test's Celery worker must take only the tasks of its own process (and its database).
CELERY_TASK_DEFAULT_QUEUE = "launchready-test-" + os.environ.get("PYTEST_XDIST_WORKER", "main")

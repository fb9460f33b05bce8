"""A real Celery worker consumes tasks from the configured broker, and from Redis."""

import os
import socket
import time

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.conf import settings

import launchready.tasks  # noqa: F401 - registers the task
from launchready.celery import app
from launchready.models import WorkerHeartbeat

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def _brokers():
    yield pytest.param(settings.CELERY_BROKER_URL, id="configured-broker")
    # CI always has Redis; on a laptop without it this case is skipped, not passed.
    marks = [] if os.environ.get("CI") else [pytest.mark.skipif(not _redis_reachable(), reason="no Redis")]
    yield pytest.param(REDIS_URL, id="redis", marks=marks)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker_url", list(_brokers()))
def test_worker_consumes_a_task(broker_url):
    # A separate app bound to the broker under test, configured like the real one.
    test_app = Celery("launchready-test")
    test_app.config_from_object("django.conf:settings", namespace="CELERY")
    test_app.conf.broker_url = broker_url
    test_app.loader.import_default_modules()
    with start_worker(test_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        test_app.send_task("launchready.tasks.worker_heartbeat", args=["test-worker"])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not WorkerHeartbeat.objects.filter(name="test-worker").exists():
            time.sleep(0.1)
    beat = WorkerHeartbeat.objects.get(name="test-worker")
    assert beat.hostname


def test_celery_is_json_only_with_time_limits():
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_soft_time_limit and app.conf.task_time_limit > app.conf.task_soft_time_limit

"""The Celery application.

JSON only, ids passed to tasks (never model instances), default soft and hard time
limits on every task. The broker defaults to kombu's filesystem transport under
``var/`` so the product runs on a laptop with no broker server.
"""

import functools
import os
from typing import Any

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchready.settings")


class OnCommitTask(DjangoTask):  # type: ignore[misc]  # celery ships no type hints
    """Work is queued after the transaction commits (``delay_on_commit`` /
    ``apply_async_on_commit``), and queuing never fails the request that committed.

    With the broker down, the committed rows stay and the error is logged: the sweeps pick
    the work up once the broker is back (the notification outbox, the stale-smoke-test and
    stuck-run reapers), so a heartbeat ping or a form still gets its answer instead of a
    500 for work that is already recorded.
    """

    def delay_on_commit(self, *args: Any, **kwargs: Any) -> None:
        self._on_commit(functools.partial(self.delay, *args, **kwargs))

    def apply_async_on_commit(self, *args: Any, **kwargs: Any) -> None:
        self._on_commit(functools.partial(self.apply_async, *args, **kwargs))

    def _on_commit(self, send: functools.partial[Any]) -> None:
        # Django names the callback when it logs a failure; a bare partial has no name.
        transaction.on_commit(functools.update_wrapper(send, self.delay), robust=True)


app = Celery("launchready", task_cls=OnCommitTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

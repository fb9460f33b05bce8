"""The Celery application.

JSON only, ids passed to tasks (never model instances), default soft and hard time
limits on every task. The broker defaults to kombu's filesystem transport under
``var/`` so the product runs on a laptop with no broker server.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchready.settings")

app = Celery("launchready")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

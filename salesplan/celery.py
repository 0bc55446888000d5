"""The Celery app. Without REDIS_URL jobs run in a background thread of the web process
(salesplan.queue)."""

import os
from typing import Any

from celery import Celery
from celery.signals import worker_ready

from salesplan.queue import worker_beat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.settings")

app = Celery("salesplan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _worker_started(**kwargs: Any) -> None:
    """A worker that just started is alive before beat's first heartbeat task reaches it."""
    worker_beat()

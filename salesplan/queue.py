"""Queueing background jobs, in one place.

Services name the task they queue instead of importing it: a task module imports the one
service it calls (`funnel/tasks.py` → `funnel.services.imports`), never the other way round.
Without REDIS_URL the task runs inline (CELERY_TASK_ALWAYS_EAGER), as it does in tests.
"""

from typing import Any

from celery import Task, current_app
from django.db import transaction


def task_named(name: str) -> Task:
    """The registered task; a web process has not imported the apps' tasks.py modules
    until the first job is queued, so Celery's autodiscovery imports them then."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[name]


def enqueue(task_name: str, *args: Any) -> None:
    """Queue `task_name` with `args` once the current transaction commits (so the worker
    sees what the request wrote)."""
    task = task_named(task_name)
    transaction.on_commit(lambda: task.apply_async(args=args))

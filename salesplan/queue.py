"""Queueing background jobs, in one place.

Services name the task they queue instead of importing it: a task module imports the one
service it calls (`funnel/tasks.py` → `funnel.services.imports`), never the other way round.

With REDIS_URL the task goes to Celery. Without it (the embedded default) it runs in a
background thread of the process that queued it, one job at a time, so the request that
queued a long import returns at once and its page shows the progress bar (TASKS_IN_THREAD).
Tests run tasks inline (CELERY_TASK_ALWAYS_EAGER, TASKS_IN_THREAD off).
"""

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from celery import Task, current_app
from django.conf import settings
from django.db import close_old_connections, connections, transaction

logger = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def task_named(name: str) -> Task:
    """The registered task; a web process has not imported the apps' tasks.py modules
    until the first job is queued, so Celery's autodiscovery imports them then."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[name]


def enqueue(task_name: str, *args: Any, robust: bool = False) -> None:
    """Queue `task_name` with `args` once the current transaction commits (so the worker
    sees what the request wrote). `robust`: a broker that is down is logged, not raised (for
    jobs whose work the next one redoes)."""
    task = task_named(task_name)
    if settings.TASKS_IN_THREAD:
        transaction.on_commit(lambda: in_background(task, args), robust=robust)
    else:
        transaction.on_commit(lambda: task.apply_async(args=args), robust=robust)


def background() -> ThreadPoolExecutor:
    """The process's one background worker thread (started on first use)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="salesplan-jobs")
        return _executor


def in_background(task: Task, args: tuple[Any, ...]) -> Future:
    """Run `task` in the background thread, as a Celery worker would (its retries included)."""
    return background().submit(_run, task, args)


def _run(task: Task, args: tuple[Any, ...]) -> None:
    close_old_connections()
    try:
        result = task.apply(args=args, throw=False)
        if result.failed():
            logger.error("background job %s%r failed: %r", task.name, args, result.result)
    except Exception:  # the thread must live on for the next job
        logger.exception("background job %s%r failed", task.name, args)
    finally:
        connections.close_all()  # this thread's connections, not the request's

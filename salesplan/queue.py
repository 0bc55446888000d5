"""Queueing background jobs, in one place.

Services name the task they queue instead of importing it: a task module imports the one
service it calls (`funnel/tasks.py` → `funnel.services.imports`), never the other way round.

With REDIS_URL the task goes to Celery. Without it (the embedded default) it runs in a
background thread of the process that queued it, one job at a time, so the request that
queued a long import returns at once and its page shows the progress bar (TASKS_IN_THREAD).
Tests run tasks inline (CELERY_TASK_ALWAYS_EAGER, TASKS_IN_THREAD off).

A broker that does not answer fails a publish within about BROKER_TIMEOUT_S (settings) with
QueueUnavailable: the API answers 503, and what was stored waits for the periodic sweeps.
Workers leave a heartbeat in the cache (`worker_beat`) that /healthz reports.
"""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

import redis
from celery import Task, current_app
from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import KombuError

logger = logging.getLogger(__name__)

# What a publish raises when the broker is down or unreachable: kombu wraps the transport's
# errors, a socket's own may come through bare.
BROKER_ERRORS = (KombuError, redis.RedisError, OSError)
WORKER_HEARTBEAT_KEY = "salesplan:worker-heartbeat"


class QueueUnavailable(Exception):
    """The broker did not take the job; what the request stored is kept for the sweeps."""


def queue_unavailable_message() -> str:
    """What the API's 503 and the page say when the broker is down."""
    return _(
        "The job queue is not answering right now. Nothing is lost: the job waits for the "
        "queue and starts by itself once it is back (within a few minutes)."
    )


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def task_named(name: str) -> Task:
    """The registered task; a web process has not imported the apps' tasks.py modules
    until the first job is queued, so Celery's autodiscovery imports them then."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[name]


def enqueue(
    task_name: str,
    *args: Any,
    robust: bool = False,
    queued: Callable[[], None] | None = None,
) -> None:
    """Queue `task_name` with `args` once the current transaction commits (so the worker
    sees what the request wrote); then call `queued` (the job is in the queue). A broker that
    is down raises QueueUnavailable, or with `robust` is only logged (for work a sweep or the
    next job picks up)."""
    task = task_named(task_name)
    if settings.TASKS_IN_THREAD:
        transaction.on_commit(lambda: _submit(in_background, task, args, queued), robust=robust)
    else:
        transaction.on_commit(lambda: _submit(_publish, task, args, queued), robust=robust)


# Many loads in a minute (a webhook burst, an import in chunks) queue one job per object.
DEBOUNCE_S = 60


def _waiting_key(task_name: str, object_id: int) -> str:
    return f"queued:{task_name}:{object_id}"


def enqueue_once(task_name: str, object_id: int, *, within: int = DEBOUNCE_S) -> bool:
    """Queue `task_name` for `object_id` (robust: a broker that is down is only logged, for
    work a sweep picks up) unless that job is already waiting: queued in the last `within`
    seconds and not started yet (`job_started`). Returns whether it queued one."""
    if not cache.add(_waiting_key(task_name, object_id), 1, timeout=within):
        return False
    enqueue(task_name, object_id, robust=True)
    return True


def job_started(task_name: str, object_id: int) -> None:
    """The job for `object_id` starts: a change from now on must queue another."""
    cache.delete(_waiting_key(task_name, object_id))


def _submit(
    send: Callable[[Task, tuple[Any, ...]], Any],
    task: Task,
    args: tuple[Any, ...],
    queued: Callable[[], None] | None,
) -> None:
    send(task, args)
    if queued is not None:
        queued()


def _publish(task: Task, args: tuple[Any, ...]) -> None:
    # Nobody reads a queued job's result: not asking for one keeps the publish to the broker
    # alone (the result backend's subscription retries for seconds of its own when down).
    try:
        task.apply_async(args=args, ignore_result=True)
    except BROKER_ERRORS as error:
        raise QueueUnavailable(f"{task.name}: {error}") from error


def background() -> ThreadPoolExecutor:
    """The process's one background worker thread (started on first use)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="salesplan-jobs")
        return _executor


def in_background(task: Task, args: tuple[Any, ...]) -> Future:
    """Run `task` in the background thread, as a Celery worker would (its retries included).
    When the process is exiting (a management command's last job queues a follow-up as it
    commits, and the thread pool takes no more), the job runs here instead of being lost."""
    try:
        return background().submit(_run, task, args)
    except RuntimeError:  # "cannot schedule new futures after (interpreter) shutdown"
        _run(task, args)
        done: Future = Future()
        done.set_result(None)
        return done


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


def worker_beat() -> None:
    """A worker's sign of life, for /healthz: at start, every WORKER_HEARTBEAT_S (beat) and on
    every chunk a job reads. A cache that is down loses the beat, nothing else."""
    try:
        cache.set(WORKER_HEARTBEAT_KEY, timezone.now().isoformat(), timeout=None)
    except Exception:  # the cache's backend errors vary; /healthz reports the cache itself
        logger.warning("could not record the worker's heartbeat", exc_info=True)


def worker_last_beat() -> datetime | None:
    try:
        value = cache.get(WORKER_HEARTBEAT_KEY)
    except Exception:
        return None
    return datetime.fromisoformat(value) if value else None


def worker_state(*, now: datetime | None = None) -> dict[str, Any]:
    """The worker's last heartbeat, how long ago, and whether that is late (three beats
    missed). Without a broker the jobs run in the web process itself."""
    if settings.TASKS_IN_THREAD:
        return {"mode": "embedded", "last_heartbeat": None, "seconds_ago": None, "late": False}
    last = worker_last_beat()
    seconds = round(((now or timezone.now()) - last).total_seconds(), 1) if last else None
    return {
        "mode": "celery",
        "last_heartbeat": last.isoformat() if last else None,
        "seconds_ago": seconds,
        "late": seconds is None or seconds > 3 * settings.WORKER_HEARTBEAT_S,
    }


def broker_state() -> str:
    """The broker: ok, down (with the error's class) or not configured (embedded default)."""
    app = current_app
    if str(app.conf.broker_url or "").startswith("memory"):
        return "not configured (jobs run in the web process)"
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(
                max_retries=1, interval_start=0, timeout=settings.BROKER_TIMEOUT_S
            )
    except BROKER_ERRORS as error:
        return f"down: {error.__class__.__name__}"
    return "ok"

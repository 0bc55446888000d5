"""Real Celery worker processes for the tests marked `redis`: on the test database, on a queue of
the test's own, each in a process group of its own so a test can kill one as an OOM killer or
a lost machine would (SIGKILL, no goodbye) and start another on the same queue."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from salesplan.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
WORKER_START_TIMEOUT_S = 60
WORKER_STOP_TIMEOUT_S = 20


def database_url_for_worker() -> str:
    params = connection.settings_dict
    if params["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{params['NAME']}"
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    user = params.get("USER") or ""
    secret = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    return f"postgres://{user}{secret}@{host}:{port}/{params['NAME']}"


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """This process publishes to the broker at `url` (e.g. a closed port: a broker that is
    down), its connection pools dropped so the next publish connects there; then back."""
    conf = celery_app.conf
    previous = conf.broker_url
    conf.broker_url = url
    _drop_pools()
    try:
        yield
    finally:
        conf.broker_url = previous
        _drop_pools()


def _drop_pools() -> None:
    # What Celery itself does after a fork (Celery._after_fork).
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


class Workers:
    """Worker processes consuming one queue; this process's tasks go to that queue while
    `routed()` is open."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.queue = f"test-{uuid.uuid4().hex[:8]}"
        self.processes: list[subprocess.Popen] = []
        self._started = 0

    @contextmanager
    def routed(self) -> Iterator["Workers"]:
        previous = (celery_app.conf.task_default_queue, celery_app.conf.task_always_eager)
        celery_app.conf.task_default_queue = self.queue
        celery_app.conf.task_always_eager = False
        try:
            yield self
        finally:
            celery_app.conf.task_default_queue, celery_app.conf.task_always_eager = previous
            self.stop_all()

    def start(self) -> subprocess.Popen:
        """Start a worker and wait until it answers a ping."""
        self._started += 1
        name = f"{self.queue}-{self._started}@localhost"
        env = {
            **os.environ,
            "DATABASE_URL": database_url_for_worker(),
            "REDIS_URL": self.redis_url,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            # The worker reads the files the test stored (e.g. an uploaded export).
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        }
        celery_bin = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
        # A file, not a pipe nobody reads: a chatty worker never blocks on a full pipe.
        log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by stop_all)
        process = subprocess.Popen(
            [
                celery_bin,
                "-A",
                "salesplan",
                "worker",
                "--pool=solo",
                "-Q",
                self.queue,
                "-n",
                name,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, killed as a whole
        )
        process.log = log  # type: ignore[attr-defined]
        self.processes.append(process)
        deadline = time.monotonic() + WORKER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if celery_app.control.ping(timeout=1, destination=[name]):
                return process
            if process.poll() is not None:
                pytest.fail(f"Celery worker exited early:\n{self.output(process)}")
        self.kill(process)
        pytest.fail("Celery worker did not answer a ping in time")

    @staticmethod
    def output(process: subprocess.Popen) -> str:
        log = process.log  # type: ignore[attr-defined]
        log.seek(0)
        return log.read()

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        """SIGKILL the worker's whole process group: no shutdown, no acknowledgement."""
        with suppress(ProcessLookupError):  # already gone
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=WORKER_STOP_TIMEOUT_S)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=WORKER_STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self.kill(process)
            process.log.close()  # type: ignore[attr-defined]

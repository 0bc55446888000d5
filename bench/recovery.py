"""Recovery benchmark (issue 10, jobs that recover): a broker that is down, then back, and a
worker killed in the middle of an import, against the real components: PostgreSQL, Redis and
Celery worker processes (`celery -A salesplan worker --pool=solo`, each in a process group of
its own, killed with SIGKILL as an OOM killer or a lost machine would).

    .venv/bin/python bench/recovery.py                        # 20,000 leads, 5 trials
    .venv/bin/python bench/recovery.py --leads 5000 --trials 3

- broker down: this process publishes to a closed port (the worker keeps the real Redis). An
  import confirmed through the API (an owner's token) must answer 503 at once and leave the
  job "waiting"; an amoCRM webhook must answer 200 and keep the record "received". Wall time
  of each request, `--trials` times: median and max.
- broker back: the jobs sweep (`funnel.services.jobs.jobs_sweep`, what beat runs every
  minute) is run once; the time from then until the first waiting job is done (it writes the
  file's leads) and until all of them are (the others find every lead unchanged).
- killed worker: a file of `--leads` amoCRM leads (bench/import_1m.py's generator) confirmed
  to a real worker, which is killed once the job has read rows; a new worker is started, the
  job made to look stale (its heartbeat set back by JOB_STALE_AFTER_S + 1 s: the wait itself is
  simulated), the sweep run once; the time until the job is done, with exactly the file's
  leads, no duplicate external id, and two attempts.

Prints the figures and, last, one JSON line of them. Uses
postgres://root@127.0.0.1:5432/salesplan_bench_recovery (created and migrated if missing) and
redis://127.0.0.1:6379/11 (a queue of the run's own); its organizations are deleted at the end.
"""

import argparse
import json
import logging
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.import_1m import (  # noqa: E402
    AMO_STAGES,
    LOST,
    OUR_STAGES,
    WON,
    ensure_database,
    generate,
    prepare_organization,
)

DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/salesplan_bench_recovery"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"
# Nothing listens there: a broker that is down (a closed port refuses at once; a host that
# drops packets would take BROKER_TIMEOUT_S instead).
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"
WORKER_START_TIMEOUT_S = 60
WORKER_STOP_TIMEOUT_S = 20
JOB_DEADLINE_S = 600
# Fine enough to catch the job between its first rows read and its end (seconds of writing).
POLL_S = 0.005
STAGE_MAP = {amo: our for amo, our in zip(AMO_STAGES, OUR_STAGES, strict=False)} | {
    WON: "won",
    LOST: "lost",
}
AMO_NEW_LEAD_STATUS = "20067733"  # the webhook's amoCRM status id, mapped to our first stage


def setup_django(database_url: str, redis_url: str, queue: str, media_root: Path) -> None:
    """This process and its workers share the database, the broker, a queue of the run's own
    and the stored uploads."""
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "TASKS_IN_THREAD": "0",
            "MEDIA_ROOT": str(media_root),
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesplan.settings")
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host ("testserver") is allowed
    # The refusals the trials cause are expected: the 503s, and the webhook's robust publish
    # that Django logs with its traceback. The figures say what happened. (Filters, not
    # levels: Celery's Django fixup configures logging again on the first task import.)
    logging.getLogger("django.request").addFilter(expected_refusal)
    logging.getLogger("django.db.backends.base").addFilter(expected_refusal)


def expected_refusal(record: logging.LogRecord) -> bool:
    """False (not logged) for what a broker that is down causes: a 503, a QueueUnavailable."""
    from salesplan.queue import QueueUnavailable

    refused = record.exc_info is not None and isinstance(record.exc_info[1], QueueUnavailable)
    return not (refused or getattr(record, "status_code", None) == 503)


# --- workers -----------------------------------------------------------------------------------


class Workers:
    """Real Celery worker processes on the run's queue (as tests/workers.py starts them)."""

    def __init__(self, queue: str, logs: Path) -> None:
        self.queue = queue
        self.logs = logs
        self.processes: list[subprocess.Popen] = []

    def start(self) -> tuple[subprocess.Popen, float]:
        """A worker, and the seconds until it answered a ping."""
        from salesplan.celery import app

        name = f"{self.queue}-{len(self.processes) + 1}@localhost"
        celery_bin = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
        log = self.logs / f"{name}.log"
        started = time.perf_counter()
        with log.open("w") as output:
            process = subprocess.Popen(
                [
                    celery_bin,
                    "-A",
                    "salesplan",
                    "worker",
                    "--pool=solo",
                    "--concurrency=1",
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
                env=dict(os.environ),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as a whole
            )
        process.log = log  # type: ignore[attr-defined]
        self.processes.append(process)
        deadline = time.monotonic() + WORKER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if app.control.ping(timeout=1, destination=[name]):
                return process, time.perf_counter() - started
            if process.poll() is not None:
                raise SystemExit(f"the worker exited early:\n{self.output(process)}")
        raise SystemExit(f"the worker did not answer a ping:\n{self.output(process)}")

    @staticmethod
    def output(process: subprocess.Popen) -> str:
        return process.log.read_text()[-3000:]  # type: ignore[attr-defined]

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        """SIGKILL the worker's whole process group: no shutdown, no acknowledgement."""
        with suppress(ProcessLookupError):
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


# --- the world ---------------------------------------------------------------------------------


def owner_api(organization_id: int) -> tuple[Any, int]:
    """An API client with the organization owner's token, and the bench funnel's id."""
    from rest_framework.test import APIClient

    from funnel.models import Funnel
    from salesplan.accounts import token_issue
    from salesplan.models import Membership, Role

    owner = Membership.objects.get(organization_id=organization_id, role=Role.OWNER)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=owner.user).key}")
    funnel = Funnel.objects.get(organization_id=organization_id, name="Bench")
    return api, funnel.pk


def upload(api: Any, funnel_id: int, path: Path) -> int:
    """The uploaded job's id, once its preview is ready (a file over IMPORT_INSPECT_INLINE_MB
    is read by a job on the worker: "reading the file", then the preview)."""
    from funnel.models import ImportJob

    with path.open("rb") as handle:
        response = api.post(
            "/api/v1/imports/", {"file": handle, "funnel": funnel_id}, format="multipart"
        )
    if response.status_code != 201:
        raise SystemExit(f"upload answered {response.status_code}: {response.content[:500]!r}")
    job = wait_for(response.json()["id"], ImportJob.Status.PREVIEW, ImportJob.Status.FAILED)
    if job.status != ImportJob.Status.PREVIEW:
        raise SystemExit(f"the upload could not be read: {job.message}")
    return job.pk


def confirm(api: Any, job_id: int) -> Any:
    return api.post(
        f"/api/v1/imports/{job_id}/confirm/",
        {"stage_map": STAGE_MAP},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def amocrm_webhook(lead_id: int) -> str:
    """An amoCRM "lead added" webhook, form-encoded as amoCRM posts it."""
    lead = "leads[add][0]"
    return urlencode(
        {
            f"{lead}[id]": str(lead_id),
            f"{lead}[name]": f"Сделка #{lead_id}",
            f"{lead}[status_id]": AMO_NEW_LEAD_STATUS,
            f"{lead}[price]": "150000",
            f"{lead}[responsible_user_id]": "2079676",
            f"{lead}[date_create]": str(int(time.time())),
            f"{lead}[last_modified]": str(int(time.time())),
            f"{lead}[pipeline_id]": "9217056",
            "account[subdomain]": "bench",
            "account[id]": "17769199",
        }
    )


def wait_for(job_id: int, *statuses: str) -> Any:
    from funnel.models import ImportJob

    deadline = time.monotonic() + JOB_DEADLINE_S
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=job_id)
        if job.status in statuses:
            return job
        time.sleep(POLL_S)
    raise SystemExit(f"import {job_id} is still {job.status} after {JOB_DEADLINE_S} s")


def run_seconds(job: Any) -> float:
    return (job.finished_at - job.started_at).total_seconds()


# --- 1. a broker that is down, then back -------------------------------------------------------


def broker_down_then_back(
    organization_id: int, path: Path, leads: int, trials: int, workers: Workers
) -> dict[str, Any]:
    from django.test import Client

    from funnel.models import ImportJob, Lead, RawRecord
    from funnel.services.jobs import jobs_sweep
    from tests.workers import broker_at  # Django is set up by now

    api, funnel_id = owner_api(organization_id)
    response = api.post(
        "/api/v1/integrations/",
        {"kind": "amocrm", "funnel": funnel_id, "stage_map": {AMO_NEW_LEAD_STATUS: OUR_STAGES[0]}},
        format="json",
    )
    if response.status_code != 201:
        raise SystemExit(f"integration answered {response.status_code}: {response.content!r}")
    webhook_url = response.json()["webhook_url"]
    _worker, worker_start_s = workers.start()  # consumes the real Redis all along

    confirms: list[float] = []
    confirm_codes: set[int] = set()
    job_statuses: set[str] = set()
    job_ids = []
    hooks: list[float] = []
    hook_codes: set[int] = set()
    record_statuses: set[str] = set()
    for trial in range(trials):
        job_id = upload(api, funnel_id, path)  # with the broker up (its reading is a job)
        job_ids.append(job_id)
        crm = Client(enforce_csrf_checks=True)  # a CRM: no session, no token
        body = amocrm_webhook(90_000_001 + trial)
        with broker_at(CLOSED_PORT_BROKER):
            started = time.perf_counter()
            response = confirm(api, job_id)
            confirms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            hook = crm.post(
                webhook_url, data=body, content_type="application/x-www-form-urlencoded"
            )
            hooks.append((time.perf_counter() - started) * 1000)
        if response.status_code != 503:
            raise SystemExit(f"confirm answered {response.status_code}: {response.content!r}")
        confirm_codes.add(response.status_code)
        job_statuses.add(ImportJob.objects.get(pk=job_id).status)
        hook_codes.add(hook.status_code)
        if hook.status_code == 200:
            record_statuses.add(RawRecord.objects.get(pk=hook.json()["record"]).status)

    # The broker is back: the sweep (beat's, every minute) is run once, here and now.
    back = time.perf_counter()
    swept = jobs_sweep()
    first = wait_for(job_ids[0], ImportJob.Status.DONE, ImportJob.Status.FAILED)
    first_done_s = time.perf_counter() - back
    for job_id in job_ids[1:]:
        wait_for(job_id, ImportJob.Status.DONE, ImportJob.Status.FAILED)
    all_done_s = time.perf_counter() - back
    finished = ImportJob.objects.filter(pk__in=job_ids)
    if first.status != ImportJob.Status.DONE:
        raise SystemExit(f"the first import failed: {first.message}")
    return {
        "worker_start_s": round(worker_start_s, 2),
        "confirm_down_ms_median": round(statistics.median(confirms), 1),
        "confirm_down_ms_max": round(max(confirms), 1),
        "confirm_down_status": sorted(confirm_codes),
        "confirm_down_job_status": sorted(job_statuses),
        "webhook_down_ms_median": round(statistics.median(hooks), 1),
        "webhook_down_ms_max": round(max(hooks), 1),
        "webhook_down_status": sorted(hook_codes),
        "webhook_down_record_status": sorted(record_statuses),
        "back_swept_queued": swept.queued,
        "back_first_done_s": round(first_done_s, 2),
        "back_first_run_s": round(run_seconds(first), 2),
        "back_all_done_s": round(all_done_s, 2),
        "back_all_done": all(job.status == ImportJob.Status.DONE for job in finished),
        "back_first_inserted": first.counts["leads"]["inserted"],
        "back_rows": Lead.objects.filter(organization_id=organization_id).count(),
        "back_rows_expected": leads,
    }


# --- 2. a worker killed in the middle of an import ---------------------------------------------


def killed_worker(organization_id: int, path: Path, leads: int, workers: Workers) -> dict[str, Any]:
    from django.conf import settings
    from django.db.models import Count
    from django.utils import timezone

    from funnel.models import ImportJob, Lead
    from funnel.services.imports import CHUNK_ROWS
    from funnel.services.jobs import jobs_sweep

    api, funnel_id = owner_api(organization_id)
    worker, _start_s = workers.start()
    job_id = upload(api, funnel_id, path)
    confirmed = time.perf_counter()
    response = confirm(api, job_id)
    if response.status_code != 202:
        raise SystemExit(f"confirm answered {response.status_code}: {response.content!r}")
    # Running, with rows read: then the worker is killed, as an OOM killer would.
    deadline = time.monotonic() + JOB_DEADLINE_S
    job = ImportJob.objects.get(pk=job_id)
    while not (job.processed_rows > 0 or job.status in ("done", "failed")):
        if time.monotonic() > deadline:
            raise SystemExit(f"import {job_id} read no row in {JOB_DEADLINE_S} s")
        time.sleep(POLL_S)
        job = ImportJob.objects.get(pk=job_id)
    workers.kill(worker)
    killed = time.perf_counter()
    job = ImportJob.objects.get(pk=job_id)
    if job.status != ImportJob.Status.RUNNING:
        raise SystemExit(
            f"the import was {job.status} when its worker was killed (too few leads to catch "
            f"it running? try --leads 100000):\n{workers.output(worker)}"
        )
    at_kill = {
        "kill_rows_read": job.processed_rows,
        "chunk_rows": CHUNK_ROWS,  # progress moves a chunk at a time
        "kill_phase": job.message or "reading the file",
        "kill_after_s": round(killed - confirmed, 2),
        "kill_rows_written": Lead.objects.filter(organization_id=organization_id).count(),
    }

    _worker, worker_start_s = workers.start()
    # Simulated: the heartbeat made JOB_STALE_AFTER_S + 1 s old instead of waiting for it.
    ImportJob.objects.filter(pk=job_id).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_S + 1)
    )
    swept_at = time.perf_counter()
    swept = jobs_sweep()
    job = wait_for(job_id, ImportJob.Status.DONE, ImportJob.Status.FAILED)
    done = time.perf_counter()
    if job.status != ImportJob.Status.DONE:
        raise SystemExit(f"the restarted import failed: {job.message}")
    stored = Lead.objects.filter(organization_id=organization_id)
    rows = stored.count()
    repeated = (
        stored.values("external_id").annotate(n=Count("id")).filter(n__gt=1).count()
    )  # external ids stored more than once
    return {
        **at_kill,
        "restart_worker_start_s": round(worker_start_s, 2),
        "sweep_restarted": swept.restarted,
        "recovery_s": round(done - swept_at, 2),
        "recovery_run_s": round(run_seconds(job), 2),
        # The stale wait is simulated, and a new worker starts within it in life: the work
        # (confirm → kill, sweep → done), and the wall time of this run with the restart.
        "total_s": round((killed - confirmed) + (done - swept_at), 2),
        "total_wall_s": round(done - confirmed, 2),
        "rows": rows,
        "rows_expected": leads,
        "inserted": job.counts["leads"]["inserted"],
        "duplicates": repeated,
        "attempts": job.attempts,
    }


# --- main --------------------------------------------------------------------------------------


def cleanup(organization_id: int) -> None:
    """The organization, everything in it, and its people's accounts."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from funnel.models import ImportJob, Integration
    from salesplan.models import Membership, Organization

    users = list(
        Membership.objects.filter(organization_id=organization_id).values_list("user_id", flat=True)
    )
    with connection.cursor() as cursor:  # the big tables set-based, the rest by the ORM
        for table in ("funnel_stageevent", "funnel_payment", "funnel_lead"):
            cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s", [organization_id])
    # Jobs and integrations protect their funnel: they go first.
    ImportJob.objects.filter(organization_id=organization_id).delete()
    Integration.objects.filter(organization_id=organization_id).delete()
    Organization.objects.filter(pk=organization_id).delete()
    get_user_model().objects.filter(pk__in=users, memberships__isnull=True).delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--keep", action="store_true", help="keep the bench organizations")
    args = parser.parse_args()
    ensure_database(args.database_url)
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"],
        check=True,
        env={**os.environ, "DATABASE_URL": args.database_url},
    )
    queue = f"bench-recovery-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="salesplan-bench-recovery-") as tmp:
        workdir = Path(tmp)
        setup_django(args.database_url, args.redis_url, queue, workdir / "media")
        from django.conf import settings

        path = workdir / "amocrm_export.csv"
        generate(path, args.leads)
        print(
            f"generated     {args.leads:,} leads ({path.stat().st_size / 1e6:.1f} MB); queue "
            f"{queue} on {args.redis_url}; BROKER_TIMEOUT_S {settings.BROKER_TIMEOUT_S:g}, "
            f"JOB_STALE_AFTER_S {settings.JOB_STALE_AFTER_S}"
        )
        workers = Workers(queue, workdir)
        organizations = [prepare_organization("-down"), prepare_organization("-killed")]
        try:
            down = broker_down_then_back(organizations[0], path, args.leads, args.trials, workers)
            workers.stop_all()
            killed = killed_worker(organizations[1], path, args.leads, workers)
        finally:
            workers.stop_all()
            if not args.keep:
                for organization_id in organizations:
                    cleanup(organization_id)
    figures = {
        "bench": "recovery",
        "leads": args.leads,
        "trials": args.trials,
        "broker_timeout_s": settings.BROKER_TIMEOUT_S,
        "job_stale_after_s": settings.JOB_STALE_AFTER_S,
        "stale_wait_simulated": True,
        **down,
        **killed,
    }
    print(
        f"broker down   import confirm (API): {figures['confirm_down_ms_median']} ms median, "
        f"{figures['confirm_down_ms_max']} ms max of {args.trials}; answered "
        f"{figures['confirm_down_status']}, job {figures['confirm_down_job_status']}"
    )
    print(
        f"              amoCRM webhook: {figures['webhook_down_ms_median']} ms median, "
        f"{figures['webhook_down_ms_max']} ms max; answered {figures['webhook_down_status']}, "
        f"record {figures['webhook_down_record_status']}"
    )
    print(
        f"broker back   one sweep queued {figures['back_swept_queued']}; first job done in "
        f"{figures['back_first_done_s']} s (its run {figures['back_first_run_s']} s, "
        f"{figures['back_first_inserted']:,} leads inserted), all {args.trials} in "
        f"{figures['back_all_done_s']} s (all done: {figures['back_all_done']}); leads stored "
        f"{figures['back_rows']:,} of {args.leads:,}"
    )
    print(
        f"killed worker SIGKILL {figures['kill_after_s']} s after confirming, "
        f"{figures['kill_rows_read']:,} rows read (chunks of {figures['chunk_rows']:,}; "
        f"phase: {figures['kill_phase']!r}), "
        f"{figures['kill_rows_written']} leads written by then"
    )
    print(
        f"recovery      new worker up in {figures['restart_worker_start_s']} s; stale wait "
        f"SIMULATED (heartbeat set back JOB_STALE_AFTER_S + 1 = "
        f"{settings.JOB_STALE_AFTER_S + 1} s); sweep restarted {figures['sweep_restarted']}; "
        f"sweep → done {figures['recovery_s']} s (the run itself {figures['recovery_run_s']} s)"
    )
    print(
        f"              total {figures['total_s']} s (confirm → kill + sweep → done; "
        f"{figures['total_wall_s']} s wall with the new worker's start, no stale wait); "
        f"rows {figures['rows']:,} of {args.leads:,}, inserted {figures['inserted']:,}, "
        f"duplicates {figures['duplicates']}, attempts {figures['attempts']}"
    )
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Import jobs that recover: queued through a broker that may be down, claimed by one worker
at a time, kept alive by a heartbeat, and swept back into the queue when their worker is lost.

- Confirming stores the job "waiting for the queue" and publishes it; once the broker took it,
  it is "queued". A broker that is down leaves it waiting (the request answers 503) and the
  sweep publishes it again.
- A worker claims the job with one conditional UPDATE (waiting, queued, or running with a
  heartbeat older than JOB_STALE_AFTER_S), so two workers never run it together; it beats on
  every chunk it reads.
- The sweep (`funnel.sweep_jobs`, every minute) queues the waiting jobs, publishes again the
  queued ones the broker lost, and starts again the running ones whose worker was lost (the
  load is one transaction, so nothing of the lost run was written). After JOB_MAX_ATTEMPTS
  runs it fails the job with the reason; "Run again" (`import_run_again`) starts it afresh.
- A check (a dry run) whose worker was lost is started again with a new token (the lost
  run's findings, should it ever finish, are then ignored), or reopened with the reason.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from funnel.models import ImportJob
from salesplan.queue import QueueUnavailable, enqueue, worker_beat

logger = logging.getLogger(__name__)

RUN_TASK = "funnel.run_import"
CHECK_TASK = "funnel.check_import"
INSPECT_TASK = "funnel.inspect_import"
# Jobs one sweep (every minute) handles: more than a queue coming back needs at once; the
# rest wait for the next sweep.
SWEEP_BATCH_SIZE = 100
Status = ImportJob.Status


def stale_before(now: datetime | None = None) -> datetime:
    """A heartbeat older than this means the job's worker is gone."""
    return (now or timezone.now()) - timedelta(seconds=settings.JOB_STALE_AFTER_S)


def _language(job: ImportJob) -> str:
    return job.language or translation.get_language() or settings.LANGUAGE_CODE


def queue_import(job: ImportJob, *, robust: bool = False) -> None:
    """Publish the job (once the transaction commits); "queued" once the broker took it. A
    broker that is down leaves it "waiting" and raises QueueUnavailable (or, `robust`, logs)."""

    def queued() -> None:
        ImportJob.objects.filter(pk=job.pk, status=Status.WAITING).update(
            status=Status.QUEUED, heartbeat_at=timezone.now()
        )

    enqueue(RUN_TASK, job.pk, _language(job), robust=robust, queued=queued)


def queue_check(job: ImportJob, *, robust: bool = False) -> None:
    enqueue(CHECK_TASK, job.pk, job.changes["token"], _language(job), robust=robust)


def claim_import(job_id: int) -> bool:
    """Take the job for this worker: one conditional UPDATE (row-locked by the database), so
    of two workers handed the same job (a redelivery, a sweep) only one runs it."""
    now = timezone.now()
    runnable = Q(status__in=[Status.WAITING, Status.QUEUED]) | Q(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale_before(now)),
        status=Status.RUNNING,
        attempts__lt=settings.JOB_MAX_ATTEMPTS,
    )
    claimed = ImportJob.objects.filter(runnable, pk=job_id).update(
        status=Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        processed_rows=0,
        attempts=F("attempts") + 1,
        message="",
    )
    return claimed == 1


def claim_check(job_id: int, token: str) -> bool:
    """Take the check queued with `token` (a later check or a restart changes the token)."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(
        pk=job_id, status=Status.CHECKING, changes__token=token
    ).update(started_at=now, heartbeat_at=now, processed_rows=0, attempts=F("attempts") + 1)
    return claimed == 1


def beat(job_id: int, *, rows: int = 0) -> None:
    """The job is alive (and read `rows` more rows)."""
    ImportJob.objects.filter(pk=job_id).update(
        heartbeat_at=timezone.now(), processed_rows=F("processed_rows") + rows
    )
    worker_beat()


def import_run_again(*, job: ImportJob) -> ImportJob:
    """Start a failed import afresh with the settings it was confirmed with (or publish a
    waiting one now). Raises ValidationError when it cannot run (not failed, file gone) and
    QueueUnavailable when the broker is down (the job then waits for the queue)."""
    if not job.file or not Path(job.file.path).exists():
        raise ValidationError({"file": [_("This import's file is no longer stored.")]})
    reset = ImportJob.objects.filter(pk=job.pk, status__in=[Status.FAILED, Status.WAITING]).update(
        status=Status.WAITING,
        attempts=0,
        heartbeat_at=timezone.now(),
        started_at=None,
        finished_at=None,
        processed_rows=0,
        counts={},
        errors=[],
        error_count=0,
        error_report="",
        message="",
        language=translation.get_language() or job.language,
    )
    if not reset:
        raise ValidationError(
            {"status": [_("Only a failed import (or one waiting for the queue) can run again.")]}
        )
    job.refresh_from_db()
    queue_import(job)
    return job


@dataclass
class Swept:
    queued: int = 0
    restarted: int = 0
    failed: int = 0
    checks: int = 0
    inspections: int = 0


def jobs_sweep(*, now: datetime | None = None) -> Swept:
    """Every minute: publish the jobs waiting for the queue or lost by it, start again the
    ones whose worker was lost, fail those that used up JOB_MAX_ATTEMPTS. Every change is a
    conditional UPDATE, so a sweep racing a worker (or another sweep) does nothing twice."""
    now = now or timezone.now()
    stale = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale_before(now))
    swept = Swept()
    unfinished = ImportJob.objects.filter(
        Q(status=Status.WAITING) | Q(stale, status__in=[Status.QUEUED, Status.RUNNING])
    ).order_by("heartbeat_at")[:SWEEP_BATCH_SIZE]
    for job in unfinished:
        if job.status == Status.RUNNING and job.attempts >= settings.JOB_MAX_ATTEMPTS:
            swept.failed += _give_up(job, stale)
        elif job.status == Status.RUNNING:
            swept.restarted += _requeue(job, stale, now)
        else:
            swept.queued += _requeue(job, Q(status=Status.WAITING) | stale, now)
    checks = ImportJob.objects.filter(stale, status=Status.CHECKING)[:SWEEP_BATCH_SIZE]
    for job in checks:
        swept.checks += _restart_check(job, stale, now)
    inspecting = ImportJob.objects.filter(stale, status=Status.INSPECTING)[:SWEEP_BATCH_SIZE]
    for job in inspecting:
        swept.inspections += _reinspect(job, stale, now)
    if swept != Swept():
        logger.info("Swept import jobs: %s", swept)
    return swept


def _requeue(job: ImportJob, condition: Q, now: datetime) -> int:
    """Back to "waiting for the queue" (if still as the sweep saw it) and published again;
    "queued" once the broker took it."""
    moved = ImportJob.objects.filter(condition, pk=job.pk, status=job.status).update(
        status=Status.WAITING, heartbeat_at=now
    )
    if not moved:
        return 0
    try:
        queue_import(job)
    except QueueUnavailable:
        logger.warning("The queue is still down: import %s waits for it", job.pk)
        return 0
    return moved


def _give_up(job: ImportJob, stale: Q) -> int:
    with translation.override(_language(job)):
        reason = _(
            "The import stopped %(n)d times without finishing (its worker was lost: a restart, "
            "too little memory?). Nothing of it was written. Run it again, or split the file."
        ) % {"n": job.attempts}
    return ImportJob.objects.filter(stale, pk=job.pk, status=Status.RUNNING).update(
        status=Status.FAILED, finished_at=timezone.now(), message=reason
    )


def _reinspect(job: ImportJob, stale: Q, now: datetime) -> int:
    """An upload whose reading was lost (its worker, or the queue) is read again; after
    JOB_MAX_ATTEMPTS it fails with the reason (upload it again)."""
    current = ImportJob.objects.filter(stale, pk=job.pk, status=Status.INSPECTING)
    if job.attempts >= settings.JOB_MAX_ATTEMPTS:
        with translation.override(_language(job)):
            reason = _(
                "Reading the file stopped %(n)d times without finishing. Upload it again, or "
                "split it."
            ) % {"n": job.attempts}
        return current.update(status=Status.FAILED, finished_at=now, message=reason)
    moved = current.update(heartbeat_at=now)
    if moved:
        enqueue(INSPECT_TASK, job.pk, _language(job), robust=True)
    return moved


def _restart_check(job: ImportJob, stale: Q, now: datetime) -> int:
    """A new token (so the lost run, should it ever end, is ignored) and queued again; after
    JOB_MAX_ATTEMPTS, reopened with the reason instead."""
    token = (job.changes or {}).get("token", "")
    current = ImportJob.objects.filter(stale, pk=job.pk, status=Status.CHECKING)
    if job.attempts >= settings.JOB_MAX_ATTEMPTS:
        with translation.override(_language(job)):
            error = _("The check stopped %(n)d times without finishing. Check again.") % {
                "n": job.attempts
            }
        return current.filter(changes__token=token).update(
            status=Status.PREVIEW,
            changes={"error": error},
            started_at=None,
            processed_rows=0,
        )
    job.changes = {"token": uuid.uuid4().hex}
    with transaction.atomic():
        moved = current.filter(changes__token=token).update(
            changes=job.changes, heartbeat_at=now, started_at=None, processed_rows=0
        )
        if moved:
            queue_check(job, robust=True)
    return moved

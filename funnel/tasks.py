"""Actuals jobs: thin, they take ids and call one service."""

from celery import Task, shared_task
from django.db import OperationalError
from django.utils import translation

from funnel.services import import_checks, imports, jobs, uploads, webhooks

# A webhook is a handful of leads (and one Bitrix24 REST call, 10 s at most): a minute is
# plenty, and a stuck one must not hold a worker.
WEBHOOK_SOFT_TIME_LIMIT_S = 60
WEBHOOK_TIME_LIMIT_S = 90
# A million-row export imports in about three minutes here; an hour is a stuck job.
IMPORT_TIME_LIMIT_S = 60 * 60


@shared_task(
    name="funnel.run_import",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    time_limit=IMPORT_TIME_LIMIT_S,
)
def run_import(job_id: int, language: str = "ru") -> None:
    """Run a confirmed import (its messages in the language of the person who confirmed it)."""
    with translation.override(language):
        imports.import_run(job_id=job_id)


@shared_task(name="funnel.inspect_import", acks_late=True, time_limit=IMPORT_TIME_LIMIT_S)
def inspect_import(job_id: int, language: str = "ru") -> None:
    """Read a big upload for its preview (what a small one gets in its request)."""
    with translation.override(language):
        uploads.import_inspect(job_id=job_id)


@shared_task(name="funnel.check_import", acks_late=True, time_limit=IMPORT_TIME_LIMIT_S)
def check_import(job_id: int, token: str, language: str = "ru") -> None:
    """Count what an import would change, writing nothing (a later check supersedes it)."""
    with translation.override(language):
        import_checks.import_check_run(job_id=job_id, token=token)


@shared_task(
    bind=True,
    name="funnel.process_webhook",
    acks_late=True,  # idempotent: a redelivery after a worker crash changes nothing
    # A transient database error is retried here; the portal's rate limit or silence is
    # retried by the service's own backoff (RetryLater), counted on the record, which fails
    # the record after MAX_ATTEMPTS. A body we cannot parse stays failed.
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=webhooks.MAX_ATTEMPTS,
    soft_time_limit=WEBHOOK_SOFT_TIME_LIMIT_S,
    time_limit=WEBHOOK_TIME_LIMIT_S,
)
def process_webhook(self: Task, record_id: int) -> str:
    """Parse a stored webhook, load its leads, mark the record processed (or failed); when the
    CRM cannot answer now, come back after the backoff the service computed."""
    try:
        return webhooks.process_record(record_id=record_id)
    except webhooks.RetryLater as later:
        raise self.retry(countdown=later.countdown_s, exc=later) from None


@shared_task(name="funnel.sweep_webhooks", time_limit=WEBHOOK_TIME_LIMIT_S)
def sweep_webhooks() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): queue again the webhooks left waiting."""
    return webhooks.records_sweep()


@shared_task(name="funnel.sweep_jobs", ignore_result=True, time_limit=WEBHOOK_TIME_LIMIT_S)
def sweep_jobs() -> dict[str, int]:
    """Every minute (CELERY_BEAT_SCHEDULE): queue the imports waiting for the queue, start
    again those whose worker was lost (funnel.services.jobs)."""
    return vars(jobs.jobs_sweep())

"""Metrics jobs: thin, they take ids and call one service."""

from celery import shared_task
from django.db import OperationalError

from metrics.discipline import (
    REFRESH_TASK,
    discipline_refresh,
    discipline_refresh_queue,
    discipline_refresh_started,
    organizations_to_refresh,
)


@shared_task(
    name=REFRESH_TASK,
    acks_late=True,  # idempotent: the run replaces what the last one stored
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=5 * 60,
    time_limit=6 * 60,
)
def refresh_discipline(organization_id: int) -> int:
    """The organization's CRM discipline counted and stored (metrics.discipline)."""
    discipline_refresh_started(organization_id=organization_id)
    return discipline_refresh(organization_id=organization_id)


@shared_task(name="metrics.refresh_all_discipline", acks_late=True, soft_time_limit=60)
def refresh_all_discipline() -> int:
    """Beat: every organization with leads or tasks, one job each (overdue tasks appear as time
    passes, with no load to announce them). Returns how many were queued."""
    return sum(
        discipline_refresh_queue(organization_id=organization_id)
        for organization_id in organizations_to_refresh().values_list("pk", flat=True)
    )

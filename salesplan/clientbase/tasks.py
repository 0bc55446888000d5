"""Client base jobs: thin, they take ids and call one service."""

from celery import shared_task
from django.db import OperationalError

from salesplan.clientbase.services import (
    client_base_refresh,
    client_base_refresh_all,
    client_base_refresh_started,
)


@shared_task(
    name="clientbase.refresh",
    acks_late=True,  # idempotent: a rerun stores the same rows
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=10 * 60,
    time_limit=11 * 60,
)
def refresh(organization_id: int) -> int:
    """Recompute an organization's client base (companies, rates, warnings, runway); returns
    how many companies it has."""
    client_base_refresh_started(organization_id)
    summary = client_base_refresh(organization_id=organization_id)
    return 0 if summary is None else summary.available + summary.cooling + summary.closed


@shared_task(name="clientbase.refresh_all", acks_late=True, soft_time_limit=60, time_limit=90)
def refresh_all() -> int:
    """Nightly: every organization with leads, one job each."""
    return client_base_refresh_all()

"""Weekly review jobs: thin, they take ids and call one service."""

from datetime import date, timedelta

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from salesplan.models import Organization
from salesplan.queue import enqueue
from salesplan.reviews.services import organization_refresh
from salesplan.reviews.weeks import week_of


@shared_task(
    name="reviews.refresh_prefill",
    acks_late=True,  # idempotent: the prefill is replaced by the same figures
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=60,
    time_limit=90,
)
def refresh_prefill(organization_id: int, day: str | None = None) -> int:
    """The prefill of every head of sales' review of the organization's week (the week of
    `day`, an ISO date; default the current one): a few indexed queries per head."""
    week = week_of(date.fromisoformat(day)) if day else None
    return organization_refresh(organization_id=organization_id, week=week)


@shared_task(
    name="reviews.refresh_all", acks_late=True, soft_time_limit=10 * 60, time_limit=11 * 60
)
def refresh_all() -> int:
    """Nightly (beat, early morning UTC): every organization's current week, and the week of
    yesterday (on a Monday the week just ended gets its Sunday), one job each, so a week is
    prefilled even when no actuals arrived in it. At 03:15 UTC yesterday's UTC date is
    yesterday in every Russian time zone (UTC+2 to UTC+12)."""
    yesterday = (timezone.now() - timedelta(days=1)).date().isoformat()
    ids = list(Organization.objects.values_list("pk", flat=True))
    for organization_id in ids:
        enqueue("reviews.refresh_prefill", organization_id, robust=True)
        enqueue("reviews.refresh_prefill", organization_id, yesterday, robust=True)
    return len(ids)

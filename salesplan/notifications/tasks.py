"""Notification jobs: thin, they take ids and call one service."""

from celery import shared_task
from django.db import OperationalError

from salesplan.notifications import services


@shared_task(
    name="notifications.deliver",
    acks_late=True,  # idempotent: a sent delivery is skipped, the row is locked while sending
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=60,
    time_limit=90,  # one HTTP call of at most HTTP_TIMEOUT_S, or one e-mail
)
def deliver(delivery_id: int) -> str:
    """Send one notification on one channel; a failure is retried by the sweep."""
    return services.delivery_send(delivery_id=delivery_id)


@shared_task(name="notifications.sweep_deliveries", acks_late=True, time_limit=60)
def sweep_deliveries() -> int:
    """The beat's minute: deliveries whose retry is due, or never queued, are queued."""
    return services.deliveries_sweep()


@shared_task(name="notifications.daily_digest", acks_late=True, time_limit=10 * 60)
def daily_digest() -> int:
    """The beat's morning: yesterday's digest for every organization's owner and heads of
    sales (once per person and day: a rerun sends nothing)."""
    return services.digest_all()

"""Plan jobs: thin, they take ids and call one service."""

from celery import shared_task
from django.db import OperationalError

from salesplan.models import SalesPlan
from salesplan.plans import refresh


@shared_task(
    name="plans.refresh_history",
    acks_late=True,  # idempotent: recomputing a history twice stores the same history
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def refresh_history(funnel_id: int) -> int:
    """New actuals of a funnel: its plans' history for the realism check is recomputed."""
    return refresh.plan_history_refresh(plans=SalesPlan.objects.filter(funnel_id=funnel_id))

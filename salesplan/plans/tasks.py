"""Plan jobs: thin, they take ids and call one service."""

from celery import shared_task
from django.db import OperationalError

from salesplan.models import SalesPlan
from salesplan.plans import performance, refresh


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


@shared_task(
    name="plans.refresh_performance",
    acks_late=True,  # idempotent: the plan's rows are replaced by the same rows
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=10 * 60,
    time_limit=11 * 60,  # a yearly plan of 100 salespeople is minutes, not hours
)
def refresh_performance(plan_id: int) -> int:
    """A plan's plan vs fact recomputed for every day to today (stored snapshots)."""
    performance.performance_refresh_started(plan_id=plan_id)
    return performance.plan_performance_refresh(plan_id=plan_id)


@shared_task(name="plans.refresh_all_performance", acks_late=True, time_limit=60)
def refresh_all_performance(full: bool = False) -> int:
    """The beat's sweep: one recompute queued per plan in progress (every 15 minutes from
    the first changed day; nightly with `full`, every day from the period start)."""
    return performance.performance_refresh_all(full=full)

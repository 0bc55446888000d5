"""Dashboard jobs: thin, they take ids and call one service."""

from datetime import date

from celery import shared_task
from django.db import OperationalError, transaction

from salesplan.dashboards.marketing_data import marketing_summary_refresh
from salesplan.figures import figures_changed
from salesplan.models import SalesPlan


@shared_task(
    name="dashboards.refresh_marketing",
    acks_late=True,  # idempotent: the days' rows are replaced by the same rows
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=5 * 60,
    time_limit=6 * 60,
)
def refresh_marketing(plan_id: int, since: str, last: str) -> int:
    """A plan's marketing summary (the marketer's page) from `since` to `last` (ISO days):
    the days its plan vs fact was just recomputed for. One at a time per plan (the plan's row
    locked, as the recompute locks it). A run lost with its worker or broker is made good by
    the next recompute of those days (the nightly full one at the latest)."""
    with transaction.atomic():
        plan = SalesPlan.objects.select_for_update().filter(pk=plan_id).first()
        if plan is None:
            return 0
        rows = marketing_summary_refresh(
            plan=plan, since=date.fromisoformat(since), last=date.fromisoformat(last)
        )
        figures_changed(plan.organization_id)
        return rows

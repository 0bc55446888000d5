"""Role KPIs' jobs: thin, they take ids and call one service."""

from celery import shared_task
from django.db import OperationalError, transaction

from salesplan.kpis.services import kpi_figures_refresh
from salesplan.models import SalesPlan


@shared_task(
    name="kpis.refresh_figures",
    acks_late=True,  # idempotent: the month's figures are replaced by the same figures
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=5 * 60,
    time_limit=6 * 60,
)
def refresh_figures(plan_id: int) -> int:
    """The KPI figures of a plan's months (retention, last year's revenue of the same month,
    the given deals' figures), after its plan vs fact was recomputed. One transaction, one at
    a time per plan (the plan's row locked, as the recompute locks it)."""
    with transaction.atomic():
        plan = (
            SalesPlan.objects.select_for_update()
            .select_related("organization")
            .filter(pk=plan_id)
            .first()
        )
        if plan is None:
            return 0
        return kpi_figures_refresh(plan=plan)

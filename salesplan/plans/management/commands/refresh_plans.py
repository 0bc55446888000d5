from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from salesplan.models import SalesPlan
from salesplan.plans import refresh
from salesplan.plans.performance import plan_performance_refresh, plans_in_progress


class Command(BaseCommand):
    help = (
        "Recompute the stored history (for the realism check), the metrics and the default pie "
        "of plans that are not closed. --missing: only plans that have never had a history "
        "computed (plans saved before it was stored); run after `migrate`, idempotent. "
        "Without --missing, the plan vs fact of every plan in progress is recomputed whole too."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--missing", action="store_true", help="only plans with no history")

    def handle(self, *args: Any, missing: bool = False, **options: Any) -> None:
        plans = SalesPlan.objects.all()
        if missing:
            plans = plans.filter(history_updated_at__isnull=True)
        ids = list(plans.values_list("pk", flat=True))
        histories = refresh.plan_history_refresh(plans=SalesPlan.objects.filter(pk__in=ids))
        refreshed = refresh.plan_refresh(plans=SalesPlan.objects.filter(pk__in=ids))
        self.stdout.write(f"History recomputed for {histories} plans; {refreshed} plans refreshed.")
        if missing:
            return
        # Here, not queued: the command's own process would exit before a background thread.
        rows = sum(
            plan_performance_refresh(plan_id=plan_id, full=True)
            for plan_id in plans_in_progress().filter(pk__in=ids).values_list("pk", flat=True)
        )
        self.stdout.write(f"Plan vs fact recomputed: {rows} rows.")

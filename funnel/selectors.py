"""Reads of actuals, set-based: one aggregate query per table."""

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from funnel.models import Payment, StageEvent
from salesplan.access import scoped
from salesplan.models import SalesPlan
from salesplan.planning import History, MonthStat

# How far back the realism check looks: a year shows every season once.
HISTORY_MONTHS = 12


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def plan_history(*, plan: SalesPlan, months: int = HISTORY_MONTHS) -> History | None:
    """The plan's funnel in the months before the plan: stage volumes and revenue per month
    (the organization's local months). A team's plan looks at the leads of that team's
    people. Months without any actuals are left out (not imported is not zero); None when
    there is nothing."""
    tz = ZoneInfo(plan.organization.time_zone)
    start = _months_back(plan.period_start.replace(day=1), months)
    end = plan.period_start.replace(day=1)
    who = Q()
    if plan.sales_team_id:
        who = Q(lead__responsible__team_id=plan.sales_team_id)
    events = (
        scoped(StageEvent, plan.organization)
        .filter(who, stage__funnel_id=plan.funnel_id)
        .filter(reached_at__date__gte=start, reached_at__date__lt=end)
        .annotate(month=TruncMonth("reached_at", tzinfo=tz))
        .values("month", "stage__name")
        .annotate(count=Count("id"))
    )
    volumes: dict[date, dict[str, int]] = {}
    for row in events:
        month = row["month"].date() if hasattr(row["month"], "date") else row["month"]
        volumes.setdefault(month, {})[row["stage__name"]] = row["count"]
    if not volumes:
        return None
    revenue = {
        (row["month"].date() if hasattr(row["month"], "date") else row["month"]): row["total"]
        for row in scoped(Payment, plan.organization)
        .filter(who, lead__funnel_id=plan.funnel_id)
        .filter(paid_at__date__gte=start, paid_at__date__lt=end)
        .annotate(month=TruncMonth("paid_at", tzinfo=tz))
        .values("month")
        .annotate(total=Sum("amount"))
    }
    stage_names = list(plan.funnel.stages.order_by("position").values_list("name", flat=True))
    return History(
        months=tuple(
            MonthStat(
                month=month,
                stages={name: counts.get(name, 0) for name in stage_names},
                revenue=revenue.get(month) or Decimal(0),
            )
            for month, counts in sorted(volumes.items())
        )
    )

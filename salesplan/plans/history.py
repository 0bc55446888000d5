"""A plan's funnel in the months before it, from the actuals: what the realism check compares
the plan with. Computed when a plan is saved and when new actuals arrive (`tasks.py`), stored
on the plan; no page reads actuals to show a plan."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from funnel.models import Payment, StageEvent
from salesplan.access import scoped
from salesplan.models import Organization
from salesplan.planning import History, MonthStat

# How far back the realism check looks: a year shows every season once.
HISTORY_MONTHS = 12


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _month(value: object) -> date:
    return value.date() if hasattr(value, "date") else value  # type: ignore[return-value]


def funnel_history(
    *,
    organization: Organization,
    funnel_id: int,
    sales_team_id: int | None,
    before: date,
    stage_names: Sequence[str],
    months: int = HISTORY_MONTHS,
) -> History | None:
    """Stage volumes and revenue per month (the organization's local months) in the `months`
    months before the month of `before`. A team's plan looks at the leads of that team's
    people. Months without any actuals are left out (not imported is not zero); None when
    there is nothing. Two aggregate queries, whatever the volume."""
    tz = ZoneInfo(organization.time_zone)
    end = before.replace(day=1)
    start = _months_back(end, months)
    who = Q(lead__responsible__team_id=sales_team_id) if sales_team_id else Q()
    events = (
        scoped(StageEvent, organization)
        .filter(who, stage__funnel_id=funnel_id)
        .filter(reached_at__date__gte=start, reached_at__date__lt=end)
        .annotate(month=TruncMonth("reached_at", tzinfo=tz))
        .values("month", "stage__name")
        .annotate(count=Count("id"))
    )
    volumes: dict[date, dict[str, int]] = {}
    for row in events:
        volumes.setdefault(_month(row["month"]), {})[row["stage__name"]] = row["count"]
    if not volumes:
        return None
    revenue = {
        _month(row["month"]): row["total"]
        for row in scoped(Payment, organization)
        .filter(who, lead__funnel_id=funnel_id)
        .filter(paid_at__date__gte=start, paid_at__date__lt=end)
        .annotate(month=TruncMonth("paid_at", tzinfo=tz))
        .values("month")
        .annotate(total=Sum("amount"))
    }
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

"""What the data can tell about a head of sales' week, for the review's prefill.

Each function the data knows something about gets a suggestion (ticked, or None: the data
cannot tell) and its evidence, stored as data (`code` and figures) and worded in the reader's
language when shown (reviews.presentation). Only cheap indexed queries over one head and one
week, a handful in all, so opening a week nobody has reviewed yet may compute it:

- plan: plan versions this head saved in the week (PlanVersion.created_by, its FK index) — a
  fact;
- track metrics: notifications (slips, digests) the head read in the week (the inbox's
  recipient/read_at index) — a fact that they looked, not that they acted;
- control: slips open in the week on the plans the head plans for (Slip's plan/closed_on
  index) and their team's overdue tasks on the week's last day the discipline job counted
  (metrics.DisciplineDay) — only a hint of what there was to control, never a tick: nothing
  logs which figures a head opened;
- sell a little: the head's own deals, the payments of the leads they hold (the payments'
  organization/paid_at index over one week); more than OWN_DEALS_WARNING a week is a warning
  that they sell instead of managing (DOMAIN idea 5, seed 003)."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from funnel.models import Payment
from funnel.selectors import payments_of
from metrics.models import DisciplineDay, Slip
from salesplan.access import led_team_ids, scoped
from salesplan.models import Membership, Notification, PlanVersion, SalesPlan
from salesplan.reviews.weeks import Week, zone_of

# More own deals than this in one week: the head of sales sells instead of managing (a head
# who closes one or two key deals a week with the team is "selling a little", seed 003).
OWN_DEALS_WARNING = 3


@dataclass
class Prefill:
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    own_deals: int = 0
    own_revenue: Decimal = Decimal(0)


def _item(suggested: bool | None, code: str, warning: bool = False, **figures: Any) -> dict:
    return {"suggested": suggested, "evidence": {"code": code, **figures}, "warning": warning}


def _plan(head: Membership, week: Week) -> dict:
    start, end = week.bounds(zone_of(head.organization))
    saved = list(
        scoped(PlanVersion, head.organization, path="plan__organization")
        .filter(created_by_id=head.user_id, created_at__gte=start, created_at__lt=end)
        .values_list("created_at", flat=True)
    )
    if not saved:
        return _item(None, "no_plan_versions")
    zone = zone_of(head.organization)
    days = sorted({moment.astimezone(zone).date().isoformat() for moment in saved})
    return _item(True, "plan_versions", count=len(saved), days=days)


def _track_metrics(head: Membership, week: Week) -> dict:
    start, end = week.bounds(zone_of(head.organization))
    mine = scoped(Notification, head.organization).filter(recipient=head)
    read = mine.filter(read_at__gte=start, read_at__lt=end).count()
    unread = mine.filter(read_at__isnull=True, created_at__lt=end).count()
    if read:
        return _item(True, "notifications_read", count=read, unread=unread)
    if unread:
        return _item(False, "notifications_unread", count=unread)
    return _item(None, "no_notifications")


def _plans_of(head: Membership, week: Week) -> Q:
    """The plans this head plans for (their teams' and the department's) running that week."""
    return Q(
        Q(sales_team__isnull=True) | Q(sales_team_id__in=led_team_ids(head)),
        period_start__lte=week.end,
        period_end__gte=week.start,
    )


def _overdue(head: Membership, week: Week) -> tuple[int, str | None]:
    """The overdue tasks of the head's team on the week's last day the discipline job
    counted (metrics.DisciplineDay: its organization/day index, a row per member and day)."""
    teams = led_team_ids(head)
    if not teams:
        return 0, None
    rows = list(
        scoped(DisciplineDay, head.organization)
        .filter(day__gte=week.start, day__lte=week.end, member__team_id__in=teams)
        .values_list("day", "overdue_tasks")
    )
    if not rows:
        return 0, None
    last = max(day for day, _count in rows)
    return sum(count for day, count in rows if day == last), last.isoformat()


def _control(head: Membership, week: Week) -> dict:
    plans = scoped(SalesPlan, head.organization).filter(_plans_of(head, week))
    slips = (
        Slip.objects.filter(plan__in=plans.values("pk"), since__lte=week.end)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gte=week.start))
        .count()
    )
    overdue, day = _overdue(head, week)
    if slips or overdue:
        return _item(None, "to_control", slips=slips, overdue=overdue, day=day)
    return _item(None, "nothing_to_control")


def _sell(head: Membership, week: Week) -> tuple[dict, int, Decimal]:
    start, end = week.bounds(zone_of(head.organization))
    totals = (
        scoped(Payment, head.organization)
        .filter(payments_of(head.pk), paid_at__gte=start, paid_at__lt=end)
        .aggregate(deals=Count("lead_id", distinct=True), revenue=Sum("amount"))
    )
    deals, revenue = totals["deals"] or 0, totals["revenue"] or Decimal(0)
    if not deals:
        return _item(None, "no_own_deals"), 0, Decimal(0)
    warning = deals > OWN_DEALS_WARNING
    item = _item(
        True,
        "too_many_own_deals" if warning else "own_deals",
        warning=warning,
        count=deals,
        revenue=str(revenue),
        limit=OWN_DEALS_WARNING,
    )
    return item, deals, revenue


def compute(head: Membership, week: Week) -> Prefill:
    """The prefill of a head's week, from stored data only (seven indexed queries)."""
    sell, deals, revenue = _sell(head, week)
    return Prefill(
        items={
            "track_metrics": _track_metrics(head, week),
            "plan": _plan(head, week),
            "control": _control(head, week),
            "sell": sell,
        },
        own_deals=deals,
        own_revenue=revenue,
    )

"""Reads of the role homes (issue 12): the owner's roll-up of every team's current plan, a
salesperson's day, the slips a member sees and a metric's history. They read what the
background jobs stored (PerformanceSnapshot, Slip) and the plans' stored inputs; nothing is
aggregated from the actuals here, and every read costs the same number of queries whatever
the number of plans, metrics or people."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from metrics.models import PerformanceSnapshot, PerformanceStatus, PlanMetric, Slip
from responsibility.models import Responsibility
from responsibility.rules import check_pie
from responsibility.selectors import owner_view, pie_from
from salesplan.access import led_team_ids, plans_queryset, scoped
from salesplan.models import Membership, PlanStatus, Role, SalesPlan
from salesplan.notifications.views import open_slips
from salesplan.planning import person_daily
from salesplan.plans.selectors import DecomposedPlan

REVENUE_KEY = "revenue"
# The slips one page lists; the most costly first (the API pages through the rest).
SLIPS_SHOWN = 100


# --- the owner's roll-up ----------------------------------------------------------------------


def rollup_plans(*, member: Membership, day: date) -> QuerySet[SalesPlan]:
    """The plans covering `day` that the roll-up shows: every team's for the owner (and the
    roles that read everything); a head of sales' own teams' and the department's."""
    plans = (
        scoped(plans_queryset(), member.organization)
        .filter(period_start__lte=day, period_end__gte=day)
        .exclude(status=PlanStatus.CLOSED)
        .order_by(F("sales_team__name").asc(nulls_first=True), "name", "id")
    )
    if member.role == Role.HEAD_OF_SALES:
        plans = plans.filter(Q(sales_team__isnull=True) | Q(sales_team_id__in=led_team_ids(member)))
    return plans


def latest_revenue_rows(plans: Sequence[SalesPlan], day: date) -> dict[int, PerformanceSnapshot]:
    """Each plan's department revenue row (owner NULL) of the latest day stored up to `day`,
    by plan id. One query: the latest day per plan is a correlated subquery on the
    (plan, day, metric) index of the department rows."""
    latest = (
        PerformanceSnapshot.objects.filter(
            plan_id=OuterRef("plan_id"),
            metric_id=OuterRef("metric_id"),
            owner__isnull=True,
            day__lte=day,
        )
        .order_by("-day")
        .values("day")[:1]
    )
    rows = PerformanceSnapshot.objects.filter(
        plan__in=[plan.pk for plan in plans],
        owner__isnull=True,
        metric__key=REVENUE_KEY,
        day=Subquery(latest),
    ).select_related("metric")
    return {row.plan_id: row for row in rows}


@dataclass(frozen=True, slots=True)
class PieHealth:
    """What the pie page's findings say about a plan's pie, counted (responsibility.rules,
    the same rules the page runs), and its metrics with no owner at the top of the pie."""

    findings: int
    errors: int
    unowned: int


def pie_health(plans: Sequence[SalesPlan]) -> dict[int, PieHealth]:
    """Each plan's pie checked by responsibility.rules.check_pie, as the pie page checks it
    (responsibility.selectors.pie_of), read for all the plans at once: three queries."""
    if not plans:
        return {}
    ids = [plan.pk for plan in plans]
    metrics: dict[int, list[PlanMetric]] = {pk: [] for pk in ids}
    for metric in PlanMetric.objects.filter(plan_id__in=ids).order_by("id"):
        metrics[metric.plan_id].append(metric)
    rows: dict[int, list[Responsibility]] = {pk: [] for pk in ids}
    for row in Responsibility.objects.filter(plan_id__in=ids).order_by("id"):
        rows[row.plan_id].append(row)
    organization = plans[0].organization
    owners = tuple(
        owner_view(member) for member in scoped(Membership, organization).select_related("user")
    )
    health = {}
    for plan in plans:
        plan_metrics = metrics[plan.pk]
        pie = pie_from(plan, plan_metrics, rows[plan.pk], owners)
        findings = check_pie(pie)
        owned = {r.metric_id for r in rows[plan.pk] if r.parent_id is None}
        health[plan.pk] = PieHealth(
            findings=len(findings),
            errors=sum(finding.severity == "error" for finding in findings),
            unowned=sum(m.pk not in owned for m in plan_metrics),
        )
    return health


@dataclass(frozen=True, slots=True)
class RollupRow:
    plan: SalesPlan
    team: str  # the team's name; "" for a department plan
    planned: Decimal | None  # the period's revenue plan
    day: date | None  # the day the figures are of (the latest stored)
    plan_to_date: Decimal | None
    actual_to_date: Decimal | None
    forecast: Decimal | None
    status: str
    gap_pct: Decimal | None
    health: PieHealth

    @property
    def status_label(self) -> str:
        return str(PerformanceStatus(self.status).label)

    @property
    def in_month(self) -> bool:
        """A plan of one calendar month (the month's forecast adds these up)."""
        start, end = self.plan.period_start, self.plan.period_end
        return (start.year, start.month) == (end.year, end.month)


def rollup(*, member: Membership, day: date) -> list[RollupRow]:
    """Every current plan the member's roll-up shows, with its revenue as stored on the latest
    day up to `day` and its pie's health. Six queries whatever the number of plans."""
    plans = list(rollup_plans(member=member, day=day))
    revenue = latest_revenue_rows(plans, day)
    health = pie_health(plans)
    rows = []
    for plan in plans:
        row = revenue.get(plan.pk)
        rows.append(
            RollupRow(
                plan=plan,
                team=plan.sales_team.name if plan.sales_team_id else "",
                planned=row.metric.planned_value if row else plan.revenue_target,
                day=row.day if row else None,
                plan_to_date=row.plan_to_date if row else None,
                actual_to_date=row.actual_to_date if row else None,
                forecast=row.forecast if row else None,
                status=row.status if row else PerformanceStatus.NOT_ASSESSED,
                gap_pct=row.gap_pct if row else None,
                health=health[plan.pk],
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class MonthForecast:
    planned: Decimal
    forecast: Decimal
    plans: int  # the month's plans that have a stored forecast
    missing: int  # the month's plans with none stored yet


def month_forecast(rows: Sequence[RollupRow]) -> MonthForecast:
    """The month's revenue forecast: the sum over the one-month plans of the roll-up (a
    quarter's or a year's forecast runs to its own end, not the month's)."""
    monthly = [row for row in rows if row.in_month]
    stored = [row for row in monthly if row.forecast is not None]
    return MonthForecast(
        planned=sum((row.planned or Decimal(0) for row in stored), Decimal(0)),
        forecast=sum((row.forecast for row in stored if row.forecast is not None), Decimal(0)),
        plans=len(stored),
        missing=len(monthly) - len(stored),
    )


# --- a salesperson's day ----------------------------------------------------------------------


def week_start(day: date) -> date:
    """Monday of the ISO week of `day`."""
    return day - timedelta(days=day.weekday())


@dataclass(slots=True)
class TodayLine:
    """One number of a salesperson's day: what the plan asks of them today and this week
    (quota), what it takes to be on plan by the end of each (needed: the plan to date then,
    less what they had done before it began; more than the quota when behind, less when
    ahead), and what they have done in it so far. `done_*` is None where nothing is
    stored for them (a stage nobody tracks personally, or today not computed yet)."""

    key: str  # "calls" or the stage's metric key
    name: str
    is_key_stage: bool = False
    is_deals: bool = False
    quota_today: int = 0
    quota_week: int = 0
    needed_today: int | None = None
    needed_week: int | None = None
    done_today: Decimal | None = None
    done_week: Decimal | None = None
    plan_to_date: int = 0
    actual_to_date: Decimal | None = None


@dataclass(slots=True)
class TodayPlan:
    plan: SalesPlan
    share: Decimal
    day: date
    stored_day: date | None  # the latest day stored for them (None: nothing yet)
    lines: list[TodayLine] = field(default_factory=list)
    slices: list[dict[str, Any]] = field(default_factory=list)


def stage_metric_keys(item: DecomposedPlan) -> list[tuple[int, str]]:
    """(stage position, metric key) of the stages a salesperson answers for: the target-lead
    stage and every stage after it (DOMAIN idea 2), as metrics.catalog names them."""
    assert item.decomposition is not None
    stages = item.decomposition.stages
    target = next((i for i, s in enumerate(stages) if s.is_target_lead), 1)
    keys = [(target, "target_leads")]
    keys += [(position, f"stage_volume:{position}") for position in range(target + 1, len(stages))]
    return keys


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def today_plans(
    *, membership: Membership, plans: Sequence[DecomposedPlan], day: date
) -> list[TodayPlan]:
    """A salesperson's numbers for `day` in each plan they have a share of.

    One definition for every figure: the person's part of the plan is the plan's
    decomposition split by their share of the plan (the largest-remainder split of
    salesplan.planning, whole numbers that add up), per working day (`person_daily`). Done
    is the difference of their stored actual-to-date between days (their own snapshots).
    Calls needed are their leads times the plan's calls per lead (rounded up). One query
    for the snapshots of all the plans."""
    mine = [
        item
        for item in plans
        if item.decomposition is not None
        and any(m.membership_id == membership.pk for m in item.plan.members.all())
    ]
    monday = week_start(day)
    stored = _personal_rows(membership, [item.plan for item in mine], monday, day)
    result = []
    for item in mine:
        decomposition = item.decomposition
        assert decomposition is not None and item.inputs is not None
        share = next(m.share for m in item.plan.members.all() if m.membership_id == membership.pk)
        days = person_daily(decomposition, str(membership.pk))
        names = [stage.name for stage in decomposition.stages]
        key_stage = next(s.name for s in decomposition.stages if s.is_key_stage)
        rows = stored.get(item.plan.pk, {})
        stored_day = max((d for d, _key in rows), default=None)
        today = TodayPlan(plan=item.plan, share=share, day=day, stored_day=stored_day)

        def planned(stage: str, start: date, end: date, days: Any = days) -> int:
            return sum(d.stages[stage] for d in days if start <= d.date <= end)

        first = decomposition.period_start
        week_from = max(monday, first)
        week_to = min(monday + timedelta(days=6), decomposition.period_end)
        norms = item.inputs.norms
        if norms is not None and norms.calls_per_lead is not None:
            leads = names[0]
            per_lead = norms.calls_per_lead
            quota_today = _ceil(planned(leads, day, day) * per_lead)
            quota_week = _ceil(planned(leads, week_from, week_to) * per_lead)
            today.lines.append(
                TodayLine(
                    key="calls",
                    name="",
                    quota_today=quota_today,
                    quota_week=quota_week,
                    needed_today=quota_today,
                    needed_week=quota_week,
                    plan_to_date=_ceil(planned(leads, first, day) * per_lead),
                )
            )
        for position, key in stage_metric_keys(item):
            stage = names[position]
            line = TodayLine(
                key=key,
                name=stage,
                is_key_stage=stage == key_stage,
                is_deals=position == len(names) - 1,
                quota_today=planned(stage, day, day),
                quota_week=planned(stage, week_from, week_to),
                plan_to_date=planned(stage, first, day),
            )
            by_week_end = planned(stage, first, week_to)
            _fill_done(line, rows, key, day, monday, first, stored_day, by_week_end)
            today.lines.append(line)
        result.append(today)
    return result


def _fill_done(
    line: TodayLine,
    rows: dict[tuple[date, str], Decimal | None],
    key: str,
    day: date,
    monday: date,
    first: date,
    stored_day: date | None,
    plan_by_week_end: int,
) -> None:
    """Done today and this week from the stored actual-to-date (a day before the period:
    nothing done yet), and what is needed to be on plan by tonight and by the week's end."""

    def actual(on: date) -> Decimal | None:
        if on < first:
            return Decimal(0)
        return rows.get((on, key))

    before_today = actual(day - timedelta(days=1))
    before_week = actual(monday - timedelta(days=1))
    now = actual(day) if stored_day == day else None
    line.actual_to_date = now if now is not None else before_today
    if now is not None and before_today is not None:
        line.done_today = now - before_today
    if now is not None and before_week is not None:
        line.done_week = now - before_week
    if before_today is not None:
        line.needed_today = max(0, _ceil(Decimal(line.plan_to_date) - before_today))
    if before_week is not None:
        line.needed_week = max(0, _ceil(Decimal(plan_by_week_end) - before_week))


def _personal_rows(
    membership: Membership, plans: Sequence[SalesPlan], monday: date, day: date
) -> dict[int, dict[tuple[date, str], Decimal | None]]:
    """The member's own stored actual-to-date from the day before the week to `day`, by plan
    and (day, metric key). One query; at most eight days of a handful of stage metrics."""
    if not plans:
        return {}
    rows = PerformanceSnapshot.objects.filter(
        plan__in=[plan.pk for plan in plans],
        owner=membership,
        day__gte=min(monday, day) - timedelta(days=1),
        day__lte=day,
    ).values_list("plan_id", "day", "metric__key", "actual_to_date")
    out: dict[int, dict[tuple[date, str], Decimal | None]] = {}
    for plan_id, on, key, actual in rows:
        out.setdefault(plan_id, {})[(on, key)] = actual
    return out


# --- slips --------------------------------------------------------------------------------------


def slips_for(member: Membership) -> QuerySet[Slip]:
    """The open slips a member answers for or oversees (the inbox's rule, one place)."""
    return open_slips(member)


def slip_items(slips: Sequence[Slip]) -> list[dict[str, Any]]:
    """Slips as a page lists them: the stored gap in percent (12.50) as the fraction the
    `percent` filter takes."""
    return [
        {"slip": slip, "gap_fraction": None if slip.gap_pct is None else slip.gap_pct / 100}
        for slip in slips
    ]


# --- a metric's history -------------------------------------------------------------------------


def metric_history(
    *, plan: SalesPlan, metric: PlanMetric, owner: Membership | None, day: date
) -> list[PerformanceSnapshot]:
    """The stored plan vs fact of one metric for one owner (None: the department) on every day
    of the plan's period up to `day`, the first day first. One query on the (plan, day, metric)
    index."""
    rows = PerformanceSnapshot.objects.filter(
        plan=plan, metric=metric, day__gte=plan.period_start, day__lte=day
    )
    rows = rows.filter(owner=owner) if owner is not None else rows.filter(owner__isnull=True)
    return list(rows.order_by("day"))


def history_owners(plan: SalesPlan, metric: PlanMetric) -> list[Membership]:
    """The salespeople who hold a slice of the metric below the top of the pie: their own
    rows are stored. One query."""
    return list(
        scoped(Membership, plan.organization)
        .select_related("user")
        .filter(
            responsibilities__plan=plan,
            responsibilities__metric=metric,
            responsibilities__parent__isnull=False,
        )
        .distinct()
        .order_by("user__first_name", "user__last_name", "id")
    )


def visible_members_of(member: Membership) -> QuerySet[Membership]:
    """The people of the member's organization."""
    return scoped(Membership, member.organization).select_related("user")

"""The marketer's figures (DOMAIN idea 2, "marketer KPIs"): leads, target leads, their share,
cost per lead and per target lead, spend against the plan's marketing budget, non-target
reasons and missed calls, by channel and by week, and what marketing is owed when it is paid
only for target leads.

Two halves:

- `marketing_summary_refresh` (the background half) sums a plan's actuals per (local day,
  channel) in three grouped queries and stores them as `MarketingDay` rows. It runs inside
  each plan-vs-fact recompute (receivers.py, `performance_refreshed`), for the days that
  recompute touched (usually today alone), so the summary commits or rolls back with the
  snapshots.
- The readers (`marketing_plan_choices`, `marketing_days`, `marketing_figures`) read those rows
  (a month is ~31 × channels) and the plan's decomposition, and fold the days into the plan's
  weeks: a constant number of queries, no actuals read in a request.

The rules are the actuals' (`metrics.actuals`): the organization's local days
(`local_day_bounds` and `TruncDate(..., tzinfo=)`), a lead counted on the day it was created
and a target lead when the CRM marked it target (`is_target`; the columns `leads` and
`target_leads` there), spend as the department's per channel and local day, a missed call a
call not connected, calls of the funnel's leads or of no lead.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from funnel.models import Call, Lead, Spend
from metrics.actuals import calls_of_funnel, local_day_bounds
from salesplan.access import plans_queryset, scoped
from salesplan.dashboards.models import MarketingDay
from salesplan.models import Organization, PlanStatus, SalesPlan
from salesplan.planning import Decomposition
from salesplan.planning.attribution import split_by_shares
from salesplan.planning.tracking import round_half_up
from salesplan.planning.types import WeekPlan

# Non-target reasons kept per (plan, day, channel): the most frequent ones; the others are
# counted in `non_target_leads` and shown together as "other reasons". CRMs offer a short list
# (a dozen); free text typed per lead would otherwise grow a row without bound.
MAX_REASONS = 20
# Reasons listed on the page (the most frequent over the weeks shown; the rest as "other").
MAX_REASONS_SHOWN = 15
# Plans offered in the page's plan selector: those overlapping the period, newest first. A
# quarter of monthly plans for a dozen teams fits.
MAX_PLAN_CHOICES = 50
# A full recompute of a yearly plan writes 365 days × channels rows; one INSERT of 500 rows
# stays far under the databases' parameter limits (13 columns a row).
WRITE_BATCH = 500
ZERO = Decimal(0)


@dataclass
class _Cell:
    leads: int = 0
    target_leads: int = 0
    non_target_leads: int = 0
    spend: Decimal = ZERO
    calls: int = 0
    missed_calls: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def _top_reasons(reasons: dict[str, int]) -> dict[str, int]:
    """The MAX_REASONS most frequent reasons (ties: the first by text)."""
    ranked = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    return dict(ranked[:MAX_REASONS])


def _summarise(plan: SalesPlan, first: date, last: date) -> dict[tuple[date, str], _Cell]:
    """The plan's actuals from `first` to `last` (local days) per (day, channel): three
    grouped queries (leads with their reasons in one scan, spend, calls)."""
    organization = plan.organization
    zone = ZoneInfo(organization.time_zone)
    since, until = local_day_bounds(first, last, zone)
    cells: dict[tuple[date, str], _Cell] = {}

    def cell(day: date, channel: str | None) -> _Cell:
        return cells.setdefault((day, channel or ""), _Cell())

    # Every day gets a row, a quiet one too (module docstring of models.MarketingDay).
    for n in range((last - first).days + 1):
        cell(first + timedelta(days=n), "")

    # One scan of the leads: per day, channel, target flag and (non-target) reason.
    for row in (
        scoped(Lead, organization)
        .filter(funnel_id=plan.funnel_id, created_at__gte=since, created_at__lt=until)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day", "channel", "is_target", "non_target_reason")
        .annotate(count=Count("id"))
        .order_by()
    ):
        target = cell(row["day"], row["channel"])
        target.leads += row["count"]
        if row["is_target"] is True:
            target.target_leads += row["count"]
        elif row["is_target"] is False:
            target.non_target_leads += row["count"]
            reason = row["non_target_reason"] or ""
            target.reasons[reason] = target.reasons.get(reason, 0) + row["count"]

    for row in (
        scoped(Spend, organization)
        .filter(date__gte=first, date__lte=last)
        .values("date", "channel")
        .annotate(amount=Sum("amount"))
        .order_by()
    ):
        cell(row["date"], row["channel"]).spend += row["amount"] or ZERO

    of_funnel = calls_of_funnel(plan.funnel_id)
    for row in (
        scoped(Call, organization)
        .filter(of_funnel, at__gte=since, at__lt=until)
        .annotate(day=TruncDate("at", tzinfo=zone))
        .values("day", "lead__channel")
        .annotate(count=Count("id"), missed=Count("id", filter=Q(connected=False)))
        .order_by()
    ):
        target = cell(row["day"], row["lead__channel"])
        target.calls += row["count"]
        target.missed_calls += row["missed"]
    return cells


def marketing_summary_refresh(*, plan: SalesPlan, since: date, last: date) -> int:
    """Replace the plan's summary rows of the days from `since` to `last` (and drop rows
    outside the period: after `last`, before its start). Returns the rows written.
    Idempotent: a rerun writes the same rows."""
    first = max(since, plan.period_start)
    end = min(last, plan.period_end)
    now = timezone.now()
    with transaction.atomic():
        scoped(MarketingDay, plan.organization).filter(plan=plan).filter(
            Q(day__gte=first) | Q(day__lt=plan.period_start)
        ).delete()
        if end < first:
            return 0
        rows = [
            MarketingDay(
                organization_id=plan.organization_id,
                plan=plan,
                day=day,
                channel=channel,
                leads=cell.leads,
                target_leads=cell.target_leads,
                non_target_leads=cell.non_target_leads,
                spend=cell.spend,
                calls=cell.calls,
                missed_calls=cell.missed_calls,
                reasons=_top_reasons(cell.reasons),
                computed_at=now,
            )
            for (day, channel), cell in sorted(_summarise(plan, first, end).items())
        ]
        MarketingDay.objects.bulk_create(rows, batch_size=WRITE_BATCH)
    return len(rows)


# --- reads for the page ----------------------------------------------------------------------


def marketing_plan_choices(
    *, organization: Organization, start: date, end: date
) -> list[SalesPlan]:
    """The organization's plans overlapping the period, newest first (at most
    MAX_PLAN_CHOICES): one query."""
    return list(
        scoped(plans_queryset(), organization)
        .filter(period_start__lte=end, period_end__gte=start)
        .order_by("-period_start", "name", "pk")[:MAX_PLAN_CHOICES]
    )


def default_plan(
    plans: Sequence[SalesPlan], *, team_ids: Iterable[int], start: date, end: date
) -> SalesPlan | None:
    """The plan a page opens with: of the user's team (or teams they lead), then an active
    one, then the one covering most of the period, then the newest; closed plans last."""
    teams = set(team_ids)

    def overlap(plan: SalesPlan) -> int:
        return (min(plan.period_end, end) - max(plan.period_start, start)).days

    def rank(plan: SalesPlan) -> tuple[Any, ...]:
        return (
            plan.status == PlanStatus.CLOSED,
            plan.sales_team_id not in teams,
            plan.status != PlanStatus.ACTIVE,
            -overlap(plan),
        )

    return min(plans, key=rank, default=None)


def marketing_days(*, plan: SalesPlan, start: date, end: date) -> list[MarketingDay]:
    """The plan's stored rows of the days from start to end, one query."""
    return list(
        scoped(MarketingDay, plan.organization)
        .filter(plan=plan, day__gte=start, day__lte=end)
        .order_by("day", "channel")
    )


def _ratio(numerator: Any, denominator: Any) -> Fraction | None:
    return Fraction(numerator) / Fraction(denominator) if denominator else None


def _money(value: Fraction | None) -> Decimal | None:
    return None if value is None else round_half_up(value, 2)


def _share(value: Fraction | None) -> Decimal | None:
    """A fraction for the `percent` filter and a spreadsheet's 0.0 % (six places)."""
    return None if value is None else round_half_up(value, 6)


@dataclass(frozen=True)
class MarketingPlan:
    """What the plan asks of marketing over the weeks shown (DOMAIN 1.1): leads, target
    leads, the budget (split over weeks as the leads are), the rates it implies."""

    leads: int
    target_leads: int
    budget: Decimal | None  # None: the plan has no cost per lead (no budget)
    leads_to_date: int
    target_leads_to_date: int
    budget_to_date: Decimal | None
    cost_per_lead: Decimal | None
    cost_per_target_lead: Decimal | None
    target_share: Decimal | None
    # Budget ÷ planned target leads, exact: what one target lead earns marketing (idea 2).
    target_lead_rate: Fraction | None


@dataclass(frozen=True)
class MarketingFigures:
    plan: MarketingPlan
    weeks: list[dict[str, Any]]
    channels: list[dict[str, Any]]
    reasons: list[dict[str, Any]]
    totals: dict[str, Any]
    through: date | None
    computed_at: Any


def _target_index(decomposition: Decomposition) -> int:
    return next((i for i, s in enumerate(decomposition.stages) if s.is_target_lead), 1)


def _planned(
    decomposition: Decomposition, weeks: Sequence[WeekPlan], through: date | None
) -> tuple[MarketingPlan, list[Decimal | None]]:
    """The plan over `weeks` and to `through`; the budget of each week."""
    lead_stage = decomposition.stages[0].name
    target_stage = decomposition.stages[_target_index(decomposition)].name
    leads = sum(week.stages[lead_stage] for week in weeks)
    target = sum(week.stages[target_stage] for week in weeks)
    first = weeks[0].start if weeks else None
    days = [
        day
        for day in decomposition.by_day
        if first is not None and through is not None and first <= day.date <= through
    ]
    leads_to_date = sum(day.stages[lead_stage] for day in days)
    target_to_date = sum(day.stages[target_stage] for day in days)
    whole_budget = decomposition.marketing_budget
    total_leads = decomposition.stages[0].required
    total_target = decomposition.stages[_target_index(decomposition)].required
    budget = week_budgets = None
    budget_to_date = rate = None
    if whole_budget is not None and total_leads:
        # The budget follows the leads: a week's share of it is its share of the leads.
        budget = _money(Fraction(whole_budget) * leads / total_leads)
        budget_to_date = _money(Fraction(whole_budget) * leads_to_date / total_leads)
        week_budgets = [
            part
            for _, part in split_by_shares(
                budget, [(week.start, week.stages[lead_stage]) for week in weeks]
            )
        ]
        rate = _ratio(whole_budget, total_target)
    plan = MarketingPlan(
        leads=leads,
        target_leads=target,
        budget=budget,
        leads_to_date=leads_to_date,
        target_leads_to_date=target_to_date,
        budget_to_date=budget_to_date,
        cost_per_lead=_money(_ratio(whole_budget, total_leads)) if whole_budget else None,
        cost_per_target_lead=_money(rate),
        target_share=_share(_ratio(total_target, total_leads)),
        target_lead_rate=rate,
    )
    return plan, week_budgets or [None] * len(weeks)


def _figures(values: dict[str, Any]) -> dict[str, Any]:
    """A row's rates from its counts and spend."""
    leads, target, spend = values["leads"], values["target_leads"], values["spend"]
    return values | {
        "target_share": _share(_ratio(target, leads)),
        "cost_per_lead": _money(_ratio(spend, leads)),
        "cost_per_target_lead": _money(_ratio(spend, target)),
        "missed_call_share": _share(_ratio(values["missed_calls"], values["calls"])),
        "not_qualified": leads - target - values["non_target_leads"],
    }


COUNTS = ("leads", "target_leads", "non_target_leads", "calls", "missed_calls")


def _empty() -> dict[str, Any]:
    return dict.fromkeys(COUNTS, 0) | {"spend": ZERO}


def _add(into: dict[str, Any], row: MarketingDay) -> None:
    for name in COUNTS:
        into[name] += getattr(row, name)
    into["spend"] += row.spend


def _owed(total: Decimal | None, rows: list[dict[str, Any]]) -> None:
    """Each row's part of what marketing is owed, in proportion to its target leads, to the
    kopeck (the parts add up to the total)."""
    if total is None:
        for row in rows:
            row["owed"] = None
        return
    parts = split_by_shares(total, [(index, row["target_leads"]) for index, row in enumerate(rows)])
    by_index = {index: part for index, part in parts}
    for index, row in enumerate(rows):
        row["owed"] = by_index.get(index, ZERO) if row["target_leads"] else ZERO


def shown_weeks(decomposition: Decomposition, start: date, end: date) -> list[WeekPlan]:
    """The plan's weeks overlapping start..end (whole: a week's plan is not cut)."""
    return [week for week in decomposition.by_week if week.start <= end and week.end >= start]


def marketing_figures(
    *,
    decomposition: Decomposition,
    rows: Sequence[MarketingDay],
    start: date,
    end: date,
) -> MarketingFigures:
    """The page's figures over the plan's weeks overlapping start..end, from the stored rows
    of their days (`marketing_days` over `shown_weeks`) and the decomposition only (no
    query)."""
    weeks = shown_weeks(decomposition, start, end)
    week_of = {
        week.start + timedelta(days=n): week.start
        for week in weeks
        for n in range((week.end - week.start).days + 1)
    }
    rows = [row for row in rows if row.day in week_of]
    through = max((row.day for row in rows), default=None)
    computed_at = max((row.computed_at for row in rows), default=None)
    plan, week_budgets = _planned(decomposition, weeks, through)

    lead_stage = decomposition.stages[0].name
    target_stage = decomposition.stages[_target_index(decomposition)].name
    by_week = {week.start: _empty() for week in weeks}
    by_channel: dict[str, dict[str, Any]] = {}
    reasons: dict[str, int] = {}
    totals = _empty()
    for row in rows:
        _add(by_week[week_of[row.day]], row)
        _add(by_channel.setdefault(row.channel, _empty() | {"channel": row.channel}), row)
        _add(totals, row)
        for reason, count in row.reasons.items():
            reasons[reason] = reasons.get(reason, 0) + count

    totals = _figures(totals)
    owed = (
        _money(plan.target_lead_rate * totals["target_leads"])
        if plan.target_lead_rate is not None
        else None
    )
    totals["owed"] = owed
    # Spend beyond what the target leads earn (negative: they earn more than was spent).
    totals["overpaid"] = totals["spend"] - owed if owed is not None else None
    totals["underpaid"] = -totals["overpaid"] if owed is not None else None
    totals["budget_used"] = _share(_ratio(totals["spend"], plan.budget)) if plan.budget else None

    week_rows = []
    cumulative_budget, cumulative_spend = ZERO, ZERO
    for week, budget in zip(weeks, week_budgets, strict=True):
        values = _figures(by_week[week.start])
        cumulative_spend += values["spend"]
        if budget is not None:
            cumulative_budget += budget
        week_rows.append(
            values
            | {
                "week": week.start,
                "week_end": week.end,
                "planned_leads": week.stages[lead_stage],
                "planned_target_leads": week.stages[target_stage],
                "budget": budget,
                "cumulative_budget": cumulative_budget if budget is not None else None,
                "cumulative_spend": cumulative_spend,
            }
        )
    _owed(owed, week_rows)

    channel_rows = [
        _figures(values)
        for values in sorted(by_channel.values(), key=lambda v: (-v["leads"], v["channel"]))
        if any(values[name] for name in COUNTS) or values["spend"]
    ]
    _owed(owed, channel_rows)

    ranked = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    reason_rows = [
        {
            "reason": reason,
            "leads": count,
            "share": _share(_ratio(count, totals["non_target_leads"])),
        }
        for reason, count in ranked[:MAX_REASONS_SHOWN]
    ]
    other = totals["non_target_leads"] - sum(row["leads"] for row in reason_rows)
    if other > 0:
        reason_rows.append(
            {
                "reason": None,
                "leads": other,
                "share": _share(_ratio(other, totals["non_target_leads"])),
            }
        )
    return MarketingFigures(
        plan=plan,
        weeks=week_rows,
        channels=channel_rows,
        reasons=reason_rows,
        totals=totals,
        through=through,
        computed_at=computed_at,
    )


def plan_rows(plan: SalesPlan) -> QuerySet[MarketingDay]:
    """Every stored row of a plan (tests and the admin)."""
    return scoped(MarketingDay, plan.organization).filter(plan=plan)

"""Reads of plans for pages and the API: a constant number of queries whatever the number of
plans. A plan is decomposed from its stored inputs and the history stored with it (the engine
is pure and takes milliseconds); no read touches the actuals."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from funnel.models import Stage
from metrics.models import PerformanceSnapshot
from responsibility.models import Responsibility
from salesplan.access import plans_queryset, scoped
from salesplan.models import (
    Membership,
    Organization,
    PlanMember,
    PlanProduct,
    PlanStatus,
    PlanVersion,
    SalesPlan,
)
from salesplan.planning import (
    Decomposition,
    DiffItem,
    PlanInput,
    PlanInputError,
    WorkingCalendar,
    decompose,
    person_daily,
)
from salesplan.planning.whatif import diff_decompositions
from salesplan.plans.snapshot import plan_input, saved_plan_input
from salesplan.selectors import calendar_for


def with_inputs(plans: QuerySet[SalesPlan]) -> QuerySet[SalesPlan]:
    """Plans with everything their snapshot reads: four queries for any number of plans."""
    return plans.select_related(
        "organization", "funnel", "sales_team", "created_by"
    ).prefetch_related(
        Prefetch("funnel__stages", queryset=Stage.objects.order_by("position")),
        Prefetch("members", queryset=PlanMember.objects.select_related("membership__user")),
        Prefetch("product_mix", queryset=PlanProduct.objects.select_related("product")),
    )


def plan_list(*, organization: Organization) -> QuerySet[SalesPlan]:
    return with_inputs(scoped(plans_queryset(), organization))


def current_plans(*, organization: Organization, day: date) -> QuerySet[SalesPlan]:
    """Plans whose period contains the day (drafts included), active first, newest first."""
    return with_inputs(
        scoped(plans_queryset(), organization)
        .filter(period_start__lte=day, period_end__gte=day)
        .exclude(status=PlanStatus.CLOSED)
        .order_by("-status", "-period_start", "name")
    )


@dataclass(frozen=True)
class DecomposedPlan:
    """A plan with its decomposition, or with the errors that keep it from having one (e.g.
    its funnel was edited into an invalid state)."""

    plan: SalesPlan
    inputs: PlanInput | None
    decomposition: Decomposition | None
    error: PlanInputError | None = None


def decompose_plan(plan: SalesPlan, *, calendar: Any = None) -> DecomposedPlan:
    calendar = calendar or calendar_for(plan.organization)
    try:
        inputs = saved_plan_input(plan, calendar)
        return DecomposedPlan(plan, inputs, decompose(inputs))
    except PlanInputError as error:
        return DecomposedPlan(plan, None, None, error)


def decompose_plans(
    plans: Iterable[SalesPlan], *, organization: Organization
) -> list[DecomposedPlan]:
    """Each plan decomposed; the calendar is read once for all of them."""
    calendar = calendar_for(organization)
    return [decompose_plan(plan, calendar=calendar) for plan in plans]


def my_slices(*, membership: Membership, plans: Sequence[SalesPlan]) -> list[dict[str, Any]]:
    """The metrics a person holds in these plans, with their share of the planned value."""
    rows = (
        Responsibility.objects.filter(plan__in=list(plans), owner=membership)
        .select_related("metric", "plan")
        .order_by("plan_id", "metric_id")
    )
    slices = []
    for row in rows:
        metric = row.metric
        value = metric.planned_value
        # A share of a volume or of money is the person's part; rates and averages stay whole.
        if (
            value is not None
            and row.parent_id
            and metric.unit != "percent"
            and metric.kind not in ("average_check",)
        ):
            value = value * row.share
        slices.append(
            {
                "plan": row.plan,
                "name": metric.display_name,
                "unit": metric.unit,
                "category": metric.category,
                "planned_value": value,
                "share": row.share if row.parent_id else None,
                "direction": metric.direction,
            }
        )
    return slices


def numbers_for_today(
    *, membership: Membership, plans: Sequence[DecomposedPlan], day: date
) -> list[dict[str, Any]]:
    """A salesperson's numbers for the day in each plan they have a share of (their share of
    each stage, split over working days); none on a day off."""
    numbers = []
    for item in plans:
        if item.decomposition is None:
            continue
        if not any(m.membership_id == membership.pk for m in item.plan.members.all()):
            continue
        days = person_daily(item.decomposition, str(membership.pk))
        todays = next((d for d in days if d.date == day), None)
        if todays is None:
            continue
        key_stage = next(s.name for s in item.decomposition.stages if s.is_key_stage)
        numbers.append({"plan": item.plan, "stages": dict(todays.stages), "key_stage": key_stage})
    return numbers


def plan_versions(plan: SalesPlan) -> QuerySet[PlanVersion]:
    return (
        scoped(PlanVersion, plan.organization, path="plan__organization")
        .filter(plan=plan)
        .select_related("created_by")
        .order_by("-number")
    )


def version_of(plan: SalesPlan, number: Any) -> PlanVersion:
    """A version of a plan the caller may read (the plan is fetched through salesplan.access)."""
    try:
        return plan_versions(plan).get(number=int(number))
    except (PlanVersion.DoesNotExist, TypeError, ValueError) as error:
        raise Http404("No such version") from error


def decompose_version(version: PlanVersion, calendar: WorkingCalendar) -> Decomposition:
    """What a version's inputs gave (stages as they were then; the calendar as it is now)."""
    return decompose(plan_input(version.inputs, calendar=calendar))


def compare_versions(
    first: PlanVersion, second: PlanVersion, calendar: WorkingCalendar
) -> tuple[DiffItem, ...]:
    return diff_decompositions(
        decompose_version(first, calendar), decompose_version(second, calendar)
    )


def plan_performance(plan: SalesPlan, day: date | None = None) -> dict[str, Any]:
    """Plan vs fact of `plan` as the recompute job stored it (metrics.PerformanceSnapshot): on
    `day`, or on the latest day stored up to today; never recomputed here. One query for the
    day, one for its rows."""
    snapshots = PerformanceSnapshot.objects.filter(plan=plan)
    if day is None:
        day = (
            snapshots.filter(day__lte=timezone.localdate())
            .order_by("-day")
            .values_list("day", flat=True)
            .first()
        )
    rows = (
        snapshots.filter(day=day)
        .select_related("metric", "owner__user")
        .order_by("metric_id", "owner_id")
        if day is not None
        else []
    )
    return {
        "plan": plan.pk,
        "day": day,
        "computed_at": max((row.computed_at for row in rows), default=None),
        "metrics": [
            {
                "key": row.metric.key,
                "name": row.metric.display_name,
                "unit": row.metric.unit,
                "direction": row.metric.direction,
                "owner": (
                    {"id": row.owner_id, "name": row.owner.display_name} if row.owner else None
                ),
                "status": row.status,
                "plan_to_date": row.plan_to_date,
                "actual_to_date": row.actual_to_date,
                "forecast": row.forecast,
                "gap": row.gap,
                "gap_pct": row.gap_pct,
            }
            for row in rows
        ],
    }

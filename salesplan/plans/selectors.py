"""Reads of plans for pages and the API: a constant number of queries whatever the number of
plans. A plan is decomposed from its stored inputs and the history stored with it (the engine
is pure and takes milliseconds); no read touches the actuals."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from funnel.models import Stage
from metrics.models import EVERY_OWNER, GapShare, PerformanceSnapshot, PlanMetric, Slip
from responsibility.models import Responsibility
from salesplan.access import plans_queryset, scoped, visible
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
)
from salesplan.planning.attribution import split_by_shares
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


# The split metrics whose slice is a count of the person's own funnel: their part is their
# share of the plan's decomposition (whole numbers by the largest remainder), the definition
# every page uses for a salesperson's stages. A new client is a paid deal of a new client, so
# a hunter's new clients are their paid deals (the last stage), never a figure of their own.
PERSON_STAGE_KINDS = frozenset({"stage_volume", "new_clients"})


def _person_figure(item: DecomposedPlan, membership: Membership, metric: PlanMetric) -> Any:
    """The person's part of a stage-count metric from the decomposition, with their share
    of the plan; None when they have no part of the plan (the caller falls back)."""
    decomposition = item.decomposition
    if decomposition is None or metric.kind not in PERSON_STAGE_KINDS:
        return None
    person = next((p for p in decomposition.by_person if p.key == str(membership.pk)), None)
    if person is None:
        return None
    stages = decomposition.stages
    position = len(stages) - 1 if metric.kind == "new_clients" else metric.stage_position
    if position is None or not 0 <= position < len(stages):
        return None
    return Decimal(person.stages[stages[position].name]), person.share


def my_slices(*, membership: Membership, plans: Sequence[DecomposedPlan]) -> list[dict[str, Any]]:
    """The metrics a person holds in these plans, with their part of the planned value.

    A slice of a stage count (a stage's volume, new clients) is the person's share of the
    plan's decomposition, the same figure as their numbers for the day add up to, so "new
    clients" and the paid stage agree; another split volume or money is the planned value
    times the slice's share; rates and averages stay whole."""
    by_plan = {item.plan.pk: item for item in plans}
    rows = (
        Responsibility.objects.filter(plan__in=list(by_plan), owner=membership)
        .select_related("metric", "plan")
        .order_by("plan_id", "metric_id")
    )
    slices = []
    for row in rows:
        metric = row.metric
        value = metric.planned_value
        share = row.share if row.parent_id else None
        person = _person_figure(by_plan[row.plan_id], membership, metric) if row.parent_id else None
        if person is not None and value is not None:
            value, share = person
        elif (
            value is not None
            and row.parent_id
            and metric.unit != "percent"
            and metric.kind not in ("average_check",)
        ):
            value = value * row.share
        slices.append(
            {
                "plan": row.plan,
                "key": metric.key,
                "name": metric.display_name,
                "unit": metric.unit,
                "category": metric.category,
                "planned_value": value,
                "share": share,
                "direction": metric.direction,
            }
        )
    return slices


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
            # Every row of a day is written at once: the department's say which days there are.
            snapshots.filter(owner__isnull=True, day__lte=timezone.localdate())
            .order_by("-day")
            .values_list("day", flat=True)
            .first()
        )
    rows = (
        snapshots.filter(EVERY_OWNER, day=day)
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


def _latest_day(rows: QuerySet[Any]) -> date | None:
    return (
        rows.filter(day__lte=timezone.localdate())
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )


def _factor_name(factor: str, stage_names: Sequence[str]) -> str:
    """A factor of the revenue formula in the user's language."""
    if factor.startswith("stage_conversion:"):
        position = int(factor.split(":", 1)[1])
        if position + 1 < len(stage_names):
            return gettext("Conversion: %(from)s → %(to)s") % {
                "from": stage_names[position],
                "to": stage_names[position + 1],
            }
    names = {
        "leads": gettext("Leads"),
        "target_lead_share": gettext("Share of target leads"),
        "average_check": gettext("Average check"),
    }
    return names.get(factor, factor)


def gap_split(plan: SalesPlan, day: date) -> list[dict[str, Any]]:
    """The stored contributions of `day` (GapShare: each factor's, per owner at the top of the
    pie), each top owner's part split further among the people below them on the pie by their
    shares, to the kopeck. What the attribution API and the slips read; nothing recomputed
    from the actuals."""
    shares = list(
        GapShare.objects.filter(plan=plan, day=day)
        .select_related("metric", "owner__user")
        .order_by("id")
    )
    tops = {
        (row.metric_id, row.owner_id): row
        for row in Responsibility.objects.filter(plan=plan, parent__isnull=True)
    }
    children: dict[int, list[Responsibility]] = {}
    for child in (
        Responsibility.objects.filter(plan=plan, parent__isnull=False)
        .select_related("owner__user")
        .order_by("id")
    ):
        children.setdefault(child.parent_id, []).append(child)
    out = []
    for row in shares:
        top = tops.get((row.metric_id, row.owner_id))
        below = children.get(top.pk, []) if top else []
        owner = {"id": row.owner_id, "name": row.owner.display_name} if row.owner_id else None
        split = [
            {"id": child.owner_id, "name": child.owner.display_name, "contribution": part}
            for child, part in zip(
                below,
                [
                    part
                    for _, part in split_by_shares(row.contribution, [(c, c.share) for c in below])
                ],
                strict=False,
            )
        ]
        out.append(
            {
                "factor": row.factor,
                "metric_id": row.metric_id,
                "metric": row.metric.key if row.metric_id else None,
                "plan_value": row.plan_value,
                "actual_value": row.actual_value,
                "contribution": row.contribution,
                "owner": owner,
                "split": split,
            }
        )
    return out


def plan_attribution(plan: SalesPlan, day: date | None = None) -> dict[str, Any]:
    """The revenue gap to date on `day` (the latest stored day by default) and each factor's
    contribution with its owners, as the recompute job stored them."""
    if day is None:
        day = _latest_day(GapShare.objects.filter(plan=plan))
    stage_names = [stage.name for stage in plan.funnel.stages.order_by("position")]
    rows = gap_split(plan, day) if day is not None else []
    factors: dict[str, dict[str, Any]] = {}
    for row in rows:
        factor = factors.setdefault(
            row["factor"],
            {
                "factor": row["factor"],
                "name": _factor_name(row["factor"], stage_names),
                "metric": row["metric"],
                "plan_value": row["plan_value"],
                "actual_value": row["actual_value"],
                "contribution": Decimal(0),
                "owners": [],
            },
        )
        factor["contribution"] += row["contribution"]
        factor["owners"].append(
            {"owner": row["owner"], "contribution": row["contribution"], "split": row["split"]}
        )
    revenue = (
        PerformanceSnapshot.objects.filter(
            plan=plan, day=day, owner=None, metric__kind="revenue"
        ).first()
        if day is not None
        else None
    )
    gap = sum((row["contribution"] for row in rows), Decimal(0))
    revenue_gap = (
        round(revenue.actual_to_date - revenue.plan_to_date, 2)
        if revenue and revenue.plan_to_date is not None and revenue.actual_to_date is not None
        else None
    )
    return {
        "plan": plan.pk,
        "day": day,
        "revenue_plan_to_date": revenue.plan_to_date if revenue else None,
        "revenue_actual_to_date": revenue.actual_to_date if revenue else None,
        "gap": gap if rows else None,
        # The plan vs fact's revenue gap; it differs from `gap` while a stage of the funnel
        # has no deal in the period yet (the factors then explain no revenue: README).
        "revenue_gap": revenue_gap,
        "explains_revenue_gap": bool(rows) and revenue_gap is not None and gap == revenue_gap,
        "factors": list(factors.values()),
    }


def top_owners(plan: SalesPlan) -> dict[int, list[tuple[int, Decimal]]]:
    """Each metric's owners at the top of the pie with their shares, the largest share first
    (then the first assigned), by metric id: whose a department figure, a gap share and a
    department slip are. One query."""
    owners: dict[int, list[tuple[int, Decimal]]] = {}
    tops = (
        Responsibility.objects.filter(plan=plan, parent__isnull=True)
        .order_by("metric_id", "-share", "id")
        .values_list("metric_id", "owner_id", "share")
    )
    for metric_id, owner_id, share in tops:
        owners.setdefault(metric_id, []).append((owner_id, share))
    return owners


def department_owners(plan: SalesPlan) -> dict[str, list[dict[str, Any]]]:
    """Who owns each metric for the department: its slices at the top of the pie (several
    when the top is split, the largest share first), keyed by the metric's key. The stored
    department rows carry no owner (theirs are everyone's actuals); the plan vs fact page
    names the owner from here. One query."""
    owners: dict[str, list[dict[str, Any]]] = {}
    tops = (
        Responsibility.objects.filter(plan=plan, parent__isnull=True)
        .select_related("metric", "owner__user")
        .order_by("metric_id", "-share", "id")
    )
    for row in tops:
        owners.setdefault(row.metric.key, []).append(
            {"id": row.owner_id, "name": row.owner.display_name, "share": row.share}
        )
    return owners


def open_slips(plan: SalesPlan, *, membership: Membership) -> QuerySet[Slip]:
    """The plan's open slips the member may see, the newest first: salespeople and marketers
    see those of the metrics they hold (as with the metrics, and as the slips API). One
    query."""
    metrics = visible(membership, PlanMetric.objects.filter(plan=plan))
    return (
        Slip.objects.filter(plan=plan, closed_on__isnull=True, metric__in=metrics.values("pk"))
        .select_related("metric", "owner__user")
        .order_by("-since", "id")
    )

"""Writes of plan metrics: instantiated from the catalog and the plan's decomposition."""

from django.db import transaction

from metrics.catalog import CATALOG, plan_metrics
from metrics.models import PlanMetric
from salesplan.models import SalespersonKind, SalesPlan
from salesplan.plan_engine import plan_input_for
from salesplan.planning import decompose


@transaction.atomic
def plan_metrics_sync(*, plan: SalesPlan) -> list[PlanMetric]:
    """Upsert the plan's metrics by key with their planned values; drop those the plan no
    longer has (their responsibilities go with them). Idempotent."""
    plan_input = plan_input_for(plan)
    decomposition = decompose(plan_input)
    has_farmers = plan.members.filter(membership__salesperson_kind=SalespersonKind.FARMER).exists()
    wanted = plan_metrics(plan_input, decomposition, has_farmers=has_farmers)
    existing = {metric.key: metric for metric in PlanMetric.objects.filter(plan=plan)}
    kept: list[PlanMetric] = []
    for item in wanted:
        kind = CATALOG[item.kind]
        metric = existing.pop(item.key, None) or PlanMetric(plan=plan, key=item.key)
        metric.kind = item.kind
        metric.name = item.stage_name if item.kind == "stage_volume" else item.name
        metric.stage_position = item.stage_position
        metric.planned_value = item.planned_value
        metric.direction = kind.direction
        metric.unit = kind.unit
        metric.category = kind.category.value
        if metric.pk is None:
            metric.controllable = kind.controllable
            metric.weight = kind.weight
        metric.save()
        kept.append(metric)
    if existing:
        PlanMetric.objects.filter(pk__in=[m.pk for m in existing.values()]).delete()
    return kept


def metric_update(
    *, metric: PlanMetric, controllable: bool | None = None, weight: int | None = None
) -> PlanMetric:
    """The user's judgement on a metric: whether anyone in the team controls it, and how big
    its slice of the pie is. Kept when the plan's metrics are re-synced."""
    if controllable is not None:
        metric.controllable = controllable
    if weight is not None:
        metric.weight = weight
    metric.save(update_fields=["controllable", "weight"])
    return metric

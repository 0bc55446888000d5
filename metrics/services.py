"""Writes of plan metrics: a plan's metrics follow its decomposition (the plans layer computes
it once per save and passes the planned metrics in)."""

from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import get_language, gettext

from metrics.catalog import CATALOG, PlannedMetric
from metrics.models import PlanMetric
from salesplan.formatting import format_number
from salesplan.models import SalesPlan

# Columns the decomposition sets; `controllable` and `weight` are the user's and survive.
PLANNED_COLUMNS = (
    "kind",
    "name",
    "stage_position",
    "planned_value",
    "direction",
    "unit",
    "category",
)


def _column_bound() -> Decimal:
    field = PlanMetric._meta.get_field("planned_value")
    return Decimal(10) ** (field.max_digits - field.decimal_places)


# The largest planned value the column stores (numeric(18, 6): under a trillion).
MAX_PLANNED_VALUE = _column_bound()


def _number(value: Decimal) -> str:
    return format_number(value, get_language() or "ru", 0) if value.is_finite() else str(value)


def check_storable(planned: Sequence[PlannedMetric]) -> None:
    """Raise a ValidationError naming the first metric too large to store (a revenue target of
    trillions, millions of units): a plan whose figures cannot be kept is refused before
    anything is written, with a message saying which figure and what to lower."""
    for item in planned:
        value = item.planned_value
        if value is None or (value.is_finite() and abs(value) < MAX_PLANNED_VALUE):
            continue
        label = gettext(CATALOG[item.kind].label)
        if item.stage_name:
            label = f"{label}: {item.stage_name}"
        raise ValidationError(
            gettext(
                "The plan's %(metric)s comes to %(value)s, too large to store (under "
                "%(limit)s). Lower the revenue target, the units or the costs."
            )
            % {"metric": label, "value": _number(value), "limit": _number(MAX_PLANNED_VALUE)}
        )


def _apply(metric: PlanMetric, item: PlannedMetric) -> None:
    kind = CATALOG[item.kind]
    metric.kind = item.kind
    metric.name = item.stage_name if item.kind == "stage_volume" else item.name
    metric.stage_position = item.stage_position
    metric.planned_value = item.planned_value
    metric.direction = kind.direction
    metric.unit = kind.unit
    metric.category = kind.category.value


@transaction.atomic
def plan_metrics_sync(*, plan: SalesPlan, planned: Sequence[PlannedMetric]) -> None:
    """Upsert the plan's metrics by key with their planned values and drop those the plan no
    longer has (their responsibilities go with them). Idempotent, and a bounded number of
    queries whatever the number of metrics: one read, one insert, one update, one delete (and
    Django's reads of the pie slices of the metrics it deletes)."""
    existing = {metric.key: metric for metric in PlanMetric.objects.filter(plan=plan)}
    new: list[PlanMetric] = []
    changed: list[PlanMetric] = []
    for item in planned:
        metric = existing.pop(item.key, None)
        if metric is None:
            metric = PlanMetric(plan=plan, key=item.key)
            kind = CATALOG[item.kind]
            metric.controllable = kind.controllable
            metric.weight = kind.weight
            _apply(metric, item)
            new.append(metric)
            continue
        before = tuple(getattr(metric, column) for column in PLANNED_COLUMNS)
        _apply(metric, item)
        if tuple(getattr(metric, column) for column in PLANNED_COLUMNS) != before:
            changed.append(metric)
    if new:
        PlanMetric.objects.bulk_create(new)
    if changed:
        PlanMetric.objects.bulk_update(changed, PLANNED_COLUMNS)
    if existing:
        PlanMetric.objects.filter(pk__in=[m.pk for m in existing.values()]).delete()


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

"""The metric catalog and a plan's metrics, derived from its decomposition. Pure Python.

A metric is a named number with a direction, a unit and a category (DOMAIN section 2); only
controllable metrics belong on the responsibility pie (DOMAIN idea 3).
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from salesplan.planning import Decomposition, PlanInput
from salesplan.planning.i18n import gettext_noop

Direction = Literal["higher", "lower"]
Unit = Literal["count", "percent", "money"]


class Category(StrEnum):
    MARKETING = "marketing"
    SALES = "sales"
    MANAGEMENT = "management"


@dataclass(frozen=True, slots=True)
class MetricKind:
    code: str
    label: str  # English, marked for translation
    direction: Direction
    unit: Unit
    category: Category
    controllable: bool = True
    weight: int = 1  # size of its slice on the pie
    per_stage: bool = False
    for_salesperson_kind: str = ""  # "hunter" / "farmer": whose slice it naturally is


KINDS: tuple[MetricKind, ...] = (
    MetricKind(
        "stage_volume",
        gettext_noop("Stage volume"),
        "higher",
        "count",
        Category.SALES,
        per_stage=True,
    ),
    MetricKind(
        "stage_conversion",
        gettext_noop("Stage conversion"),
        "higher",
        "percent",
        Category.SALES,
        weight=2,
        per_stage=True,
    ),
    MetricKind(
        "revenue", gettext_noop("Revenue"), "higher", "money", Category.MANAGEMENT, weight=3
    ),
    MetricKind(
        "gross_margin",
        gettext_noop("Gross margin"),
        "higher",
        "money",
        Category.MANAGEMENT,
        weight=2,
    ),
    MetricKind(
        "average_check", gettext_noop("Average check"), "higher", "money", Category.SALES, weight=2
    ),
    MetricKind("leads", gettext_noop("Leads"), "higher", "count", Category.MARKETING, weight=2),
    MetricKind(
        "target_leads",
        gettext_noop("Target leads"),
        "higher",
        "count",
        Category.MARKETING,
        weight=2,
    ),
    MetricKind(
        "target_lead_share",
        gettext_noop("Share of target leads"),
        "higher",
        "percent",
        Category.MARKETING,
        weight=2,
    ),
    MetricKind(
        "cost_per_lead", gettext_noop("Cost per lead"), "lower", "money", Category.MARKETING
    ),
    MetricKind(
        "cost_per_target_lead",
        gettext_noop("Cost per target lead"),
        "lower",
        "money",
        Category.MARKETING,
    ),
    MetricKind(
        "marketing_spend", gettext_noop("Marketing spend"), "lower", "money", Category.MARKETING
    ),
    MetricKind(
        "new_clients",
        gettext_noop("New clients"),
        "higher",
        "count",
        Category.SALES,
        for_salesperson_kind="hunter",
    ),
    MetricKind(
        "existing_client_revenue",
        gettext_noop("Revenue from existing clients"),
        "higher",
        "money",
        Category.SALES,
        weight=2,
        for_salesperson_kind="farmer",
    ),
    MetricKind(
        "missed_call_rate", gettext_noop("Missed-call rate"), "lower", "percent", Category.SALES
    ),
    MetricKind("refusal_rate", gettext_noop("Refusal rate"), "lower", "percent", Category.SALES),
    MetricKind("overdue_tasks", gettext_noop("Overdue tasks"), "lower", "count", Category.SALES),
    # CRM discipline (DOMAIN idea 8): every lead has a next task, and the task states a goal.
    MetricKind(
        "leads_without_next_task",
        gettext_noop("Leads without a next task"),
        "lower",
        "count",
        Category.SALES,
    ),
    MetricKind(
        "tasks_without_goal", gettext_noop("Tasks without a goal"), "lower", "count", Category.SALES
    ),
)
CATALOG: dict[str, MetricKind] = {kind.code: kind for kind in KINDS}


@dataclass(frozen=True, slots=True)
class PlannedMetric:
    """One metric of one plan with its planned value (None: tracked, no target yet)."""

    key: str
    kind: str
    name: str
    planned_value: Decimal | None
    stage_position: int | None = None
    stage_name: str = ""
    next_stage_name: str = ""

    @property
    def meta(self) -> MetricKind:
        return CATALOG[self.kind]


def plan_metrics(
    plan: PlanInput, decomposition: Decomposition, *, has_farmers: bool = False
) -> list[PlannedMetric]:
    """A plan's metrics with their planned values from the decomposition.

    The first stage's volume is "leads" and the target-lead stage's is "target leads"; the
    conversion from the first stage to the target-lead stage is the "share of target leads".
    Those are the marketer's; every other stage volume and conversion is a sales metric.
    """
    stages = decomposition.stages
    target_index = next((i for i, s in enumerate(stages) if s.is_target_lead), 1)
    metrics: list[PlannedMetric] = []
    leads = Decimal(stages[0].required)
    target_leads = Decimal(stages[target_index].required)
    metrics.append(PlannedMetric("leads", "leads", "Leads", leads, 0, stages[0].name))
    metrics.append(
        PlannedMetric(
            "target_leads",
            "target_leads",
            "Target leads",
            target_leads,
            target_index,
            stages[target_index].name,
        )
    )
    if target_index == 1:
        share = stages[0].conversion
    else:
        share = (target_leads / leads).quantize(Decimal("0.000001")) if leads else None
    metrics.append(
        PlannedMetric("target_lead_share", "target_lead_share", "Share of target leads", share)
    )
    if plan.cost_per_lead is not None:
        metrics.append(
            PlannedMetric("cost_per_lead", "cost_per_lead", "Cost per lead", plan.cost_per_lead)
        )
    budget = decomposition.marketing_budget
    if budget is not None:
        per_target = (
            plan.cost_per_target_lead
            if plan.cost_per_target_lead is not None
            else (budget / target_leads).quantize(Decimal("0.01"))
            if target_leads
            else None
        )
        metrics.append(
            PlannedMetric(
                "cost_per_target_lead", "cost_per_target_lead", "Cost per target lead", per_target
            )
        )
        metrics.append(
            PlannedMetric("marketing_spend", "marketing_spend", "Marketing spend", budget)
        )
    for position, stage in enumerate(stages):
        if position > target_index:
            metrics.append(
                PlannedMetric(
                    f"stage_volume:{position}",
                    "stage_volume",
                    stage.name,
                    Decimal(stage.required),
                    position,
                    stage.name,
                )
            )
        if position >= target_index and stage.conversion is not None and position + 1 < len(stages):
            following = stages[position + 1]
            metrics.append(
                PlannedMetric(
                    f"stage_conversion:{position}",
                    "stage_conversion",
                    f"{stage.name} → {following.name}",
                    stage.conversion,
                    position,
                    stage.name,
                    following.name,
                )
            )
    metrics.append(PlannedMetric("revenue", "revenue", "Revenue", plan.revenue_target))
    if plan.gross_margin_target is not None or decomposition.gross_margin is not None:
        metrics.append(
            PlannedMetric(
                "gross_margin",
                "gross_margin",
                "Gross margin",
                plan.gross_margin_target or decomposition.gross_margin,
            )
        )
    metrics.append(
        PlannedMetric(
            "average_check", "average_check", "Average check", decomposition.average_check
        )
    )
    metrics.append(
        PlannedMetric("new_clients", "new_clients", "New clients", Decimal(decomposition.deals))
    )
    if has_farmers:
        metrics.append(
            PlannedMetric(
                "existing_client_revenue",
                "existing_client_revenue",
                "Revenue from existing clients",
                None,
            )
        )
    metrics.append(PlannedMetric("missed_call_rate", "missed_call_rate", "Missed-call rate", None))
    metrics.append(PlannedMetric("refusal_rate", "refusal_rate", "Refusal rate", None))
    metrics.append(PlannedMetric("overdue_tasks", "overdue_tasks", "Overdue tasks", Decimal(0)))
    metrics.append(
        PlannedMetric(
            "leads_without_next_task",
            "leads_without_next_task",
            "Leads without a next task",
            Decimal(0),
        )
    )
    metrics.append(
        PlannedMetric(
            "tasks_without_goal", "tasks_without_goal", "Tasks without a goal", Decimal(0)
        )
    )
    return metrics

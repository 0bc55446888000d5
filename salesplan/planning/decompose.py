"""The façade: a PlanInput in, a Decomposition out (DOMAIN 1.1 "plan from the bottom")."""

from dataclasses import replace

from salesplan.planning.funnel import (
    marketing_budget,
    plan_sales,
    required_volumes,
    target_lead_index,
)
from salesplan.planning.periods import group_by_week, month_slices, split_over_time, split_to_people
from salesplan.planning.realism import assess_realism
from salesplan.planning.types import Decomposition, PlanInput, StageResult
from salesplan.planning.validation import validate_plan


def decompose(plan: PlanInput) -> Decomposition:
    """Required volume per stage, month, ISO week, day and person, the marketing budget and a
    realism verdict. Raises PlanInputError (errors keyed by field) for an invalid plan."""
    validate_plan(plan)
    sales = plan_sales(plan)
    volumes = required_volumes(sales.deals, plan.stages)
    target_index = target_lead_index(plan.stages)
    stages = tuple(
        StageResult(stage.name, volume, stage.conversion, stage.is_key_stage, index == target_index)
        for index, (stage, volume) in enumerate(zip(plan.stages, volumes, strict=True))
    )
    budget, budget_warnings = marketing_budget(plan, volumes)
    totals = {stage.name: stage.required for stage in stages}
    slices = month_slices(plan.period_start, plan.period_end, plan.calendar)
    by_day, by_month = split_over_time(totals, slices, plan.seasonality)
    draft = Decomposition(
        period_start=plan.period_start,
        period_end=plan.period_end,
        deals=sales.deals,
        average_check=sales.average_check,
        planned_revenue=sales.planned_revenue,
        stages=stages,
        marketing_budget=budget,
        gross_margin=sales.gross_margin,
        by_day=by_day,
        by_week=group_by_week(by_day, list(totals)),
        by_month=by_month,
        by_person=split_to_people(totals, plan.team),
        working_days=sum(month.working_days for month in by_month),
        verdict="realistic",
        reasons=(),
        warnings=sales.warnings + budget_warnings,
    )
    assessment = assess_realism(plan, draft)
    return replace(
        draft,
        verdict=assessment.verdict,
        reasons=assessment.reasons,
        warnings=draft.warnings + assessment.warnings,
    )

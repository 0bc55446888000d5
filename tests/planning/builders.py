"""Plans for the tests; the worked example of DOMAIN 1.1 is the default."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from salesplan.planning import PlanInput, StageInput, TeamMember

D = Decimal

WORKED_EXAMPLE_STAGES = (
    StageInput("Lead", D("0.6")),
    StageInput("Target lead", D("0.25"), is_target_lead=True),
    StageInput("Meeting scheduled", D("0.8")),
    StageInput("Meeting held", D("0.4"), is_key_stage=True),
    StageInput("Paid", None),
)


def worked_example(**overrides: Any) -> PlanInput:
    """Revenue 1,000,000, average check 50,000, December 2026, 500 per lead."""
    plan = PlanInput(
        revenue_target=D("1000000"),
        average_check=D("50000"),
        period_start=date(2026, 12, 1),
        period_end=date(2026, 12, 31),
        stages=WORKED_EXAMPLE_STAGES,
        cost_per_lead=D("500"),
    )
    return replace(plan, **overrides)


def team_of(*shares: str) -> tuple[TeamMember, ...]:
    return tuple(
        TeamMember(f"p{index}", f"Person {index}", D(share)) for index, share in enumerate(shares)
    )


def with_stage(plan: PlanInput, index: int, **changes: Any) -> PlanInput:
    stages = list(plan.stages)
    stages[index] = replace(stages[index], **changes)
    return replace(plan, stages=tuple(stages))

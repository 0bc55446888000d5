"""Pure plan maths: decomposition, calendar, splits, realism, what-if. Imports no Django."""

from salesplan.planning.calendar import RUSSIAN_CALENDAR, WorkingCalendar
from salesplan.planning.decompose import decompose
from salesplan.planning.i18n import gettext_noop
from salesplan.planning.periods import (
    person_daily,
    plan_to_date,
    plan_to_date_fraction,
    working_days_elapsed,
)
from salesplan.planning.realism import Assessment, assess_realism, verdict_for
from salesplan.planning.splits import equal_split, largest_remainder
from salesplan.planning.types import (
    DayPlan,
    Decomposition,
    Finding,
    History,
    MonthPlan,
    MonthStat,
    Norms,
    PersonPlan,
    PlanInput,
    ProductMixItem,
    Severity,
    StageInput,
    StageResult,
    TeamMember,
    Verdict,
    WeekPlan,
)
from salesplan.planning.validation import PlanInputError, stage_errors, validate_plan
from salesplan.planning.whatif import (
    Changes,
    DiffItem,
    NewMember,
    WhatIfResult,
    apply_changes,
    equal_shares,
    what_if,
)

__all__ = [
    "RUSSIAN_CALENDAR",
    "Assessment",
    "Changes",
    "DayPlan",
    "Decomposition",
    "DiffItem",
    "Finding",
    "History",
    "MonthPlan",
    "MonthStat",
    "NewMember",
    "Norms",
    "PersonPlan",
    "PlanInput",
    "PlanInputError",
    "ProductMixItem",
    "Severity",
    "StageInput",
    "StageResult",
    "TeamMember",
    "Verdict",
    "WeekPlan",
    "WhatIfResult",
    "WorkingCalendar",
    "apply_changes",
    "assess_realism",
    "decompose",
    "equal_shares",
    "equal_split",
    "gettext_noop",
    "largest_remainder",
    "person_daily",
    "plan_to_date",
    "plan_to_date_fraction",
    "stage_errors",
    "validate_plan",
    "verdict_for",
    "what_if",
    "working_days_elapsed",
]

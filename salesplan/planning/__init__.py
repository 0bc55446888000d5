"""Pure plan maths: decomposition, calendar, splits, realism, what-if, plan vs fact (tracking,
gap attribution). Imports no Django."""

from salesplan.planning.attribution import Attribution, attribute_gap, logarithmic_mean
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
from salesplan.planning.tracking import (
    DEFAULT_TOLERANCE,
    SHAPE_BY_METRIC,
    MetricShape,
    MetricTracking,
    TrackingStatus,
    forecast_at_period_end,
    track_metric,
)
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
    "DEFAULT_TOLERANCE",
    "RUSSIAN_CALENDAR",
    "SHAPE_BY_METRIC",
    "Assessment",
    "Attribution",
    "Changes",
    "DayPlan",
    "Decomposition",
    "DiffItem",
    "Finding",
    "History",
    "MetricShape",
    "MetricTracking",
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
    "TrackingStatus",
    "Verdict",
    "WeekPlan",
    "WhatIfResult",
    "WorkingCalendar",
    "apply_changes",
    "assess_realism",
    "attribute_gap",
    "decompose",
    "equal_shares",
    "equal_split",
    "forecast_at_period_end",
    "gettext_noop",
    "largest_remainder",
    "logarithmic_mean",
    "person_daily",
    "plan_to_date",
    "plan_to_date_fraction",
    "stage_errors",
    "track_metric",
    "validate_plan",
    "verdict_for",
    "what_if",
    "working_days_elapsed",
]

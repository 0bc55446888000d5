"""Realism against capacity norms: calls and key-stage meetings per salesperson per day."""

from collections.abc import Sequence
from fractions import Fraction

from salesplan.planning.figures import one_decimal
from salesplan.planning.i18n import gettext_noop
from salesplan.planning.types import Decomposition, Finding, MonthPlan, PlanInput

# A salesperson loaded to this share of a capacity norm (or more, up to 100 %) is "stretched";
# above 100 % is "unrealistic".
CAPACITY_STRETCHED_SHARE = Fraction(9, 10)


def check_capacity(
    plan: PlanInput,
    decomposition: Decomposition,
    reasons: list[Finding],
    warnings: list[Finding],
) -> None:
    norms = plan.norms
    assert norms is not None
    if not decomposition.by_person:
        warnings.append(
            Finding(
                "capacity_unchecked_no_team",
                "warning",
                gettext_noop(
                    "The plan has no team, so capacity per salesperson cannot be checked."
                ),
                {},
            )
        )
        return
    # The person with the largest share carries the most; the busiest month binds.
    busiest = max(decomposition.by_person, key=lambda person: person.share)
    share = Fraction(busiest.share)
    leads = decomposition.stages[0].name
    key_stage = next(stage.name for stage in decomposition.stages if stage.is_key_stage)
    if norms.calls_per_lead is not None and norms.max_calls_per_day is not None:
        calls_per_lead = Fraction(norms.calls_per_lead)
        load, month = _peak_daily(decomposition.by_month, leads, share * calls_per_lead)
        reasons.append(
            _capacity_finding("calls", busiest.name, load, month, norms.max_calls_per_day)
        )
    if norms.max_meetings_per_day is not None:
        load, month = _peak_daily(decomposition.by_month, key_stage, share)
        reasons.append(
            _capacity_finding("meetings", busiest.name, load, month, norms.max_meetings_per_day)
        )


def _peak_daily(
    by_month: Sequence[MonthPlan], stage: str, factor: Fraction
) -> tuple[Fraction, str]:
    """The highest volume per working day over the months, times ``factor``."""
    peak, label = Fraction(0), by_month[0].month
    for month in by_month:
        if month.working_days:
            load = factor * month.stages[stage] / month.working_days
            if load > peak:
                peak, label = load, month.month
    return peak, label


_CAPACITY_MESSAGES = {
    ("calls", "error"): gettext_noop(
        "{person} would need {load} calls per working day in {month}; the norm is at most {limit}."
    ),
    ("calls", "warning"): gettext_noop(
        "{person} would need {load} calls per working day in {month}, close to the norm of {limit}."
    ),
    ("calls", "info"): gettext_noop(
        "{person} would need {load} calls per working day at most, within the norm of {limit}."
    ),
    ("meetings", "error"): gettext_noop(
        "{person} would need {load} key-stage meetings per working day in {month}; the norm is at "
        "most {limit}."
    ),
    ("meetings", "warning"): gettext_noop(
        "{person} would need {load} key-stage meetings per working day in {month}, close to the "
        "norm of {limit}."
    ),
    ("meetings", "info"): gettext_noop(
        "{person} would need {load} key-stage meetings per working day at most, within the norm "
        "of {limit}."
    ),
}
_CAPACITY_CODES = {
    "error": "{}_over_capacity",
    "warning": "{}_near_capacity",
    "info": "{}_within_capacity",
}


def _capacity_finding(kind: str, person: str, load: Fraction, month: str, limit: int) -> Finding:
    if load > limit:
        severity = "error"
    elif load >= limit * CAPACITY_STRETCHED_SHARE:
        severity = "warning"
    else:
        severity = "info"
    return Finding(
        _CAPACITY_CODES[severity].format(kind),
        severity,  # type: ignore[arg-type]
        _CAPACITY_MESSAGES[(kind, severity)],
        {"person": person, "load": one_decimal(load), "month": month, "limit": limit},
    )

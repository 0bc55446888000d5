"""Realism against history: volumes, conversions and revenue vs the team's past months."""

from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

from salesplan.planning.calendar import month_end
from salesplan.planning.figures import median, one_decimal, whole_up
from salesplan.planning.i18n import gettext_noop
from salesplan.planning.types import Decomposition, Finding, MonthPlan, MonthStat, PlanInput

# A planned conversion this many times the historical median (of the same stage pair) is
# "stretched": teams do improve, but 20 % better in relative terms within one plan is a push.
CONVERSION_STRETCHED_RATIO = Fraction(6, 5)
# ... and this many times the median is "unrealistic": 50 % better than the team's usual month.
CONVERSION_UNREALISTIC_RATIO = Fraction(3, 2)


def check_history(
    plan: PlanInput,
    decomposition: Decomposition,
    months: Sequence[MonthStat],
    reasons: list[Finding],
    warnings: list[Finding],
) -> None:
    """A stage's busiest planned month above the median past month is stretched, above the
    best month unrealistic; the same for revenue; conversions by the ratios above."""
    before = len(reasons)
    scales = _month_scales(plan, decomposition.by_month)
    for stage in decomposition.stages:
        history = [month.stages[stage.name] for month in months if stage.name in month.stages]
        if not history:
            warnings.append(
                Finding(
                    "history_missing_stage",
                    "warning",
                    gettext_noop("The history has no figures for the stage {stage}."),
                    {"stage": stage.name},
                )
            )
            continue
        planned, label = _peak_rate(
            decomposition.by_month, scales, lambda month, name=stage.name: month.stages[name]
        )
        params: dict[str, str | int] = {
            "stage": stage.name,
            "month": label,
            "planned": whole_up(planned),
            "best": max(history),
            "median": one_decimal(median(history)),
        }
        if planned > max(history):
            reasons.append(
                Finding(
                    "stage_above_history_best",
                    "error",
                    gettext_noop(
                        "{stage}: {planned} a month needed in {month}, more than the best month "
                        "on record ({best})."
                    ),
                    params,
                )
            )
        elif planned > median(history):
            reasons.append(
                Finding(
                    "stage_above_history_median",
                    "warning",
                    gettext_noop(
                        "{stage}: {planned} a month needed in {month}, more than a typical month "
                        "({median}); the best month had {best}."
                    ),
                    params,
                )
            )
    _check_history_conversions(decomposition, months, reasons)
    _check_history_revenue(decomposition, scales, months, reasons)
    if len(reasons) == before:
        reasons.append(
            Finding(
                "history_checked",
                "info",
                gettext_noop("Volumes and conversions are within {months} months of history."),
                {"months": len(months)},
            )
        )


def _check_history_conversions(
    decomposition: Decomposition, months: Sequence[MonthStat], reasons: list[Finding]
) -> None:
    stages = decomposition.stages
    for upper, lower in pairwise(stages):
        history = [
            Fraction(month.stages[lower.name], month.stages[upper.name])
            for month in months
            if month.stages.get(upper.name) and lower.name in month.stages
        ]
        if not history or upper.conversion is None:
            continue
        usual = median(history)
        planned = Fraction(upper.conversion)
        params: dict[str, str | int] = {
            "stage": upper.name,
            "next_stage": lower.name,
            "planned": one_decimal(planned * 100),
            "median": one_decimal(usual * 100),
        }
        if planned > usual * CONVERSION_UNREALISTIC_RATIO:
            code, severity = "conversion_far_above_history", "error"
            message = gettext_noop(
                "Conversion {stage} → {next_stage} is planned at {planned} %, far above the usual "
                "{median} %."
            )
        elif planned > usual * CONVERSION_STRETCHED_RATIO:
            code, severity = "conversion_above_history", "warning"
            message = gettext_noop(
                "Conversion {stage} → {next_stage} is planned at {planned} %, above the usual "
                "{median} %."
            )
        else:
            continue
        reasons.append(Finding(code, severity, message, params))  # type: ignore[arg-type]


def _check_history_revenue(
    decomposition: Decomposition,
    scales: Sequence[Fraction | None],
    months: Sequence[MonthStat],
    reasons: list[Finding],
) -> None:
    history = [month.revenue for month in months]
    deals_stage = decomposition.stages[-1].name
    planned, label = _peak_rate(
        decomposition.by_month,
        scales,
        lambda month: month.stages[deals_stage] * decomposition.average_check,
    )
    best, usual = max(history), median([Fraction(value) for value in history])
    params: dict[str, str | int] = {
        "month": label,
        "planned": whole_up(planned),
        "best": whole_up(Fraction(best)),
        "median": whole_up(usual),
    }
    if planned > best:
        reasons.append(
            Finding(
                "revenue_above_history_best",
                "error",
                gettext_noop(
                    "Revenue of {planned} a month needed in {month}, more than the best month on "
                    "record ({best})."
                ),
                params,
            )
        )
    elif planned > usual:
        reasons.append(
            Finding(
                "revenue_above_history_median",
                "warning",
                gettext_noop(
                    "Revenue of {planned} a month needed in {month}, more than a typical month "
                    "({median})."
                ),
                params,
            )
        )


def _month_scales(plan: PlanInput, by_month: Sequence[MonthPlan]) -> list[Fraction | None]:
    """Per planned month: its working days ÷ those inside the period, so that a half month's
    volume, scaled up, compares with full historical months (None: no working day inside)."""
    scales: list[Fraction | None] = []
    for month in by_month:
        first = month.start.replace(day=1)
        full = len(plan.calendar.working_days(first, month_end(first)))
        scales.append(Fraction(full, month.working_days) if month.working_days else None)
    return scales


def _peak_rate(
    by_month: Sequence[MonthPlan],
    scales: Sequence[Fraction | None],
    volume: Callable[[MonthPlan], Decimal | int],
) -> tuple[Fraction, str]:
    """The busiest month's volume scaled to a whole month, and that month's label."""
    peak, label = Fraction(0), by_month[0].month
    for month, scale in zip(by_month, scales, strict=True):
        if scale is not None and (rate := Fraction(volume(month)) * scale) > peak:
            peak, label = rate, month.month
    return peak, label

"""Checks of a PlanInput, reported per field so a form or an API can show them in place."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from salesplan.planning.calendar import month_end, month_starts
from salesplan.planning.i18n import gettext_noop
from salesplan.planning.limits import (
    MAX_HISTORY_MONTHS,
    MAX_PERIOD_MONTHS,
    MAX_PRODUCTS,
    MAX_SEASONALITY_KEYS,
    MAX_STAGES,
    MAX_TEAM,
    period_months,
    period_too_long,
    too_many,
)
from salesplan.planning.types import PlanInput, StageInput

__all__ = ["MAX_PERIOD_MONTHS", "PlanInputError", "stage_errors", "validate_plan"]


class PlanInputError(ValueError):
    """The plan cannot be decomposed; ``errors`` maps a field name to messages for it.

    Field names follow the input: "revenue_target", "stages", "stages[2].conversion",
    "team[0].share", "seasonality[2026-03]". Messages are English, marked for translation.
    """

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        summary = "; ".join(f"{key}: {' '.join(messages)}" for key, messages in errors.items())
        super().__init__(summary)


def validate_plan(plan: PlanInput) -> None:
    """Raise PlanInputError listing everything wrong with ``plan``; return if it is fine.
    The sizes come first: a plan over a limit is refused before any other check runs."""
    errors: dict[str, list[str]] = defaultdict(list)
    _check_sizes(errors, plan)
    if errors:
        raise PlanInputError(dict(errors))
    _check_money(errors, plan)
    _check_period(errors, plan)
    _check_stages(errors, plan)
    _check_product_mix(errors, plan)
    _check_team(errors, plan)
    _check_norms(errors, plan)
    _check_seasonality(errors, plan)
    _check_history(errors, plan)
    if errors:
        raise PlanInputError(dict(errors))


def _check_sizes(errors: dict[str, list[str]], plan: PlanInput) -> None:
    """The limits of `salesplan.planning.limits`: each costs a len() or a subtraction."""
    start, end = plan.period_start, plan.period_end
    if end >= start:
        problem = period_too_long(period_months(start.year, start.month, end.year, end.month))
        if problem:
            errors["period_end"].append(problem)
    counted = (
        ("stages", plan.stages, MAX_STAGES),
        ("team", plan.team, MAX_TEAM),
        ("product_mix", plan.product_mix, MAX_PRODUCTS),
        ("seasonality", plan.seasonality or (), MAX_SEASONALITY_KEYS),
        ("history", plan.history.months if plan.history else (), MAX_HISTORY_MONTHS),
    )
    for key, items, limit in counted:
        if problem := too_many(len(items), limit):
            errors[key].append(problem)


def _number_problem(value: object) -> str | None:
    """Why ``value`` is not an exact, finite number, or None if it is one."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        return gettext_noop("Enter an exact decimal number.")
    if isinstance(value, Decimal) and not value.is_finite():
        return gettext_noop("Enter a finite number.")
    return None


def _check_positive(errors: dict[str, list[str]], key: str, value: object) -> None:
    problem = _number_problem(value)
    if problem:
        errors[key].append(problem)
    elif value <= 0:  # type: ignore[operator]
        errors[key].append(gettext_noop("Must be greater than zero."))


def _check_not_negative(errors: dict[str, list[str]], key: str, value: object) -> None:
    problem = _number_problem(value)
    if problem:
        errors[key].append(problem)
    elif value < 0:  # type: ignore[operator]
        errors[key].append(gettext_noop("Must not be negative."))


def _check_money(errors: dict[str, list[str]], plan: PlanInput) -> None:
    _check_positive(errors, "revenue_target", plan.revenue_target)
    if plan.average_check is not None:
        _check_positive(errors, "average_check", plan.average_check)
    elif not plan.product_mix:
        errors["average_check"].append(
            gettext_noop("Enter the average check, or a product mix to derive it from.")
        )
    for key in ("cost_per_lead", "cost_per_target_lead", "gross_margin_target"):
        value = getattr(plan, key)
        if value is not None:
            _check_not_negative(errors, key, value)


def _check_period(errors: dict[str, list[str]], plan: PlanInput) -> None:
    calendar = plan.calendar
    if calendar.extra_working_days & calendar.extra_days_off:
        errors["calendar"].append(
            gettext_noop("A day cannot be both an extra working day and an extra day off.")
        )
    start, end = plan.period_start, plan.period_end
    if end < start:
        errors["period_end"].append(gettext_noop("The period cannot end before it starts."))
    elif not calendar.working_days(start, end):  # the length was checked first (_check_sizes)
        errors["period_end"].append(
            gettext_noop("The period has no working day; extend it or check the calendar.")
        )


def _check_stages(errors: dict[str, list[str]], plan: PlanInput) -> None:
    stages = plan.stages
    if problem := too_many(len(stages), MAX_STAGES):  # nothing else is read of them
        errors["stages"].append(problem)
        return
    if len(stages) < 2:
        errors["stages"].append(gettext_noop("A funnel needs at least two stages."))
    seen: set[str] = set()
    last = len(stages) - 1
    for index, stage in enumerate(stages):
        prefix = f"stages[{index}]"
        if not stage.name.strip():
            errors[f"{prefix}.name"].append(gettext_noop("Give the stage a name."))
        elif stage.name in seen:
            errors[f"{prefix}.name"].append(gettext_noop("Another stage already has this name."))
        seen.add(stage.name)
        conversion = stage.conversion
        if index == last:
            if conversion is not None:
                errors[f"{prefix}.conversion"].append(
                    gettext_noop("The last stage has no next stage; leave its conversion empty.")
                )
        elif conversion is None:
            errors[f"{prefix}.conversion"].append(
                gettext_noop("Enter the planned conversion to the next stage.")
            )
        elif problem := _number_problem(conversion):
            errors[f"{prefix}.conversion"].append(problem)
        elif not 0 < conversion <= 1:
            errors[f"{prefix}.conversion"].append(
                gettext_noop("A conversion must be more than 0 and at most 1 (0.4 means 40 %).")
            )
    key_stages = sum(stage.is_key_stage for stage in stages)
    if stages and key_stages == 0:
        errors["stages"].append(gettext_noop("Mark one stage as the key stage."))
    elif key_stages > 1:
        errors["stages"].append(gettext_noop("Only one stage can be the key stage."))
    if sum(stage.is_target_lead for stage in stages) > 1:
        errors["stages"].append(gettext_noop("Only one stage can be the target-lead stage."))


def _check_product_mix(errors: dict[str, list[str]], plan: PlanInput) -> None:
    mix = plan.product_mix
    if not mix:
        return
    names: set[str] = set()
    for index, item in enumerate(mix):
        prefix = f"product_mix[{index}]"
        if not item.name.strip():
            errors[f"{prefix}.name"].append(gettext_noop("Give the product a name."))
        elif item.name in names:
            errors[f"{prefix}.name"].append(gettext_noop("Another product already has this name."))
        names.add(item.name)
        _check_positive(errors, f"{prefix}.price", item.price)
        if item.share is not None and item.units is not None:
            errors[prefix].append(gettext_noop("Give either a share or units, not both."))
        if item.share is not None:
            _check_not_negative(errors, f"{prefix}.share", item.share)
        if item.units is not None:
            if isinstance(item.units, bool) or not isinstance(item.units, int):
                errors[f"{prefix}.units"].append(gettext_noop("Enter a whole number."))
            elif item.units < 0:
                errors[f"{prefix}.units"].append(gettext_noop("Must not be negative."))
        if item.margin_pct is not None:
            if problem := _number_problem(item.margin_pct):
                errors[f"{prefix}.margin_pct"].append(problem)
            elif item.margin_pct > 100:
                errors[f"{prefix}.margin_pct"].append(
                    # xgettext:no-python-format
                    gettext_noop("A margin cannot exceed 100 % of the price.")
                )
    item_errors = any(key.startswith("product_mix[") for key in errors)
    if all(item.units is not None and item.share is None for item in mix):
        if not item_errors and sum(item.units or 0 for item in mix) == 0:
            errors["product_mix"].append(gettext_noop("Plan at least one unit to sell."))
    elif all(item.share is not None and item.units is None for item in mix):
        if not item_errors and sum(item.share or 0 for item in mix) != 1:
            errors["product_mix"].append(
                gettext_noop("Product shares must add up to exactly 1 (100 %).")
            )
    else:
        errors["product_mix"].append(
            gettext_noop("Give every product a share, or every product a number of units.")
        )


def _check_team(errors: dict[str, list[str]], plan: PlanInput) -> None:
    if not plan.team:
        return
    keys: set[str] = set()
    shares_ok = True
    for index, member in enumerate(plan.team):
        prefix = f"team[{index}]"
        if not member.key:
            errors[f"{prefix}.key"].append(gettext_noop("Every team member needs a key."))
        elif member.key in keys:
            errors[f"{prefix}.key"].append(gettext_noop("This person is in the team twice."))
        keys.add(member.key)
        before = len(errors.get(f"{prefix}.share", ()))
        _check_not_negative(errors, f"{prefix}.share", member.share)
        shares_ok = shares_ok and len(errors.get(f"{prefix}.share", ())) == before
    if shares_ok and sum(member.share for member in plan.team) != 1:
        errors["team"].append(gettext_noop("Team shares must add up to exactly 1 (100 %)."))


def _check_norms(errors: dict[str, list[str]], plan: PlanInput) -> None:
    norms = plan.norms
    if norms is None:
        return
    if norms.calls_per_lead is not None:
        _check_positive(errors, "norms.calls_per_lead", norms.calls_per_lead)
    for key in ("max_calls_per_day", "max_meetings_per_day"):
        value = getattr(norms, key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            errors[f"norms.{key}"].append(gettext_noop("Enter a whole number."))
        elif value <= 0:
            errors[f"norms.{key}"].append(gettext_noop("Must be greater than zero."))


def _check_seasonality(errors: dict[str, list[str]], plan: PlanInput) -> None:
    weights = plan.seasonality
    if weights is None or plan.period_end < plan.period_start:
        return
    for month in weights:
        if month.day != 1:
            errors["seasonality"].append(
                gettext_noop("Seasonality is keyed by the first day of each month.")
            )
            return
    any_positive = False
    for month in month_starts(plan.period_start, plan.period_end):
        key = f"seasonality[{month:%Y-%m}]"
        weight = weights.get(month)
        if weight is None:
            errors[key].append(gettext_noop("This month of the period has no seasonality weight."))
            continue
        if problem := _number_problem(weight):
            errors[key].append(problem)
            continue
        if weight < 0:
            errors[key].append(gettext_noop("Must not be negative."))
        elif weight > 0:
            any_positive = True
            start = max(month, plan.period_start)
            end = min(month_end(month), plan.period_end)
            if not plan.calendar.working_days(start, end):
                errors[key].append(
                    gettext_noop(
                        "This month has no working day in the period; its weight must be 0."
                    )
                )
    if not any_positive and not errors:
        errors["seasonality"].append(
            gettext_noop("At least one month of the period needs a weight above 0.")
        )


def _check_history(errors: dict[str, list[str]], plan: PlanInput) -> None:
    if plan.history is None:
        return
    for index, stat in enumerate(plan.history.months):
        prefix = f"history.months[{index}]"
        if not isinstance(stat.month, date) or stat.month.day != 1:
            errors[f"{prefix}.month"].append(gettext_noop("Use the first day of the month."))
        if _any_negative(stat.stages.values()):
            errors[f"{prefix}.stages"].append(gettext_noop("Volumes must not be negative."))
        _check_not_negative(errors, f"{prefix}.revenue", stat.revenue)


def _any_negative(values: Iterable[int]) -> bool:
    return any(value < 0 for value in values)


def stage_errors(stages: Sequence[StageInput]) -> dict[str, list[str]]:
    """The stage checks alone, for saving a funnel before any plan is built on it."""
    errors: dict[str, list[str]] = defaultdict(list)
    _check_stages(errors, _StagesOnly(tuple(stages)))  # type: ignore[arg-type]
    return dict(errors)


@dataclass(frozen=True, slots=True)
class _StagesOnly:
    stages: tuple[StageInput, ...]

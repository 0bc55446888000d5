"""Spreading stage totals over months, working days, ISO weeks and people (DOMAIN 3).

Every split is the largest-remainder method, so the parts are whole and add up exactly to the
whole; non-working days get nothing.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from salesplan.planning.calendar import WorkingCalendar, days_between, month_end, month_starts
from salesplan.planning.splits import equal_split, integer_weights, largest_remainder
from salesplan.planning.types import (
    DayPlan,
    Decomposition,
    MonthPlan,
    PersonPlan,
    TeamMember,
    WeekPlan,
)


@dataclass(frozen=True, slots=True)
class MonthSlice:
    """The part of one calendar month inside the period."""

    start: date
    end: date
    days: list[date]
    working: list[bool]

    @property
    def working_days(self) -> int:
        return sum(self.working)


def month_slices(start: date, end: date, calendar: WorkingCalendar) -> list[MonthSlice]:
    slices = []
    for month in month_starts(start, end):
        first, last = max(month, start), min(month_end(month), end)
        days = days_between(first, last)
        slices.append(MonthSlice(first, last, days, [calendar.is_working_day(d) for d in days]))
    return slices


def split_over_time(
    totals: Mapping[str, int],
    slices: Sequence[MonthSlice],
    seasonality: Mapping[date, Decimal] | None,
) -> tuple[tuple[DayPlan, ...], tuple[MonthPlan, ...]]:
    """Each stage's total to months by seasonality, then each month's part to its working days
    (equal weights). Without seasonality a month weighs its working days in the period, so an
    average working day carries the same load in every month."""
    if seasonality is None:
        weights = [piece.working_days for piece in slices]
    else:
        weights = integer_weights(
            [seasonality[date(s.start.year, s.start.month, 1)] for s in slices]
        )
    per_month = {name: largest_remainder(total, weights) for name, total in totals.items()}
    by_day: list[DayPlan] = []
    by_month: list[MonthPlan] = []
    for index, piece in enumerate(slices):
        month_stages = {name: parts[index] for name, parts in per_month.items()}
        daily = {name: equal_split(part, piece.working_days) for name, part in month_stages.items()}
        working_index = 0
        for day, is_working in zip(piece.days, piece.working, strict=True):
            if is_working:
                stages = {name: parts[working_index] for name, parts in daily.items()}
                by_day.append(DayPlan(day, stages, True))
                working_index += 1
            else:
                by_day.append(DayPlan(day, dict.fromkeys(totals, 0), False))
        by_month.append(
            MonthPlan(
                f"{piece.start:%Y-%m}",
                piece.start,
                piece.end,
                piece.working_days,
                month_stages,
            )
        )
    return tuple(by_day), tuple(by_month)


def group_by_week(by_day: Sequence[DayPlan], names: Sequence[str]) -> tuple[WeekPlan, ...]:
    """Sums of days per ISO week ("2026-W49"); a week's start and end are clipped to the period."""
    weeks: list[WeekPlan] = []
    index = 0
    while index < len(by_day):
        first = by_day[index].date
        sunday = first + timedelta(days=6 - first.weekday())
        sums = dict.fromkeys(names, 0)
        working = 0
        while index < len(by_day) and by_day[index].date <= sunday:
            day = by_day[index]
            if day.is_working_day:
                working += 1
                for name, count in day.stages.items():
                    sums[name] += count
            index += 1
        year, week, _ = first.isocalendar()
        last = by_day[index - 1].date
        weeks.append(WeekPlan(f"{year}-W{week:02d}", first, last, working, sums))
    return tuple(weeks)


def split_to_people(
    totals: Mapping[str, int], team: Sequence[TeamMember]
) -> tuple[PersonPlan, ...]:
    """Each stage's total split by team shares (largest remainder); parts add up to the total."""
    if not team:
        return ()
    weights = integer_weights([member.share for member in team])
    per_stage = {name: largest_remainder(total, weights) for name, total in totals.items()}
    return tuple(
        PersonPlan(
            member.key,
            member.name,
            member.share,
            {name: parts[index] for name, parts in per_stage.items()},
        )
        for index, member in enumerate(team)
    )


def person_daily(decomposition: Decomposition, member_key: str) -> list[DayPlan]:
    """One person's plan per day of the period, computed on demand.

    The person's total per stage goes to months in proportion to the department's monthly
    plan, then each month's part to its working days; so the days add up to the person's total.
    """
    person = next((p for p in decomposition.by_person if p.key == member_key), None)
    if person is None:
        raise KeyError(f"No team member with key {member_key!r} in this plan.")
    names = [stage.name for stage in decomposition.stages]
    months = decomposition.by_month
    per_month = {
        name: largest_remainder(person.stages[name], [month.stages[name] for month in months])
        for name in names
    }
    result: list[DayPlan] = []
    day_index = 0
    for month_index, month in enumerate(months):
        daily = {
            name: equal_split(parts[month_index], month.working_days)
            for name, parts in per_month.items()
        }
        working_index = 0
        while day_index < len(decomposition.by_day):
            day = decomposition.by_day[day_index]
            if day.date > month.end:
                break
            if day.is_working_day:
                stages = {name: parts[working_index] for name, parts in daily.items()}
                result.append(DayPlan(day.date, stages, True))
                working_index += 1
            else:
                result.append(DayPlan(day.date, dict.fromkeys(names, 0), False))
            day_index += 1
    return result


def plan_to_date(decomposition: Decomposition, day: date) -> dict[str, int]:
    """Cumulative plan per stage up to and including ``day`` (DOMAIN 3, plan-to-date):
    zeros before the period, the totals after it."""
    if day >= decomposition.period_end:
        return decomposition.totals
    sums = dict.fromkeys(decomposition.totals, 0)
    for plan_day in decomposition.by_day:
        if plan_day.date > day:
            break
        if plan_day.is_working_day:
            for name, count in plan_day.stages.items():
                sums[name] += count
    return sums


def working_days_elapsed(decomposition: Decomposition, day: date) -> int:
    """Working days of the period up to and including ``day``."""
    return sum(1 for d in decomposition.by_day if d.is_working_day and d.date <= day)


def plan_to_date_fraction(decomposition: Decomposition, day: date) -> Fraction:
    """The plan's share of working days elapsed by the end of ``day``, exactly (0 … 1)."""
    return Fraction(working_days_elapsed(decomposition, day), decomposition.working_days)

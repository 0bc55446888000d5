"""The working calendar: Russian production calendar plus the organization's own days.

DOMAIN 2 (Organization): "Russian public holidays by default, plus days the organization adds
or removes". The ``holidays`` package knows Russia's transferred days off (31 Dec 2026) and
transferred working Saturdays (2 Nov 2024).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays

COUNTRY = "RU"
_SATURDAY = 5


@lru_cache(maxsize=64)
def _production_calendar(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(days off, working weekend days) of one year; building them is slow, so cache them."""
    country = holidays.country_holidays(COUNTRY, years=year)
    days_off = frozenset(day for day in country if day.year == year)
    working_weekends = frozenset(getattr(country, "weekend_workdays", ()) or ())
    return days_off, working_weekends


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """Which days are working days. An organization's own changes beat the state calendar."""

    extra_working_days: frozenset[date] = frozenset()
    extra_days_off: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        # A day listed both ways is treated as a day off; validation reports the clash.
        if day in self.extra_days_off:
            return False
        if day in self.extra_working_days:
            return True
        days_off, working_weekends = _production_calendar(day.year)
        if day in days_off:
            return False
        return day.weekday() < _SATURDAY or day in working_weekends

    def working_days(self, start: date, end: date) -> list[date]:
        """Working days from ``start`` to ``end``, both included (empty if end < start)."""
        return [day for day in days_between(start, end) if self.is_working_day(day)]


RUSSIAN_CALENDAR = WorkingCalendar()


def days_between(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end``, both included."""
    first = start.toordinal()
    return [date.fromordinal(ordinal) for ordinal in range(first, end.toordinal() + 1)]


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def month_starts(start: date, end: date) -> list[date]:
    """The first day of every month that ``start``..``end`` touches."""
    months: list[date] = []
    current = date(start.year, start.month, 1)
    while current <= end:
        months.append(current)
        current = month_end(current) + timedelta(days=1)
    return months


def period_end(kind: str, start: date) -> date:
    """The last day of the calendar month ("month"), quarter ("quarter") or year ("year")
    that ``start`` falls in."""
    if kind == "year":
        return date(start.year, 12, 31)
    if kind == "quarter":
        last_month = (start.month - 1) // 3 * 3 + 3
        return month_end(date(start.year, last_month, 1))
    return month_end(start)

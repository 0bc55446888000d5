"""Inputs and outputs of the planning engine: frozen dataclasses, money as Decimal."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from salesplan.planning.calendar import RUSSIAN_CALENDAR, WorkingCalendar

Severity = Literal["info", "warning", "error"]
# "not_assessed": nothing to check the plan against (no history, no norms, no margin target).
Verdict = Literal["realistic", "stretched", "unrealistic", "not_assessed"]

# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StageInput:
    """A funnel stage; ``conversion`` is the planned fraction (0, 1] reaching the NEXT stage."""

    name: str
    conversion: Decimal | None
    is_key_stage: bool = False
    is_target_lead: bool = False


@dataclass(frozen=True, slots=True)
class TeamMember:
    """A salesperson and their share of every stage's volume (shares add up to exactly 1)."""

    key: str
    name: str
    share: Decimal


@dataclass(frozen=True, slots=True)
class ProductMixItem:
    """A product: give every item either ``share`` (of deals) or ``units``, not both.

    ``margin_pct`` is the gross margin in percent of the price (30 means 30 %).
    """

    name: str
    price: Decimal
    share: Decimal | None = None
    units: int | None = None
    margin_pct: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Norms:
    """Capacity norms per salesperson per working day; "meetings" means the key stage."""

    calls_per_lead: Decimal | None = None
    max_calls_per_day: int | None = None
    max_meetings_per_day: int | None = None


@dataclass(frozen=True, slots=True)
class MonthStat:
    """One historical month: volume reached per stage name, and revenue."""

    month: date
    stages: Mapping[str, int]
    revenue: Decimal


@dataclass(frozen=True, slots=True)
class History:
    months: tuple[MonthStat, ...]


@dataclass(frozen=True, slots=True)
class PlanInput:
    """Everything a decomposition needs; stages are ordered from the top of the funnel down.

    ``seasonality`` maps a month's first day to its weight; without it months are weighted by
    their working days.
    """

    revenue_target: Decimal
    average_check: Decimal | None
    period_start: date
    period_end: date
    stages: tuple[StageInput, ...]
    cost_per_lead: Decimal | None = None
    cost_per_target_lead: Decimal | None = None
    product_mix: tuple[ProductMixItem, ...] = ()
    gross_margin_target: Decimal | None = None
    team: tuple[TeamMember, ...] = ()
    norms: Norms | None = None
    seasonality: Mapping[date, Decimal] | None = None
    history: History | None = None
    calendar: WorkingCalendar = RUSSIAN_CALENDAR


# --- outputs --------------------------------------------------------------------------------


def _money(value: Decimal | None) -> str | None:
    """Decimals as plain strings (never exponent notation) for JSON."""
    return None if value is None else format(value, "f")


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason or warning. ``message`` is an English template with ``{named}`` fields,
    marked for translation; translate it first, then format it with ``params``."""

    code: str
    severity: Severity
    message: str
    params: Mapping[str, str | int] = field(default_factory=dict)

    def text(self) -> str:
        return self.message.format(**self.params)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "params": dict(self.params),
            "text": self.text(),
        }


# Outputs hold their per-stage counts in plain dicts, typed as read-only Mappings: they stay
# picklable (cache, Celery) and cheap to build; treat them as immutable.


@dataclass(frozen=True, slots=True)
class StageResult:
    name: str
    required: int
    conversion: Decimal | None
    is_key_stage: bool
    is_target_lead: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "required": self.required,
            "conversion": _money(self.conversion),
            "is_key_stage": self.is_key_stage,
            "is_target_lead": self.is_target_lead,
        }


@dataclass(frozen=True, slots=True)
class DayPlan:
    """One calendar day of the period; non-working days carry zeros."""

    date: date
    stages: Mapping[str, int]
    is_working_day: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "stages": dict(self.stages),
            "is_working_day": self.is_working_day,
        }


@dataclass(frozen=True, slots=True)
class WeekPlan:
    """An ISO week ("2026-W49"), its start and end clipped to the period."""

    week: str
    start: date
    end: date
    working_days: int
    stages: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "week": self.week,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "working_days": self.working_days,
            "stages": dict(self.stages),
        }


@dataclass(frozen=True, slots=True)
class MonthPlan:
    """A calendar month ("2026-12"), its start and end clipped to the period."""

    month: str
    start: date
    end: date
    working_days: int
    stages: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "working_days": self.working_days,
            "stages": dict(self.stages),
        }


@dataclass(frozen=True, slots=True)
class PersonPlan:
    key: str
    name: str
    share: Decimal
    stages: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "share": _money(self.share),
            "stages": dict(self.stages),
        }


@dataclass(frozen=True, slots=True)
class Decomposition:
    """The plan's required volumes per stage, per period bucket and per person (DOMAIN 2)."""

    period_start: date
    period_end: date
    deals: int
    average_check: Decimal
    planned_revenue: Decimal
    stages: tuple[StageResult, ...]
    marketing_budget: Decimal | None
    gross_margin: Decimal | None
    by_day: tuple[DayPlan, ...]
    by_week: tuple[WeekPlan, ...]
    by_month: tuple[MonthPlan, ...]
    by_person: tuple[PersonPlan, ...]
    working_days: int
    verdict: Verdict
    reasons: tuple[Finding, ...]
    warnings: tuple[Finding, ...]

    @property
    def totals(self) -> dict[str, int]:
        """Required volume per stage name, top of the funnel first."""
        return {stage.name: stage.required for stage in self.stages}

    def stage(self, name: str) -> StageResult:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict: Decimals as strings, dates in ISO format."""
        return {
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "deals": self.deals,
            "average_check": _money(self.average_check),
            "planned_revenue": _money(self.planned_revenue),
            "stages": [stage.to_dict() for stage in self.stages],
            "marketing_budget": _money(self.marketing_budget),
            "gross_margin": _money(self.gross_margin),
            "by_day": [day.to_dict() for day in self.by_day],
            "by_week": [week.to_dict() for week in self.by_week],
            "by_month": [month.to_dict() for month in self.by_month],
            "by_person": [person.to_dict() for person in self.by_person],
            "working_days": self.working_days,
            "verdict": self.verdict,
            "reasons": [reason.to_dict() for reason in self.reasons],
            "warnings": [warning.to_dict() for warning in self.warnings],
        }

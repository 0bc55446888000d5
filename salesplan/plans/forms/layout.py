"""How the plan form is laid out on the page: its sections, the rows of the team, product mix
and seasonality tables, and what is shown or hidden (the page's script does the same live)."""

from datetime import date
from typing import Any

from salesplan.models import PeriodKind
from salesplan.planning.calendar import month_starts
from salesplan.planning.calendar import period_end as period_end_of

# A quarter or a year has at most this many months to weigh.
MAX_SEASON_MONTHS = 12


def as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


class PlanFormLayout:
    """The plan form's presentation; mixed into PlanForm, whose fields (`self[name]`) and
    people it reads."""

    salespeople: list[Any]
    products: list[Any]
    section_errors: dict[str, list[str]]

    def _chosen_team_id(self) -> int | None:
        value = self["sales_team"].value()
        try:
            return int(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None

    def team_rows(self) -> list[dict[str, Any]]:
        """Every salesperson, with their team: a team's plan shows (and the page's script
        keeps) only that team's people, a department plan everyone."""
        chosen = self._chosen_team_id()
        return [
            {
                "member": person,
                "field": self[f"share_{person.pk}"],
                "team_id": person.team_id or "",
                "visible": chosen is None or person.team_id == chosen,
            }
            for person in self.salespeople
        ]

    def mix_rows(self) -> list[dict[str, Any]]:
        return [
            {"product": product, "field": self[f"mix_{product.pk}"]} for product in self.products
        ]

    def season_rows(self) -> list[dict[str, Any]]:
        """The month weights, labelled with the months of the period typed so far (the page's
        script relabels them as the period changes)."""
        months = self._typed_months()
        return [
            {
                "field": self[f"season_{index}"],
                "month": months[index] if index < len(months) else None,
                "visible": index < len(months),
            }
            for index in range(MAX_SEASON_MONTHS)
        ]

    def _typed_months(self) -> list[date]:
        kind = self["period_kind"].value()
        start = as_date(self["period_start"].value())
        if start is None or not kind:
            return []
        end = as_date(self["period_end"].value()) or period_end_of(kind, start)
        return month_starts(start, end)[:MAX_SEASON_MONTHS] if end >= start else []

    def uses_seasonality(self) -> bool:
        return self["period_kind"].value() in (PeriodKind.QUARTER, PeriodKind.YEAR)

    def uses_product_mix(self) -> bool:
        """Open the product mix section when a share is typed (or saved) or it has errors."""
        names = [f"mix_{product.pk}" for product in self.products]
        if self.section_errors.get("product_mix") or any(self[name].errors for name in names):
            return True
        return any(self[name].value() not in (None, "") for name in names)

    def basic_fields(self) -> list[Any]:
        return [self[name] for name in ("funnel", "name", "sales_team", "status")]

    def period_fields(self) -> list[Any]:
        return [self[name] for name in ("period_kind", "period_start", "period_end")]

    def money_fields(self) -> list[Any]:
        names = (
            "revenue_target",
            "average_check",
            "cost_per_lead",
            "cost_per_target_lead",
            "gross_margin_target",
        )
        return [self[name] for name in names]

    def norm_fields(self) -> list[Any]:
        return [
            self[name]
            for name in ("calls_per_lead", "max_calls_per_day", "max_meetings_per_day", "tolerance")
        ]

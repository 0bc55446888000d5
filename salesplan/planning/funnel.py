"""Funnel arithmetic: deals from money, stages from deals, money for marketing (DOMAIN 1.1, 3).

Inputs are assumed valid (see validation.py). Rounding is exact: quotients go through Fraction.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from salesplan.planning.i18n import gettext_noop
from salesplan.planning.types import Finding, PlanInput, StageInput


@dataclass(frozen=True, slots=True)
class SalesPlan:
    """What the money side of the plan works out to."""

    deals: int
    average_check: Decimal
    planned_revenue: Decimal
    gross_margin: Decimal | None
    warnings: tuple[Finding, ...]


def ceil_div(numerator: Decimal | int, denominator: Decimal | int) -> int:
    """⌈numerator ÷ denominator⌉, exactly (no Decimal precision limit involved)."""
    return math.ceil(Fraction(numerator) / Fraction(denominator))


def plan_sales(plan: PlanInput) -> SalesPlan:
    """Deals, effective average check, planned revenue and gross margin of the plan."""
    warnings: list[Finding] = []
    mix = plan.product_mix
    if mix and all(item.units is not None for item in mix):
        # Units given: the mix itself is the plan; revenue follows from it.
        deals = sum(item.units or 0 for item in mix)
        planned_revenue = sum((item.price * (item.units or 0) for item in mix), Decimal(0))
        average_check = planned_revenue / deals
        if planned_revenue < plan.revenue_target:
            warnings.append(
                Finding(
                    "product_mix_revenue_below_target",
                    "warning",
                    gettext_noop(
                        "The product mix brings {planned_revenue} of revenue, "
                        "below the target of {revenue_target}."
                    ),
                    {
                        "planned_revenue": format(planned_revenue, "f"),
                        "revenue_target": format(plan.revenue_target, "f"),
                    },
                )
            )
        margins = [(item.units or 0) * item.price for item in mix]
    elif mix:
        # Shares of deals given: average check = Σ share × price.
        average_check = sum(((item.share or 0) * item.price for item in mix), Decimal(0))
        deals = ceil_div(plan.revenue_target, average_check)
        planned_revenue = deals * average_check
        margins = [deals * (item.share or 0) * item.price for item in mix]
    else:
        assert plan.average_check is not None  # guaranteed by validation
        average_check = plan.average_check
        # Deals = ⌈revenue ÷ average check⌉ (DOMAIN 3).
        deals = ceil_div(plan.revenue_target, average_check)
        planned_revenue = deals * average_check
        margins = []
    if mix and plan.average_check is not None and plan.average_check != average_check:
        warnings.append(
            Finding(
                "average_check_from_product_mix",
                "warning",
                gettext_noop(
                    "The average check {given} is replaced by {derived}, derived from the "
                    "product mix."
                ),
                {"given": format(plan.average_check, "f"), "derived": format(average_check, "f")},
            )
        )
    gross_margin = _gross_margin(plan, margins, warnings)
    return SalesPlan(deals, average_check, planned_revenue, gross_margin, tuple(warnings))


def _gross_margin(
    plan: PlanInput, revenues: Sequence[Decimal], warnings: list[Finding]
) -> Decimal | None:
    """Σ product revenue × margin % (the planned sales, i.e. deals × mix)."""
    mix = plan.product_mix
    if mix and all(item.margin_pct is not None for item in mix):
        return sum(
            (
                revenue * (item.margin_pct or 0) / 100
                for revenue, item in zip(revenues, mix, strict=True)
            ),
            Decimal(0),
        )
    if plan.gross_margin_target is not None:
        warnings.append(
            Finding(
                "gross_margin_unknown",
                "warning",
                gettext_noop(
                    "The gross margin target cannot be checked: give every product its margin."
                ),
                {},
            )
        )
    return None


def required_volumes(deals: int, stages: Sequence[StageInput]) -> list[int]:
    """Required volume per stage, top first: the last stage is the deals, and each stage
    above is ⌈next ÷ conversion⌉, computed stage by stage (DOMAIN 3, chain rounding up)."""
    volumes = [deals]
    for stage in reversed(stages[:-1]):
        assert stage.conversion is not None  # guaranteed by validation
        volumes.append(ceil_div(volumes[-1], stage.conversion))
    volumes.reverse()
    return volumes


def target_lead_index(stages: Sequence[StageInput]) -> int:
    """The stage marked as target lead, else the second stage (lead → target lead)."""
    for index, stage in enumerate(stages):
        if stage.is_target_lead:
            return index
    return 1


def marketing_budget(
    plan: PlanInput, volumes: Sequence[int]
) -> tuple[Decimal | None, tuple[Finding, ...]]:
    """Leads × cost per lead, or else target leads × cost per target lead (DOMAIN 1.1)."""
    by_lead = None if plan.cost_per_lead is None else volumes[0] * plan.cost_per_lead
    by_target_lead = (
        None
        if plan.cost_per_target_lead is None
        else volumes[target_lead_index(plan.stages)] * plan.cost_per_target_lead
    )
    if by_lead is not None and by_target_lead is not None and by_lead != by_target_lead:
        warning = Finding(
            "marketing_costs_disagree",
            "warning",
            gettext_noop(
                "Cost per lead gives a budget of {by_lead}, cost per target lead gives "
                "{by_target_lead}; the plan uses the cost per lead."
            ),
            {"by_lead": format(by_lead, "f"), "by_target_lead": format(by_target_lead, "f")},
        )
        return by_lead, (warning,)
    return (by_lead if by_lead is not None else by_target_lead), ()

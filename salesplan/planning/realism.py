"""Is the plan realistic? Checks against history and capacity norms, each giving a Finding.

Verdict: any error finding → "unrealistic"; else any warning → "stretched"; else "realistic" —
when something was checked. A plan nothing could be checked against (no history; no norms, or
norms but no team to apply them to; no margin target) reads "not_assessed", never a green
"realistic".
Info findings say what was checked and passed; they do not change the verdict.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from salesplan.planning.capacity_check import CAPACITY_STRETCHED_SHARE, check_capacity
from salesplan.planning.figures import whole_up
from salesplan.planning.history_check import (
    CONVERSION_STRETCHED_RATIO,
    CONVERSION_UNREALISTIC_RATIO,
    check_history,
)
from salesplan.planning.i18n import gettext_noop
from salesplan.planning.types import Decomposition, Finding, PlanInput, Verdict

__all__ = [
    "CAPACITY_STRETCHED_SHARE",
    "CONVERSION_STRETCHED_RATIO",
    "CONVERSION_UNREALISTIC_RATIO",
    "Assessment",
    "Finding",
    "assess_realism",
    "verdict_for",
]


@dataclass(frozen=True, slots=True)
class Assessment:
    verdict: Verdict
    reasons: tuple[Finding, ...]
    warnings: tuple[Finding, ...]


def verdict_for(reasons: Sequence[Finding]) -> Verdict:
    severities = {reason.severity for reason in reasons}
    if "error" in severities:
        return "unrealistic"
    if "warning" in severities:
        return "stretched"
    return "realistic"


def assess_realism(plan: PlanInput, decomposition: Decomposition) -> Assessment:
    """Judge ``decomposition`` of ``plan`` against its history, norms and margin target."""
    reasons: list[Finding] = []
    warnings: list[Finding] = []
    has_history = plan.history is not None and bool(plan.history.months)
    if has_history:
        check_history(plan, decomposition, plan.history.months, reasons, warnings)
    if plan.norms is not None:
        check_capacity(plan, decomposition, reasons, warnings)
    _check_gross_margin(plan, decomposition, reasons)
    # A passing check says so (an info finding), except a met margin target, which says nothing.
    margin_checked = plan.gross_margin_target is not None and decomposition.gross_margin is not None
    checked = bool(reasons) or margin_checked
    if not reasons:
        reasons.append(
            Finding(
                "nothing_to_check",
                "info",
                gettext_noop("There is no history or capacity norm to check the plan against."),
                {},
            )
        )
    verdict = verdict_for(reasons) if checked else "not_assessed"
    return Assessment(verdict, tuple(reasons), tuple(warnings))


def _check_gross_margin(
    plan: PlanInput, decomposition: Decomposition, reasons: list[Finding]
) -> None:
    target, planned = plan.gross_margin_target, decomposition.gross_margin
    if target is None or planned is None or planned >= target:
        return
    reasons.append(
        Finding(
            "gross_margin_below_target",
            "warning",
            gettext_noop(
                "The product mix gives a gross margin of {planned}, below the target of {target}; "
                "the target needs a richer mix."
            ),
            {"planned": whole_up(Fraction(planned)), "target": whole_up(Fraction(target))},
        )
    )

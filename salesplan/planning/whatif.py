"""What if: change a few levers of a plan and see how every output moves."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, Decimal
from typing import Any

from salesplan.planning.decompose import decompose
from salesplan.planning.i18n import gettext_noop
from salesplan.planning.types import Decomposition, PlanInput, TeamMember
from salesplan.planning.validation import PlanInputError

HUNDRED = Decimal(100)
# Equal shares are cut to this many places; the last member takes the remainder so the
# shares still add up to exactly 1.
SHARE_QUANTUM = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class NewMember:
    key: str
    name: str


@dataclass(frozen=True, slots=True)
class Changes:
    """Levers to pull; anything left at its default stays as in the base plan.

    Percentages are percent (-10 means minus 10 %); conversion changes are percentage points
    (+5 turns 40 % into 45 %). ``team_shares`` (key → share, adding up to 1) sets the shares
    of the resulting team; without it a changed team gets equal shares.
    """

    conversion_pp: Mapping[str, Decimal] = field(default_factory=dict)
    average_check_pct: Decimal | None = None
    revenue_target: Decimal | None = None
    revenue_target_pct: Decimal | None = None
    cost_per_lead: Decimal | None = None
    cost_per_lead_pct: Decimal | None = None
    add_members: tuple[NewMember, ...] = ()
    remove_members: tuple[str, ...] = ()
    team_shares: Mapping[str, Decimal] | None = None


@dataclass(frozen=True, slots=True)
class DiffItem:
    field: str
    before: Any
    after: Any
    delta: Any

    def to_dict(self) -> dict[str, Any]:
        return {key: _json(getattr(self, key)) for key in ("field", "before", "after", "delta")}


@dataclass(frozen=True, slots=True)
class WhatIfResult:
    plan: PlanInput
    before: Decomposition
    after: Decomposition
    diff: tuple[DiffItem, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "diff": [item.to_dict() for item in self.diff],
        }


def what_if(base: PlanInput, changes: Changes | None = None, **levers: Any) -> WhatIfResult:
    """Decompose ``base`` and the plan with ``changes`` (or the same levers as keywords:
    ``what_if(plan, conversion_pp={"Meeting held": Decimal(5)})``) and compare them."""
    if changes is None:
        changes = Changes(**levers)
    elif levers:
        raise TypeError("Pass either a Changes object or keyword levers, not both.")
    changed = apply_changes(base, changes)
    before, after = decompose(base), decompose(changed)
    return WhatIfResult(changed, before, after, diff_decompositions(before, after))


def apply_changes(base: PlanInput, changes: Changes) -> PlanInput:
    """The plan with ``changes`` applied; PlanInputError if a lever names something unknown."""
    errors: dict[str, list[str]] = {}
    stages = list(base.stages)
    names = [stage.name for stage in stages]
    for name, points in changes.conversion_pp.items():
        if name not in names or stages[names.index(name)].conversion is None:
            errors[f"conversion_pp[{name}]"] = [
                gettext_noop("There is no stage with a conversion by this name.")
            ]
            continue
        index = names.index(name)
        stages[index] = replace(
            stages[index], conversion=stages[index].conversion + points / HUNDRED
        )
    plan = replace(base, stages=tuple(stages))
    if changes.average_check_pct is not None:
        factor = 1 + changes.average_check_pct / HUNDRED
        plan = replace(
            plan,
            average_check=None if plan.average_check is None else plan.average_check * factor,
            product_mix=tuple(
                replace(item, price=item.price * factor) for item in plan.product_mix
            ),
        )
    if changes.revenue_target is not None:
        plan = replace(plan, revenue_target=changes.revenue_target)
    if changes.revenue_target_pct is not None:
        plan = replace(
            plan, revenue_target=plan.revenue_target * (1 + changes.revenue_target_pct / HUNDRED)
        )
    if changes.cost_per_lead is not None:
        plan = replace(plan, cost_per_lead=changes.cost_per_lead)
    if changes.cost_per_lead_pct is not None and plan.cost_per_lead is not None:
        plan = replace(
            plan, cost_per_lead=plan.cost_per_lead * (1 + changes.cost_per_lead_pct / HUNDRED)
        )
    team = _changed_team(plan.team, changes, errors)
    if errors:
        raise PlanInputError(errors)
    return replace(plan, team=team)


def _changed_team(
    team: tuple[TeamMember, ...], changes: Changes, errors: dict[str, list[str]]
) -> tuple[TeamMember, ...]:
    keys = {member.key for member in team}
    for key in changes.remove_members:
        if key not in keys:
            errors[f"remove_members[{key}]"] = [gettext_noop("This person is not in the team.")]
    members = [m for m in team if m.key not in changes.remove_members]
    members += [TeamMember(new.key, new.name, Decimal(0)) for new in changes.add_members]
    if changes.team_shares is not None:
        unknown = set(changes.team_shares) - {member.key for member in members}
        for key in sorted(unknown):
            errors[f"team_shares[{key}]"] = [gettext_noop("This person is not in the team.")]
        return tuple(replace(m, share=changes.team_shares.get(m.key, Decimal(0))) for m in members)
    if changes.add_members or changes.remove_members:
        return tuple(
            replace(member, share=share)
            for member, share in zip(members, equal_shares(len(members)), strict=True)
        )
    return team


def equal_shares(count: int) -> list[Decimal]:
    """``count`` equal shares adding up to exactly 1; the last one takes the rounding rest."""
    if count == 0:
        return []
    share = (Decimal(1) / count).quantize(SHARE_QUANTUM, rounding=ROUND_DOWN)
    return [share] * (count - 1) + [Decimal(1) - share * (count - 1)]


def diff_decompositions(before: Decomposition, after: Decomposition) -> tuple[DiffItem, ...]:
    """Before, after and delta of every headline output; stages are matched by name."""
    items = [
        _item("deals", before.deals, after.deals),
        _item("average_check", before.average_check, after.average_check),
        _item("planned_revenue", before.planned_revenue, after.planned_revenue),
    ]
    after_stages = after.totals
    for stage in before.stages:
        items.append(
            _item(f"stages.{stage.name}.required", stage.required, after_stages.get(stage.name))
        )
    items += [
        _item("marketing_budget", before.marketing_budget, after.marketing_budget),
        _item("gross_margin", before.gross_margin, after.gross_margin),
        _item("working_days", before.working_days, after.working_days),
        DiffItem("verdict", before.verdict, after.verdict, None),
        DiffItem(
            "reasons",
            tuple(reason.code for reason in before.reasons),
            tuple(reason.code for reason in after.reasons),
            None,
        ),
    ]
    return tuple(items)


def _item(name: str, before: Any, after: Any) -> DiffItem:
    delta = None if before is None or after is None else after - before
    return DiffItem(name, before, after, delta)


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, tuple):
        return list(value)
    return value

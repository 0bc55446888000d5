"""What if: a saved plan with a few levers pulled, and every output's difference. The page's
form and the API send the same levers to the same function; nothing is saved."""

from collections.abc import Mapping
from typing import Any

from salesplan.models import SalesPlan
from salesplan.planning import Changes, NewMember, WhatIfResult, what_if
from salesplan.plans.snapshot import saved_plan_input
from salesplan.selectors import calendar_for


def what_if_changes(data: Mapping[str, Any]) -> Changes:
    """The levers of a what-if, from the API's JSON shape (the page's form builds the same):
    conversion_pp {stage: pp}, average_check_pct, revenue_target(_pct), cost_per_lead(_pct),
    add_members [{"name", "key"?}], remove_members [key], team_shares {key: share}."""
    return Changes(
        conversion_pp=data.get("conversion_pp") or {},
        average_check_pct=data.get("average_check_pct"),
        revenue_target=data.get("revenue_target"),
        revenue_target_pct=data.get("revenue_target_pct"),
        cost_per_lead=data.get("cost_per_lead"),
        cost_per_lead_pct=data.get("cost_per_lead_pct"),
        add_members=tuple(
            NewMember(key=member.get("key") or f"new-{index + 1}", name=member["name"])
            for index, member in enumerate(data.get("add_members") or ())
        ),
        remove_members=tuple(data.get("remove_members") or ()),
        team_shares=data.get("team_shares"),
    )


def plan_what_if(*, plan: SalesPlan, levers: Mapping[str, Any]) -> WhatIfResult:
    """The plan as saved (with its stored history) and the plan with the levers pulled.
    Raises PlanInputError (keyed by field, English) when the changed plan is impossible."""
    inputs = saved_plan_input(plan, calendar_for(plan.organization))
    return what_if(inputs, what_if_changes(levers))


def people_changes(result: WhatIfResult) -> list[dict[str, Any]]:
    """Each salesperson's share and volumes now and with the levers pulled, matched by key:
    a person the what-if removes has no "after", one it adds no "before". Stages are the
    plan's, top of the funnel first; each is (name, before, after, delta)."""
    before = {person.key: person for person in result.before.by_person}
    after = {person.key: person for person in result.after.by_person}
    stage_names = [stage.name for stage in result.before.stages]
    rows = []
    for key in [*before, *(key for key in after if key not in before)]:
        old, new = before.get(key), after.get(key)
        stages = []
        for name in stage_names:
            was = old.stages.get(name) if old else None
            will = new.stages.get(name) if new else None
            delta = (will or 0) - (was or 0)
            stages.append({"name": name, "before": was, "after": will, "delta": delta})
        rows.append(
            {
                "key": key,
                "name": (old or new).name,  # type: ignore[union-attr]
                "status": "removed" if new is None else "added" if old is None else "kept",
                "share_before": old.share if old else None,
                "share_after": new.share if new else None,
                "stages": stages,
                "changed": old is None
                or new is None
                or old.share != new.share
                or any(stage["delta"] for stage in stages),
            }
        )
    return rows

"""The bridge between stored plans and the pure planning engine (salesplan/planning).

A plan is turned into a JSON *snapshot* of its inputs (what PlanVersion stores), and every
decomposition, of the live plan or of an old version, is computed from such a snapshot.
"""

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import get_language, gettext

from salesplan import planning
from salesplan.models import CalendarDay, Organization, SalesPlan
from salesplan.planning import (
    Changes,
    Decomposition,
    Finding,
    History,
    NewMember,
    Norms,
    PlanInput,
    ProductMixItem,
    StageInput,
    TeamMember,
    WorkingCalendar,
)

PLAN_INPUT_FIELDS = (
    "name",
    "period_kind",
    "period_start",
    "period_end",
    "revenue_target",
    "average_check",
    "gross_margin_target",
    "cost_per_lead",
    "cost_per_target_lead",
    "calls_per_lead",
    "max_calls_per_day",
    "max_meetings_per_day",
    "seasonality",
    "status",
)


def calendar_for(organization: Organization) -> WorkingCalendar:
    """Russian production calendar plus the organization's own working days and days off."""
    days = CalendarDay.objects.filter(organization=organization).values_list("date", "is_working")
    working = frozenset(day for day, is_working in days if is_working)
    off = frozenset(day for day, is_working in days if not is_working)
    return WorkingCalendar(extra_working_days=working, extra_days_off=off)


def _text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def snapshot_of(plan: SalesPlan) -> dict[str, Any]:
    """Everything the plan's decomposition depends on, as JSON (stages included, since the
    funnel may change after this version)."""
    snapshot: dict[str, Any] = {name: _text(getattr(plan, name)) for name in PLAN_INPUT_FIELDS}
    snapshot["funnel"] = plan.funnel_id
    snapshot["funnel_name"] = plan.funnel.name
    snapshot["stages"] = [
        {
            "name": stage.name,
            "conversion": _text(stage.conversion),
            "is_key_stage": stage.is_key_stage,
            "is_target_lead": stage.is_target_lead,
        }
        for stage in plan.funnel.stages.all()
    ]
    snapshot["team"] = [
        {
            "membership": member.membership_id,
            "name": member.membership.display_name,
            "share": _text(member.share),
        }
        for member in plan.members.select_related("membership__user")
    ]
    snapshot["product_mix"] = [
        {
            "product": item.product_id,
            "name": item.product.name,
            "price": _text(item.product.price),
            "margin_pct": _text(item.product.margin_pct),
            "share": _text(item.share),
            "units": item.units,
        }
        for item in plan.product_mix.select_related("product")
    ]
    return snapshot


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def plan_input_from_snapshot(
    snapshot: Mapping[str, Any],
    *,
    calendar: WorkingCalendar,
    history: History | None = None,
) -> PlanInput:
    norms = None
    if any(
        snapshot.get(key) for key in ("calls_per_lead", "max_calls_per_day", "max_meetings_per_day")
    ):
        norms = Norms(
            calls_per_lead=_decimal(snapshot.get("calls_per_lead")),
            max_calls_per_day=snapshot.get("max_calls_per_day"),
            max_meetings_per_day=snapshot.get("max_meetings_per_day"),
        )
    seasonality = snapshot.get("seasonality") or None
    return PlanInput(
        revenue_target=_decimal(snapshot["revenue_target"]),
        average_check=_decimal(snapshot.get("average_check")),
        period_start=_date(snapshot["period_start"]),
        period_end=_date(snapshot["period_end"]),
        stages=tuple(
            StageInput(
                name=stage["name"],
                conversion=_decimal(stage.get("conversion")),
                is_key_stage=bool(stage.get("is_key_stage")),
                is_target_lead=bool(stage.get("is_target_lead")),
            )
            for stage in snapshot["stages"]
        ),
        cost_per_lead=_decimal(snapshot.get("cost_per_lead")),
        cost_per_target_lead=_decimal(snapshot.get("cost_per_target_lead")),
        product_mix=tuple(
            ProductMixItem(
                name=item["name"],
                price=_decimal(item["price"]),
                share=_decimal(item.get("share")),
                units=item.get("units"),
                margin_pct=_decimal(item.get("margin_pct")),
            )
            for item in snapshot.get("product_mix") or ()
        ),
        gross_margin_target=_decimal(snapshot.get("gross_margin_target")),
        team=tuple(
            TeamMember(
                key=str(member.get("membership") or member.get("key") or member["name"]),
                name=member["name"],
                share=_decimal(member["share"]),
            )
            for member in snapshot.get("team") or ()
        ),
        norms=norms,
        seasonality=(
            {_date(month): _decimal(weight) for month, weight in seasonality.items()}
            if seasonality
            else None
        ),
        history=history,
        calendar=calendar,
    )


def plan_input_for(plan: SalesPlan) -> PlanInput:
    """The saved plan with its funnel's history (the months before it) for the realism check."""
    from funnel.selectors import plan_history

    return plan_input_from_snapshot(
        snapshot_of(plan), calendar=calendar_for(plan.organization), history=plan_history(plan=plan)
    )


def decomposition_for(plan: SalesPlan) -> Decomposition:
    return planning.decompose(plan_input_for(plan))


# --- presentation in the user's language ----------------------------------------------------


def finding_text(finding: Finding) -> str:
    """Translate the English template first, then fill in the numbers (a month "2026-11"
    reads "11.2026" in Russian and "November 2026" in English)."""
    params = dict(finding.params)
    month = params.get("month")
    if isinstance(month, str) and re.fullmatch(r"\d{4}-\d{2}", month):
        day = date(int(month[:4]), int(month[5:]), 1)
        english = (get_language() or "ru").startswith("en")
        params["month"] = day.strftime("%B %Y") if english else day.strftime("%m.%Y")
    return gettext(finding.message).format(**params)


def translate_errors(errors: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    return {key: [gettext(message) for message in messages] for key, messages in errors.items()}


def decomposition_payload(decomposition: Decomposition) -> dict[str, Any]:
    """The engine's JSON with every reason and warning translated into the user's language."""
    payload = decomposition.to_dict()
    for kind, findings in (
        ("reasons", decomposition.reasons),
        ("warnings", decomposition.warnings),
    ):
        for item, finding in zip(payload[kind], findings, strict=True):
            item["text"] = finding_text(finding)
    payload["verdict_label"] = verdict_label(decomposition.verdict)
    return payload


def verdict_label(verdict: str) -> str:
    labels = {
        "realistic": gettext("Realistic"),
        "stretched": gettext("Stretched"),
        "unrealistic": gettext("Unrealistic"),
    }
    return labels.get(verdict, verdict)


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

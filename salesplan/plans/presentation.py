"""A decomposition, a plan's stored inputs and its versions as people read them: rows of
tables and findings in words, in the user's language. Pages and the API use the same words."""

import re
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.text import capfirst
from django.utils.translation import get_language, gettext

from salesplan.fields import display_number
from salesplan.formatting import NBSP, format_decimal, format_money, format_number, no_break
from salesplan.models import PeriodKind, PlanStatus, PlanVersion, SalesPlan
from salesplan.planning import Decomposition, Finding
from salesplan.planning.whatif import DiffItem
from salesplan.plans.snapshot import PLAN_INPUT_FIELDS

HUNDRED = Decimal(100)
MONEY_INPUTS = frozenset(
    {
        "revenue_target",
        "average_check",
        "gross_margin_target",
        "cost_per_lead",
        "cost_per_target_lead",
    }
)
MONEY_OUTPUTS = frozenset({"average_check", "planned_revenue", "marketing_budget", "gross_margin"})


def _language() -> str:
    return get_language() or "ru"


# --- findings and verdicts in words ------------------------------------------------------------


# The findings' params that are money (by finding code); every other number is a count or a
# rate. The engine gives them as plain figures ("10656000", 9381915): the page formats them.
MONEY_PARAMS: dict[str, frozenset[str]] = {
    "product_mix_revenue_below_target": frozenset({"planned_revenue", "revenue_target"}),
    "average_check_from_product_mix": frozenset({"given", "derived"}),
    "marketing_costs_disagree": frozenset({"by_lead", "by_target_lead"}),
    "revenue_above_history_best": frozenset({"planned", "best", "median"}),
    "revenue_above_history_median": frozenset({"planned", "best", "median"}),
    "gross_margin_below_target": frozenset({"planned", "target"}),
}
# Params that are words (a person's or a stage's name), never reformatted even if they look
# like a number (a stage called "2").
TEXT_PARAMS = frozenset({"person", "stage", "next_stage", "month", "name", "metric", "owner"})
_FIGURE = re.compile(r"-?\d+(\.\d+)?")


def _param_text(code: str, key: str, value: Any, currency: str, language: str) -> Any:
    if key in TEXT_PARAMS or isinstance(value, bool):
        return value
    is_figure = isinstance(value, str) and _FIGURE.fullmatch(value)
    if not (isinstance(value, int | Decimal) or is_figure):
        return value
    figure = Decimal(value)
    if key in MONEY_PARAMS.get(code, ()):
        return format_money(figure, currency, language)
    places = max(-figure.as_tuple().exponent, 0)  # type: ignore[operator]
    return format_decimal(figure, language, min(places, 2))


def finding_text(finding: Finding, *, currency: str = "RUB") -> str:
    """Translate the English template first, then fill in the figures in the user's format
    (money `10 656 000 ₽`, a rate `2,8`; a month "2026-11" reads "11.2026" in Russian and
    "November 2026" in English), figures glued to their units by no-break spaces."""
    language = _language()
    params = {
        key: _param_text(finding.code, key, value, currency, language)
        for key, value in finding.params.items()
    }
    month = params.get("month")
    if isinstance(month, str) and re.fullmatch(r"\d{4}-\d{2}", month):
        day = date(int(month[:4]), int(month[5:]), 1)
        params["month"] = (
            day.strftime("%B %Y") if language.startswith("en") else day.strftime("%m.%Y")
        )
    return no_break(gettext(finding.message).format(**params))


def verdict_label(verdict: str) -> str:
    labels = {
        "realistic": gettext("Realistic"),
        "stretched": gettext("Stretched"),
        "unrealistic": gettext("Unrealistic"),
        "not_assessed": gettext("Not assessed"),
    }
    return labels.get(verdict, verdict)


def stale_message() -> str:
    """A save based on an older version (the page's message and the API's 409 say the same)."""
    return gettext(
        "Someone else saved this plan after you opened it. Reload it to see their changes, "
        "then apply yours again."
    )


def decomposition_payload(decomposition: Decomposition, *, currency: str = "RUB") -> dict[str, Any]:
    """The engine's JSON with every reason and warning translated into the user's language
    (money in the findings' text in `currency`, the organization's)."""
    payload = decomposition.to_dict()
    for kind, findings in (
        ("reasons", decomposition.reasons),
        ("warnings", decomposition.warnings),
    ):
        for item, finding in zip(payload[kind], findings, strict=True):
            item["text"] = finding_text(finding, currency=currency)
    payload["verdict_label"] = verdict_label(decomposition.verdict)
    return payload


# --- presentation of a decomposition ------------------------------------------------------------


def present(decomposition: Decomposition, *, currency: str = "RUB") -> dict[str, Any]:
    """A decomposition laid out for the templates: rows of tables, findings in words (money
    in them in `currency`, the organization's)."""
    stages = decomposition.stages
    days = decomposition.working_days or 1
    several_months = len(decomposition.by_month) > 1
    # The narrow preview shows only the top of the funnel, the key stage and the deals.
    headline = [
        stage
        for index, stage in enumerate(stages)
        if index in (0, len(stages) - 1) or stage.is_key_stage
    ]
    return {
        "d": decomposition,
        "verdict_label": verdict_label(decomposition.verdict),
        "key_stage": next((stage for stage in stages if stage.is_key_stage), None),
        "weeks": decomposition.by_week,
        "months": decomposition.by_month if several_months else (),
        "stage_rows": [
            {
                "stage": stage,
                "weeks": [week.stages[stage.name] for week in decomposition.by_week],
                "months": (
                    [month.stages[stage.name] for month in decomposition.by_month]
                    if several_months
                    else []
                ),
                "per_day": _per_day(stage.required, days),
            }
            for stage in stages
        ],
        "people": [
            {
                "person": person,
                "counts": [person.stages[stage.name] for stage in stages],
                "short_counts": [person.stages[stage.name] for stage in headline],
            }
            for person in decomposition.by_person
        ],
        "headline_stages": headline,
        "reasons": findings_view(decomposition.reasons, currency=currency),
        "warnings": findings_view(decomposition.warnings, currency=currency),
    }


def _per_day(total: int, working_days: int) -> Decimal:
    """The average per working day, to one decimal (the split itself is in whole numbers)."""
    return (Decimal(total) / working_days).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def findings_view(findings: Sequence[Finding], *, currency: str = "RUB") -> list[dict[str, str]]:
    css = {"info": "", "warning": "warn", "error": "bad"}
    return [
        {
            "severity": item.severity,
            "css": css.get(item.severity, ""),
            "text": finding_text(item, currency=currency),
        }
        for item in findings
    ]


def diff_rows(diff: tuple[DiffItem, ...]) -> list[dict[str, Any]]:
    """Before / after / delta of every output, labelled in the user's language."""
    labels = {
        "deals": gettext("Deals"),
        "average_check": gettext("Average check"),
        "planned_revenue": gettext("Planned revenue"),
        "marketing_budget": gettext("Marketing budget"),
        "gross_margin": gettext("Gross margin"),
        "working_days": gettext("Working days"),
        "verdict": gettext("Verdict"),
    }
    rows = []
    for item in diff:
        if item.field == "reasons":  # codes, not words: the reasons are listed in full
            continue
        if item.field == "verdict":
            rows.append(
                {
                    "label": labels["verdict"],
                    "kind": "verdict",
                    "before": item.before,
                    "after": item.after,
                    "before_label": verdict_label(item.before),
                    "after_label": verdict_label(item.after),
                    "changed": item.before != item.after,
                }
            )
            continue
        if item.field.startswith("stages."):
            label = item.field.removeprefix("stages.").removesuffix(".required")
            kind = "stage"
        else:
            label = labels.get(item.field, item.field)
            kind = "money" if item.field in MONEY_OUTPUTS else "number"
        rows.append(
            {
                "label": label,
                "kind": kind,
                "before": item.before,
                "after": item.after,
                "delta": item.delta,
                "changed": bool(item.delta),
            }
        )
    return rows


# --- presentation of stored inputs (versions) ---------------------------------------------------


def input_labels() -> dict[str, str]:
    labels = {
        name: capfirst(SalesPlan._meta.get_field(name).verbose_name) for name in PLAN_INPUT_FIELDS
    }
    labels.update(
        funnel_name=gettext("Funnel"),
        stages=gettext("Stages"),
        team=gettext("Team"),
        product_mix=gettext("Product mix"),
    )
    return labels


def _percent_text(value: Any) -> str:
    if value in (None, ""):
        return "—"
    text = format_decimal(Decimal(str(value)) * HUNDRED, _language(), 2)
    return f"{text}%" if _language().startswith("en") else f"{text}{NBSP}%"


def input_text(key: str, value: Any, currency: str) -> str:
    """One stored input (a PlanVersion snapshot value) as a person reads it."""
    language = _language()
    if value in (None, "", [], {}):
        return "—"
    if key in MONEY_INPUTS:
        return format_money(value, currency, language)
    if key == "period_kind":
        return str(PeriodKind(value).label) if value in PeriodKind.values else str(value)
    if key == "status":
        return str(PlanStatus(value).label) if value in PlanStatus.values else str(value)
    if key in ("period_start", "period_end"):
        return "{2}.{1}.{0}".format(*str(value).split("-"))
    if key == "stages":
        return "; ".join(
            f"{stage['name']}"
            + (f" {_percent_text(stage['conversion'])}" if stage.get("conversion") else "")
            + (f" ({gettext('key stage')})" if stage.get("is_key_stage") else "")
            for stage in value
        )
    if key in ("team", "product_mix"):
        return "; ".join(
            f"{item['name']} {_percent_text(item.get('share'))}"
            if item.get("share") not in (None, "")
            else f"{item['name']} × {item.get('units')}"
            for item in value
        )
    if key == "seasonality":
        return "; ".join(
            f"{month[5:7]}.{month[:4]}: {format_number(Decimal(str(weight)), language, 2)}"
            for month, weight in sorted(value.items())
        )
    if isinstance(value, str) and value.replace(".", "", 1).isdigit():
        return display_number(Decimal(value))
    return str(value)


def changed_labels(changes: dict[str, Any]) -> list[str]:
    labels = input_labels()
    seen: list[str] = []
    for key in changes:
        label = labels.get("funnel_name" if key == "funnel" else key, key)
        if label not in seen:
            seen.append(label)
    return seen


def input_rows(inputs: dict[str, Any], currency: str) -> list[tuple[str, str]]:
    labels = input_labels()
    return [
        (labels[key], input_text(key, inputs.get(key), currency)) for key in labels if key in inputs
    ]


def version_rows(versions: Iterable[PlanVersion]) -> list[dict[str, Any]]:
    """Who saved each version, when, and which inputs it changed."""
    return [
        {
            "version": version,
            "who": (
                version.created_by.get_full_name() or version.created_by.email
                if version.created_by
                else "—"
            ),
            "changed": changed_labels(version.changes) if version.number > 1 else [],
        }
        for version in versions
    ]


def changed_inputs(
    first: dict[str, Any], second: dict[str, Any], currency: str
) -> list[dict[str, str]]:
    """The inputs two versions differ in, as read: compared as text, so "50000" in one version
    and "50000.00" in another are the same amount."""
    rows = []
    for key, label in input_labels().items():
        a_text = input_text(key, first.get(key), currency)
        b_text = input_text(key, second.get(key), currency)
        if a_text != b_text:
            rows.append({"label": label, "a": a_text, "b": b_text})
    return rows

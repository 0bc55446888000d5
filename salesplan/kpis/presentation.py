"""Role KPIs for people: labels, notes and warnings in the user's language; a scheme's and a
scorecard's JSON (the API's body and the pages' data come from the same functions)."""

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from salesplan.kpis.bonus import KPI_CATALOG, scheme_warnings
from salesplan.kpis.models import KpiScheme
from salesplan.kpis.selectors import Scorecard, curve_of
from salesplan.planning import Finding

NOTES = {
    "no_plan": _("No plan for this KPI in the month (no monthly plan, or no share of it)."),
    "no_actual": _("Nothing to compare yet: no figures for the month."),
    "no_last_year": _("No revenue in the same month last year: growth has no plan."),
}


def kpi_label(code: str) -> str:
    meta = KPI_CATALOG.get(code)
    return gettext(meta.label) if meta else code


def warning_text(finding: Finding) -> str:
    params: dict[str, Any] = dict(finding.params)
    if "metrics" in params:
        params["metrics"] = ", ".join(
            kpi_label(code) for code in str(params["metrics"]).split(", ") if code
        )
    return gettext(finding.message).format(**params)


def warnings_of(scheme: KpiScheme) -> list[dict[str, str]]:
    """The scheme's warnings (the pie's findings style): code, severity, text."""
    metrics = [item.metric for item in scheme.items.all()]
    return [
        {"code": f.code, "severity": f.severity, "text": warning_text(f)}
        for f in scheme_warnings(scheme.role, metrics)
    ]


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def scheme_data(scheme: KpiScheme) -> dict[str, Any]:
    items = list(scheme.items.all())
    return {
        "id": scheme.pk,
        "role": scheme.role,
        "role_name": str(scheme.get_role_display()),
        "items": [
            {
                "metric": item.metric,
                "name": kpi_label(item.metric),
                "weight": _plain(item.weight),
                "target": _plain(item.target),
                "lower_is_better": KPI_CATALOG[item.metric].lower_is_better,
            }
            for item in items
        ],
        "weights_total": _plain(sum((item.weight for item in items), Decimal(0))),
        "payout_curve": [
            {"fulfilment": _plain(p.fulfilment), "payout": _plain(p.payout)}
            for p in curve_of(scheme)
        ],
        "warnings": warnings_of(scheme),
        "version": scheme.version,
        "updated_at": scheme.updated_at,
    }


def scorecard_data(card: Scorecard) -> dict[str, Any]:
    score = card.score
    return {
        "member": card.member.pk,
        "member_name": card.member.display_name,
        "period": card.period.strftime("%Y-%m"),
        "role": card.role,
        "plan": card.plan.pk if card.plan else None,
        "day": card.day,
        "currency": card.currency,
        "base_bonus": _plain(score.base_bonus),
        "bonus_to_date": _plain(score.bonus_to_date),
        "bonus_forecast": _plain(score.bonus_forecast),
        "kpis": [
            {
                "metric": line.metric,
                "name": kpi_label(line.metric),
                "weight": _plain(line.weight),
                "lower_is_better": line.lower_is_better,
                "plan": _plain(line.plan),
                "actual": _plain(line.actual),
                "forecast": _plain(line.forecast),
                "fulfilment": _plain(line.fulfilment),
                "payout": _plain(line.payout),
                "fulfilment_forecast": _plain(line.fulfilment_forecast),
                "payout_forecast": _plain(line.payout_forecast),
                "note": str(NOTES[card.notes[line.metric]]) if line.metric in card.notes else "",
            }
            for line in score.lines
        ],
        "given_deals": [
            {
                "payment": deal.payment_id,
                "head_name": deal.head_name,
                "amount": _plain(deal.amount),
                "gross_margin": _plain(deal.gross_margin),
                "is_new_client": deal.is_new_client,
                "chosen_at": deal.chosen_at,
            }
            for deal in card.given
        ],
        "growth": {key: _plain(value) for key, value in card.growth.items()} or None,
    }

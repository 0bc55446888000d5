"""Plotly figures of the funnel dashboard, as JSON-ready dicts (drawn by static/js/charts.js as
the plan's figures are: salesplan/plans/charts.py). User text goes through `chart_text`; each
figure has a table beside it on the page as its text alternative."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext

from salesplan.output import chart_text
from salesplan.plans import charts as plan_charts

PLAN = "#9aa4b2"
ACTUAL = plan_charts.BRAND
FORECAST = plan_charts.PAID


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def funnel_plan_vs_fact(stages: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Plan to date and actual to date of every stage, top of the funnel first (the
    department's stored rows)."""
    names = [chart_text(stage["name"]) for stage in stages]
    traces = [
        {
            "type": "funnel",
            "name": gettext("Plan to date"),
            "y": names,
            "x": [_number(stage["plan_to_date"]) for stage in stages],
            "textinfo": "value",
            "marker": {"color": PLAN},
            "hovertemplate": "%{y}: %{x:,.0f}<extra>" + gettext("Plan to date") + "</extra>",
        },
        {
            "type": "funnel",
            "name": gettext("Actual"),
            "y": names,
            "x": [_number(stage["actual_to_date"]) for stage in stages],
            "textinfo": "value",
            "marker": {"color": ACTUAL},
            "hovertemplate": "%{y}: %{x:,.0f}<extra>" + gettext("Actual") + "</extra>",
        },
    ]
    return plan_charts.figure(
        traces,
        yaxis={"automargin": True},
        funnelmode="group",
        legend={"orientation": "h", "y": -0.1},
    )


def revenue_burn_up(
    points: Sequence[dict[str, Any]], *, period_end: date, target: Decimal | None
) -> dict[str, Any]:
    """Cumulative revenue per day: plan to date, actual and, from the last stored day to the
    period's end, the forecast (the run rate the recompute stored)."""
    days = [point["day"].isoformat() for point in points]
    traces: list[dict[str, Any]] = []
    plan_days, plan_values = list(days), [_number(p["plan_to_date"]) for p in points]
    if target is not None and points and points[-1]["day"] < period_end:
        plan_days.append(period_end.isoformat())
        plan_values.append(float(target))
    traces.append(
        {
            "type": "scatter",
            "x": plan_days,
            "y": plan_values,
            "name": gettext("Plan to date"),
            "mode": "lines",
            "line": {"color": PLAN, "width": 2, "dash": "dot"},
        }
    )
    traces.append(
        {
            "type": "scatter",
            "x": days,
            "y": [_number(p["actual_to_date"]) for p in points],
            "name": gettext("Actual"),
            "mode": "lines+markers",
            "line": {"color": ACTUAL, "width": 3},
            "marker": {"size": 4},
        }
    )
    last = points[-1] if points else None
    if last is not None and last["forecast"] is not None and last["actual_to_date"] is not None:
        traces.append(
            {
                "type": "scatter",
                "x": [last["day"].isoformat(), period_end.isoformat()],
                "y": [float(last["actual_to_date"]), float(last["forecast"])],
                "name": gettext("Forecast"),
                "mode": "lines+markers",
                "line": {"color": FORECAST, "width": 2, "dash": "dash"},
                "marker": {"size": 6},
            }
        )
    return plan_charts.figure(
        traces,
        xaxis={"type": "date", "tickformat": "%d.%m"},
        yaxis={"rangemode": "tozero", "tickformat": ",.0f", "automargin": True},
        legend={"orientation": "h", "y": -0.2},
        hovermode="x unified",
    )


def gap_waterfall_by_owner(factors: Sequence[dict[str, Any]], gap: Decimal) -> dict[str, Any]:
    """The revenue gap as a waterfall with a bar per factor and owner (the stored shares of
    selectors.plan_attribution: they add up to the gap), then the gap itself."""
    labels: list[str] = []
    values: list[float] = []
    nobody = gettext("nobody on the pie")
    for factor in factors:
        for part in factor["owners"]:
            owner = part["owner"]["name"] if part["owner"] else nobody
            # Two lines (the factor, then its owner): the labels stay narrow on a phone.
            labels.append(f"{chart_text(factor['name'])}<br>{chart_text(owner)}")
            values.append(float(part["contribution"]))
    trace = {
        "type": "waterfall",
        "orientation": "h",
        "y": [*labels, gettext("Gap")],
        "x": [*values, float(gap)],
        "measure": ["relative"] * len(values) + ["total"],
        "increasing": {"marker": {"color": plan_charts.KEY_STAGE}},
        "decreasing": {"marker": {"color": plan_charts.BEHIND}},
        "totals": {"marker": {"color": plan_charts.INK}},
        "connector": {"line": {"color": "#cfd4dc"}},
        "hovertemplate": "%{y}: %{x:,.0f}<extra></extra>",
    }
    return plan_charts.figure(
        [trace],
        showlegend=False,
        height=max(plan_charts.CHART_HEIGHT, 48 * (len(labels) + 1)),
        yaxis={"type": "category", "automargin": True, "autorange": "reversed"},
        xaxis={"tickformat": ",.0f", "zeroline": True, "automargin": True},
    )

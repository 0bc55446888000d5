"""Plotly figures of the marketer's page, as JSON-ready dicts (drawn by static/js/charts.js,
like salesplan/plans/charts.py's). Each has a table beside it on the page, its text
alternative; user text (a channel, a reason) goes through `salesplan.output.chart_text`.

The figures are written as plain dicts of Plotly's JSON schema, not built with
`plotly.graph_objects`: a `go.Figure` validates every property and its "plotly_white"
template on each build (~0.2 s a figure, most of the page's time); the template is expanded
once per process here instead (`_template`)."""

import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext

from salesplan.dashboards.marketing_data import MarketingFigures
from salesplan.output import chart_text
from salesplan.plans.charts import BEHIND, BRAND, CHART_HEIGHT, INK, KEY_STAGE, _layout

TEMPLATE = "plotly_white"  # the app's charts' look (salesplan/plans/charts.py)


@cache
def _template() -> dict[str, Any]:
    """Plotly's named template as plotly.js takes it (a dict; the browser knows no names)."""
    import plotly.io as pio
    from plotly.io.json import to_json_plotly

    return json.loads(to_json_plotly(pio.templates[TEMPLATE].to_plotly_json()))


def _figure(data: list[dict[str, Any]], **layout: Any) -> dict[str, Any]:
    """A figure: the traces and the app's layout (salesplan.plans.charts._layout), its template
    expanded."""
    return {"data": data, "layout": _layout(**layout) | {"template": _template()}}


PLANNED = "#9aa4b8"  # the plan in grey beside the actual in colour
UNQUALIFIED = "#cfd4dc"


def _count_axis(values: Sequence[int]) -> dict[str, Any]:
    """An axis of whole counts: no 0.5 ticks when the counts are small."""
    axis: dict[str, Any] = {"rangemode": "tozero", "tickformat": ",d"}
    if max(values, default=0) <= 10:
        axis["dtick"] = 1
    return axis


def _bars_height(bars: int) -> int:
    """A horizontal bar chart as tall as its bars need (a legend and an axis besides), at most
    the app's chart height: two reasons do not make two 130-px bars."""
    return min(CHART_HEIGHT, 120 + 40 * bars)


def _week_label(row: Mapping[str, Any]) -> str:
    return f"{date_format(row['week'], 'd.m')}–{date_format(row['week_end'], 'd.m')}"


def weeks_chart(figures: MarketingFigures) -> dict[str, Any]:
    """Leads and target leads per week, planned beside actual."""
    labels = [_week_label(row) for row in figures.weeks]
    data = [
        {
            "type": "bar",
            "x": labels,
            "y": [row[key] for row in figures.weeks],
            "name": name,
            "marker": {"color": color},
        }
        for key, name, color in (
            ("planned_leads", gettext("Leads planned"), PLANNED),
            ("leads", gettext("Leads"), BRAND),
            ("planned_target_leads", gettext("Target leads planned"), UNQUALIFIED),
            ("target_leads", gettext("Target leads"), KEY_STAGE),
        )
    ]
    return _figure(
        data,
        barmode="group",
        xaxis={"type": "category"},
        yaxis=_count_axis(
            [row[key] for row in figures.weeks for key in ("planned_leads", "leads")]
        ),
        legend={"orientation": "h", "y": -0.2},
    )


def channels_chart(figures: MarketingFigures, labels: Sequence[str]) -> dict[str, Any]:
    """Each channel's leads (channels with none left out: their calls are in the table):
    target, non-target and not qualified yet, stacked."""
    pairs = [
        (label, row) for label, row in zip(labels, figures.channels, strict=True) if row["leads"]
    ]
    names = [chart_text(label) for label, _ in pairs]
    rows = [row for _, row in pairs]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "y": names,
            "x": [row[key] for row in rows],
            "name": name,
            "marker": {"color": color},
        }
        for key, name, color in (
            ("target_leads", gettext("Target leads"), KEY_STAGE),
            ("non_target_leads", gettext("Non-target leads"), BEHIND),
            ("not_qualified", gettext("Not qualified yet"), UNQUALIFIED),
        )
    ]
    return _figure(
        data,
        barmode="stack",
        yaxis={"type": "category", "automargin": True, "autorange": "reversed"},
        xaxis=_count_axis([row["leads"] for row in rows]),
        legend={"orientation": "h", "y": -0.2},
        height=_bars_height(len(rows)),
    )


def _money(value: Any) -> float | None:
    return None if value is None else float(value)


def spend_chart(figures: MarketingFigures) -> dict[str, Any]:
    """Cumulative spend against the cumulative budget, week by week."""
    labels = [_week_label(row) for row in figures.weeks]
    data = []
    if figures.plan.budget is not None:
        data.append(
            {
                "type": "scatter",
                "x": labels,
                "y": [_money(row["cumulative_budget"]) for row in figures.weeks],
                "name": gettext("Budget, cumulative"),
                "mode": "lines+markers",
                "line": {"color": PLANNED, "dash": "dash"},
            }
        )
    data.append(
        {
            "type": "scatter",
            "x": labels,
            "y": [_money(row["cumulative_spend"]) for row in figures.weeks],
            "name": gettext("Spend, cumulative"),
            "mode": "lines+markers",
            "line": {"color": INK},
        }
    )
    return _figure(
        data,
        xaxis={"type": "category"},
        yaxis={"rangemode": "tozero", "tickformat": ",.0f"},
        legend={"orientation": "h", "y": -0.2},
    )


def reasons_chart(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Non-target leads by reason, the most frequent on top."""
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "y": [chart_text(row["reason"]) for row in rows],
            "x": [row["leads"] for row in rows],
            "marker": {"color": BEHIND},
            "hovertemplate": "%{y}: %{x}<extra></extra>",
        }
    ]
    return _figure(
        data,
        showlegend=False,
        yaxis={"type": "category", "automargin": True, "autorange": "reversed"},
        xaxis=_count_axis([row["leads"] for row in rows]),
        height=_bars_height(len(rows)),
    )


def charts(
    figures: MarketingFigures, channel_labels: Sequence[str], reason_rows: Sequence[Mapping]
) -> dict[str, dict[str, Any]]:
    """The page's figures by name; a chart with nothing to draw is left out."""
    out = {"weeks": weeks_chart(figures), "spend": spend_chart(figures)}
    if any(row["leads"] for row in figures.channels):
        out["channels"] = channels_chart(figures, channel_labels)
    if reason_rows:
        out["reasons"] = reasons_chart(reason_rows)
    return out

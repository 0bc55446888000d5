"""Plotly figures of the marketer's page, as JSON-ready dicts (drawn by static/js/charts.js,
like salesplan/plans/charts.py's). Each has a table beside it on the page, its text
alternative; user text (a channel, a reason) goes through `salesplan.output.chart_text`."""

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from django.utils.formats import date_format
from django.utils.translation import gettext

from salesplan.dashboards.marketing_data import MarketingFigures
from salesplan.output import chart_text
from salesplan.plans.charts import BEHIND, BRAND, CHART_HEIGHT, INK, KEY_STAGE, _as_dict, _layout

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
    figure = go.Figure()
    for key, name, color in (
        ("planned_leads", gettext("Leads planned"), PLANNED),
        ("leads", gettext("Leads"), BRAND),
        ("planned_target_leads", gettext("Target leads planned"), UNQUALIFIED),
        ("target_leads", gettext("Target leads"), KEY_STAGE),
    ):
        figure.add_bar(
            x=labels, y=[row[key] for row in figures.weeks], name=name, marker_color=color
        )
    figure.update_layout(
        **_layout(
            barmode="group",
            xaxis={"type": "category"},
            yaxis=_count_axis(
                [row[key] for row in figures.weeks for key in ("planned_leads", "leads")]
            ),
            legend={"orientation": "h", "y": -0.2},
        )
    )
    return _as_dict(figure)


def channels_chart(figures: MarketingFigures, labels: Sequence[str]) -> dict[str, Any]:
    """Each channel's leads (channels with none left out: their calls are in the table):
    target, non-target and not qualified yet, stacked."""
    pairs = [
        (label, row) for label, row in zip(labels, figures.channels, strict=True) if row["leads"]
    ]
    names = [chart_text(label) for label, _ in pairs]
    rows = [row for _, row in pairs]
    figure = go.Figure()
    for key, name, color in (
        ("target_leads", gettext("Target leads"), KEY_STAGE),
        ("non_target_leads", gettext("Non-target leads"), BEHIND),
        ("not_qualified", gettext("Not qualified yet"), UNQUALIFIED),
    ):
        figure.add_bar(
            y=names,
            x=[row[key] for row in rows],
            name=name,
            orientation="h",
            marker_color=color,
        )
    figure.update_layout(
        **_layout(
            barmode="stack",
            yaxis={"type": "category", "automargin": True, "autorange": "reversed"},
            xaxis=_count_axis([row["leads"] for row in rows]),
            legend={"orientation": "h", "y": -0.2},
            height=_bars_height(len(rows)),
        )
    )
    return _as_dict(figure)


def spend_chart(figures: MarketingFigures) -> dict[str, Any]:
    """Cumulative spend against the cumulative budget, week by week."""
    labels = [_week_label(row) for row in figures.weeks]
    figure = go.Figure()
    if figures.plan.budget is not None:
        figure.add_scatter(
            x=labels,
            y=[float(row["cumulative_budget"]) for row in figures.weeks],
            name=gettext("Budget, cumulative"),
            mode="lines+markers",
            line={"color": PLANNED, "dash": "dash"},
        )
    figure.add_scatter(
        x=labels,
        y=[float(row["cumulative_spend"]) for row in figures.weeks],
        name=gettext("Spend, cumulative"),
        mode="lines+markers",
        line={"color": INK},
    )
    figure.update_layout(
        **_layout(
            xaxis={"type": "category"},
            yaxis={"rangemode": "tozero", "tickformat": ",.0f"},
            legend={"orientation": "h", "y": -0.2},
        )
    )
    return _as_dict(figure)


def reasons_chart(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Non-target leads by reason, the most frequent on top."""
    figure = go.Figure(
        go.Bar(
            y=[chart_text(row["reason"]) for row in rows],
            x=[row["leads"] for row in rows],
            orientation="h",
            marker_color=BEHIND,
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    figure.update_layout(
        **_layout(
            showlegend=False,
            yaxis={"type": "category", "automargin": True, "autorange": "reversed"},
            xaxis=_count_axis([row["leads"] for row in rows]),
            height=_bars_height(len(rows)),
        )
    )
    return _as_dict(figure)


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

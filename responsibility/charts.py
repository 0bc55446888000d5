"""The responsibility pie as a Plotly sunburst: owners → their metrics → the team split.
Plotly renders HTML in labels: people's and metrics' names go through `chart_text`."""

import json
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

from salesplan.output import chart_text

CATEGORY_COLOURS = {"marketing": "#f79009", "sales": "#2f5bea", "management": "#12805c"}
ROLE_COLOURS = {
    "owner": "#344054",
    "head_of_sales": "#12805c",
    "salesperson": "#2f5bea",
    "marketer": "#f79009",
    "viewer": "#98a2b3",
}


def pie_sunburst(tree: dict[str, Any], role_labels: dict[str, str]) -> str:
    """The figure as JSON for Plotly.newPlot; slice sizes are the metrics' weights."""
    ids: list[str] = []
    labels: list[str] = []
    parents: list[str] = []
    values: list[float] = []
    colours: list[str] = []
    hover: list[str] = []
    for owner in tree["owners"]:
        owner_id = f"o{owner['membership']}"
        ids.append(owner_id)
        labels.append(chart_text(owner["name"]))
        parents.append("")
        values.append(float(owner["weight"]))
        colours.append(ROLE_COLOURS.get(owner["role"], "#667085"))
        hover.append(role_labels.get(owner["role"], owner["role"]))
        for metric in owner["metrics"]:
            metric_id = f"{owner_id}/r{metric['responsibility']}"
            ids.append(metric_id)
            labels.append(chart_text(metric["name"]))
            parents.append(owner_id)
            values.append(float(metric["weight"]))
            colours.append(CATEGORY_COLOURS.get(metric["category"], "#98a2b3"))
            hover.append(chart_text(metric["planned_value"] or "—"))
            split = metric["split"]
            total = sum((Decimal(item["share"]) for item in split), Decimal(0))
            # A split that adds up to more than 100 % is drawn scaled (the findings say so).
            scale = Decimal(1) / total if total > 1 else Decimal(1)
            for item in split:
                ids.append(f"{metric_id}/r{item['responsibility']}")
                labels.append(chart_text(item["name"]))
                parents.append(metric_id)
                values.append(float(Decimal(metric["weight"]) * Decimal(item["share"]) * scale))
                colours.append("#d0d5dd")
                hover.append(f"{(Decimal(item['share']) * 100).normalize():f} %")
    figure = go.Figure(
        go.Sunburst(
            ids=ids,
            labels=labels,
            parents=parents,
            values=values,
            branchvalues="total",
            marker={"colors": colours, "line": {"color": "#fff", "width": 1}},
            hovertext=hover,
            hovertemplate="<b>%{label}</b><br>%{hovertext}<extra></extra>",
            insidetextorientation="radial",
            maxdepth=2,  # owners and metrics; click a metric to see its team split
        )
    )
    figure.update_layout(margin={"t": 8, "l": 8, "r": 8, "b": 8}, height=520)
    return json.dumps(figure.to_plotly_json(), default=str)

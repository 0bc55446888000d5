"""The responsibility pie as a Plotly sunburst: owners → their metrics → the team split, each
metric and slice coloured by its stored status (responsibility.selectors.pie_page).
Plotly renders HTML in labels: people's and metrics' names go through `chart_text`."""

import json
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

from salesplan.output import chart_text

# A status's colour on the chart and in the legend; the status is always written beside it
# too (the table, the legend, the hover), never told by colour alone.
STATUS_COLOURS = {
    "on_track": "#12805c",  # green
    "at_risk": "#f79009",  # amber
    "slipped": "#d92d20",  # red
    "not_started": "#98a2b3",  # grey
    "not_assessed": "#98a2b3",
    "not_computed": "#e4e7ec",  # light grey: no stored row yet
}
OWNER_COLOUR = "#344054"  # the owners' ring: neutral, so colour means a status only
# Readable at 1366 px: no label below this size; a sector too small for it shows none (the
# table beside the chart names every metric).
LABEL_MIN_PX = 12
LABEL_PX = 14


def _json(figure: go.Figure) -> str:
    """The figure as JSON that is safe inside a <script> element (as Django's json_script)."""
    text = json.dumps(figure.to_plotly_json(), default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _metric_label(name: str) -> str:
    """A stage metric's name on two lines ("Stage volume:<br>Meeting held"): it fits a slice."""
    return chart_text(name).replace(": ", ":<br>", 1)


def pie_sunburst(
    tree: dict[str, Any],
    role_labels: dict[str, str],
    status_labels: dict[str, str] | None = None,
) -> str:
    """The figure as JSON for Plotly.newPlot; slice sizes are the metrics' weights."""
    status_labels = status_labels or {}
    ids: list[str] = []
    labels: list[str] = []
    parents: list[str] = []
    values: list[float] = []
    colours: list[str] = []
    hover: list[str] = []

    def status_of(item: dict[str, Any]) -> str:
        status = item.get("status", "not_computed")
        return status if status in STATUS_COLOURS else "not_computed"

    for owner in tree["owners"]:
        owner_id = f"o{owner['membership']}"
        ids.append(owner_id)
        labels.append(chart_text(owner["name"]))
        parents.append("")
        values.append(float(owner["weight"]))
        colours.append(OWNER_COLOUR)
        hover.append(chart_text(role_labels.get(owner["role"], owner["role"])))
        for metric in owner["metrics"]:
            metric_id = f"{owner_id}/r{metric['responsibility']}"
            status = status_of(metric)
            ids.append(metric_id)
            labels.append(_metric_label(metric["name"]))
            parents.append(owner_id)
            values.append(float(metric["weight"]))
            colours.append(STATUS_COLOURS[status])
            hover.append(chart_text(status_labels.get(status, status)))
            split = metric["split"]
            total = sum((Decimal(item["share"]) for item in split), Decimal(0))
            # A split that adds up to more than 100 % is drawn scaled (the findings say so).
            scale = Decimal(1) / total if total > 1 else Decimal(1)
            for item in split:
                item_status = status_of(item)
                ids.append(f"{metric_id}/r{item['responsibility']}")
                labels.append(chart_text(item["name"]))
                parents.append(metric_id)
                values.append(float(Decimal(metric["weight"]) * Decimal(item["share"]) * scale))
                colours.append(STATUS_COLOURS[item_status])
                share = f"{(Decimal(item['share']) * 100).normalize():f} %"
                hover.append(f"{share} · {chart_text(status_labels.get(item_status, item_status))}")
    figure = go.Figure(
        go.Sunburst(
            ids=ids,
            labels=labels,
            parents=parents,
            values=values,
            branchvalues="total",
            marker={"colors": colours, "line": {"color": "#fff", "width": 2}},
            leaf={"opacity": 1},  # Plotly fades leaves to 0.7: a status is one colour
            hovertext=hover,
            hovertemplate="<b>%{label}</b><br>%{hovertext}<extra></extra>",
            textinfo="label",
            insidetextorientation="auto",
            insidetextfont={"size": LABEL_PX},
            outsidetextfont={"size": LABEL_PX},
            maxdepth=2,  # owners and metrics; click a metric to see its team split
        )
    )
    # No height here: static/css/pie.css sizes the chart (520 px, as wide as a phone on one)
    # and Plotly fills its box.
    figure.update_layout(
        margin={"t": 8, "l": 8, "r": 8, "b": 8},
        autosize=True,
        uniformtext={"minsize": LABEL_MIN_PX, "mode": "hide"},
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"},
    )
    return _json(figure)

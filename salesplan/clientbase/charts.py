"""The client base's Plotly figure, as a JSON-ready dict (drawn by static/js/charts.js like
the dashboards' figures: salesplan/dashboards/charts.py). User text goes through `chart_text`;
the rate table beside it on the page is its text alternative."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from salesplan.clientbase.models import RateKind
from salesplan.clientbase.selectors import RateLine
from salesplan.output import chart_text
from salesplan.plans import charts as plan_charts


def refusal_rate_chart(months: Sequence[date], lines: Sequence[RateLine]) -> dict[str, Any]:
    """The refusal rate (lost ÷ closed) of each month: the department's bold, each
    salesperson's thin; a month with nothing closed is a gap, not a zero."""
    x = [month.strftime("%m.%Y") for month in months]
    traces = []
    for line in lines:
        if line.kind == RateKind.SEGMENT:
            continue  # the table has the segments; the chart stays readable
        department = line.kind == RateKind.DEPARTMENT
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": x,
                "y": [
                    None if cell is None or cell.rate is None else float(cell.rate * 100)
                    for cell in line.cells
                ],
                "name": chart_text(line.label),
                "connectgaps": False,
                "line": {
                    "width": 3 if department else 1.5,
                    **({"color": plan_charts.INK} if department else {}),
                },
                "hovertemplate": "%{x}: %{y:.1f} %<extra>" + chart_text(line.label) + "</extra>",
            }
        )
    return plan_charts.figure(
        traces,
        yaxis={"rangemode": "tozero", "ticksuffix": " %", "automargin": True},
        xaxis={"type": "category"},
        legend={"orientation": "h", "y": -0.15},
    )

"""Plotly figures of a plan's decomposition, as JSON-ready dicts.

The page renders them with the vendored partial bundle of plotly.js (static/vendor/, no CDN):
a figure goes into the page through `json_script` and static/js/charts.js draws it. Plotly
renders HTML in labels: every user text (a stage's name) goes through
`salesplan.output.chart_text`.
"""

import json
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from itertools import accumulate
from typing import Any

from django.utils.translation import get_language, gettext

from salesplan.formatting import NBSP
from salesplan.output import chart_text
from salesplan.planning import Decomposition

BRAND = "#2f5bea"
KEY_STAGE = "#12805c"
PAID = "#f79009"
INK = "#1d2433"
CHART_HEIGHT = 340


def _separators() -> str:
    """Plotly's decimal and thousands separators in the user's language: Russian groups with
    the no-break space our pages use (salesplan.formatting), so an axis reads `10 000,5`."""
    return ".," if (get_language() or "ru").startswith("en") else "," + NBSP


def _layout(**extra: Any) -> dict[str, Any]:
    return {
        "template": "plotly_white",
        "height": CHART_HEIGHT,
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "separators": _separators(),
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
        **extra,
    }


def _count_step(maximum: int, ticks: int = 6) -> int:
    """A whole tick step (1, 2, 5, 10, 20, 50, …) giving at most `ticks` steps up to `maximum`:
    a count axis never reads "0, 1, 1, 2, 2, 3" (Plotly's half steps printed as whole numbers)."""
    step = 1
    while maximum > step * ticks:
        for factor in (2, 5, 10):
            if maximum <= step * factor * ticks:
                return step * factor
        step *= 10
    return step


@lru_cache(maxsize=1)
def _template() -> dict[str, Any]:
    """The plotly_white template as plotly.js takes it (a dict: the browser knows no names),
    expanded once a process."""
    import plotly.io as pio

    return json.loads(figure_json(pio.templates["plotly_white"].to_plotly_json()))


def figure_json(value: Any) -> str:
    """Plotly's own JSON encoder (numpy values, dates)."""
    from plotly.io.json import to_json_plotly

    return to_json_plotly(value)


def figure(traces: list[dict[str, Any]], **layout: Any) -> dict[str, Any]:
    """A figure as plain dicts, the app's layout and its template expanded: what
    `go.Figure(...).to_json()` gives, without plotly.graph_objects validating every
    property on every request (~0.5 s of CPU for the funnel dashboard's three charts at
    1,000,000 leads)."""
    return {"data": traces, "layout": _layout(**layout) | {"template": _template()}}


def funnel_chart(decomposition: Decomposition) -> dict[str, Any]:
    """Required volume of every stage, top of the funnel first; the key stage stands out."""
    stages = decomposition.stages
    trace = {
        "type": "funnel",
        "y": [chart_text(stage.name) for stage in stages],
        "x": [stage.required for stage in stages],
        "textinfo": "value",
        "marker": {"color": [KEY_STAGE if stage.is_key_stage else BRAND for stage in stages]},
        "hovertemplate": "%{y}: %{x}<extra></extra>",
    }
    return figure([trace], yaxis={"automargin": True})


def daily_chart(decomposition: Decomposition) -> dict[str, Any]:
    """The plan of every working day: key-stage meetings and paid deals side by side (grouped,
    not stacked: a bar's height is its own stage's count, both counts on one scale), with the
    cumulative plan-to-date of paid deals (DOMAIN 3, plan-to-date) on the right axis."""
    days = [day for day in decomposition.by_day if day.is_working_day]
    labels = [day.date.strftime("%d.%m") for day in days]
    key_stage = next(stage for stage in decomposition.stages if stage.is_key_stage)
    paid = decomposition.stages[-1]
    traces: list[dict[str, Any]] = [
        {
            "type": "bar",
            "x": labels,
            "y": [day.stages[key_stage.name] for day in days],
            "name": chart_text(key_stage.name),
            "marker": {"color": KEY_STAGE},
        }
    ]
    if paid.name != key_stage.name:
        traces.append(
            {
                "type": "bar",
                "x": labels,
                "y": [day.stages[paid.name] for day in days],
                "name": chart_text(paid.name),
                "marker": {"color": PAID},
            }
        )
    cumulative = list(accumulate(day.stages[paid.name] for day in days))
    daily_max = max(
        (max(day.stages[key_stage.name], day.stages[paid.name]) for day in days), default=0
    )
    traces.append(
        {
            "type": "scatter",
            "x": labels,
            "y": cumulative,
            "name": gettext("%(stage)s, plan to date") % {"stage": chart_text(paid.name)},
            "mode": "lines+markers",
            "line": {"color": INK, "width": 2},
            "marker": {"size": 4},
            "yaxis": "y2",
        }
    )
    return figure(
        traces,
        barmode="group",
        bargap=0.25,
        xaxis={"type": "category", "tickangle": -45},
        yaxis={
            "title": {"text": gettext("per working day")},
            "rangemode": "tozero",
            "tickformat": ",d",
            "dtick": _count_step(daily_max),
        },
        yaxis2={
            "title": {"text": gettext("cumulative")},
            "tickformat": ",d",
            "dtick": _count_step(cumulative[-1] if cumulative else 0),
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
        },
        legend={"orientation": "h", "y": -0.25},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
    )


BEHIND = "#c4320a"  # the stylesheet's --bad


def gap_waterfall(factors: Sequence[dict[str, Any]], gap: Decimal) -> dict[str, Any]:
    """The revenue gap to date as a waterfall: each factor's contribution (from
    selectors.plan_attribution, stored by the recompute; they add up to the gap to the
    kopeck), then the gap itself. The page's table beside it is the text alternative."""
    names = [chart_text(factor["name"]) for factor in factors]
    # Horizontal: the factors' names (a conversion names two stages) read without tilting.
    trace = {
        "type": "waterfall",
        "orientation": "h",
        "y": [*names, gettext("Gap")],
        "x": [float(factor["contribution"]) for factor in factors] + [float(gap)],
        "measure": ["relative"] * len(factors) + ["total"],
        "increasing": {"marker": {"color": KEY_STAGE}},
        "decreasing": {"marker": {"color": BEHIND}},
        "totals": {"marker": {"color": INK}},
        "connector": {"line": {"color": "#cfd4dc"}},
        "hovertemplate": "%{y}: %{x:,.0f}<extra></extra>",
    }
    return figure(
        [trace],
        showlegend=False,
        yaxis={"type": "category", "automargin": True, "autorange": "reversed"},
        xaxis={"tickformat": ",.0f", "zeroline": True, "automargin": True},
    )

"""The owner's roll-up (issue 12): every team's current plan with its revenue plan to date,
actual, forecast and status as the recompute stored them, the health of its responsibility
pie (the pie page's findings, its unowned metrics), and the month's forecast; a bar chart of
plan vs forecast per plan with the table as its text alternative. Six queries whatever the
number of plans."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext, gettext_lazy

from salesplan.access import require_membership
from salesplan.dashboards import roles_data
from salesplan.figures import cached_page
from salesplan.models import Membership, Role
from salesplan.output import chart_text
from salesplan.plans.charts import BRAND, INK, figure
from salesplan.tables import Column, Table, export_response

# The owner sees every team; a head of sales their own teams; the viewer reads everything.
OVERVIEW_ROLES = frozenset({Role.OWNER, Role.HEAD_OF_SALES, Role.VIEWER})

COLUMNS = (
    Column("plan", gettext_lazy("Plan")),
    Column("team", gettext_lazy("Team")),
    Column("day", gettext_lazy("To date"), "date"),
    Column("planned", gettext_lazy("Revenue plan"), "money"),
    Column("plan_to_date", gettext_lazy("Plan to date"), "money"),
    Column("actual_to_date", gettext_lazy("Actual"), "money"),
    Column("forecast", gettext_lazy("Forecast"), "money"),
    Column("status", gettext_lazy("Status")),
    Column("findings", gettext_lazy("Findings on the pie"), "int"),
    Column("unowned", gettext_lazy("Metrics with no owner"), "int"),
)


def _may_see(member: Membership) -> bool:
    return member.role in OVERVIEW_ROLES


def _table(rows: Sequence[roles_data.RollupRow]) -> Table:
    return Table(
        "plans",
        gettext("Plans roll-up"),
        COLUMNS,
        [
            {
                "plan": row.plan.name,
                "team": row.team or gettext("Whole department"),
                "day": row.day,
                "planned": row.planned,
                "plan_to_date": row.plan_to_date,
                "actual_to_date": row.actual_to_date,
                "forecast": row.forecast,
                "status": row.status_label,
                "findings": row.health.findings,
                "unowned": row.health.unowned,
            }
            for row in rows
        ],
    )


def plan_vs_forecast_chart(rows: Sequence[roles_data.RollupRow]) -> dict[str, Any]:
    """Grouped bars per plan: the period's revenue plan and its stored forecast."""
    labels = [chart_text(row.plan.name) for row in rows]
    traces = [
        {
            "type": "bar",
            "x": labels,
            "y": [float(row.planned) if row.planned is not None else None for row in rows],
            "name": gettext("Revenue plan"),
            "marker": {"color": BRAND},
        },
        {
            "type": "bar",
            "x": labels,
            "y": [float(row.forecast) if row.forecast is not None else None for row in rows],
            "name": gettext("Forecast"),
            "marker": {"color": INK},
        },
    ]
    return figure(
        traces,
        barmode="group",
        xaxis={"type": "category", "automargin": True},
        yaxis={"tickformat": ",.0f", "rangemode": "tozero", "automargin": True},
        legend={"orientation": "h", "y": -0.2},
    )


@cached_page
def overview(request: HttpRequest) -> HttpResponse:
    member = require_membership(request)
    if not _may_see(member):
        raise PermissionDenied(gettext("The roll-up of every team is the owner's page."))
    day: date = timezone.localdate()
    rows = roles_data.rollup(member=member, day=day)
    table = _table(rows)
    if response := export_response(request, table):
        return response
    context = {
        "day": day,
        "month": formats.date_format(day, "F Y"),
        "rows": rows,
        "table": table,
        "total": roles_data.month_forecast(rows),
        "chart": plan_vs_forecast_chart(rows) if rows else None,
    }
    return render(request, "dashboards/overview.html", context)

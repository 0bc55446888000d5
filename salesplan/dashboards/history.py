"""A metric's history (issue 12): its stored plan to date against its actual to date on every
day of the plan's period so far, for the department or one owner (`?owner=`), as a line
chart with the table beside it (and its export). Access as the plan's page: another
organization's plan or metric is 404, a salesperson or marketer reads only the metrics they
hold, and a salesperson only their own rows. Four queries after the member's."""

from collections.abc import Sequence
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from metrics.models import PerformanceSnapshot, PerformanceStatus, PlanMetric
from salesplan.access import access_object, access_plan, require_membership
from salesplan.dashboards import roles_data
from salesplan.models import Membership, Role
from salesplan.plans.charts import BRAND, INK, figure
from salesplan.tables import Column, Kind, Table, export_response

UNIT_KINDS: dict[str, Kind] = {"money": "money", "percent": "percent", "count": "number"}


def _owner(member: Membership, text: str | None) -> tuple[Membership | None, str]:
    """The owner whose rows to show (None: the department), or why ?owner= was not used.
    A salesperson reads only their own rows: another person's are 404 to them."""
    if member.role == Role.SALESPERSON:
        if text not in (None, "", str(member.pk)):
            raise Http404("Not found")
        return member, ""
    if not text:
        return None, ""
    try:
        return roles_data.visible_members_of(member).get(pk=int(text)), ""
    except (ValueError, Membership.DoesNotExist):
        return None, gettext(
            "“%(text)s” is nobody in this organization: the department is shown."
        ) % {"text": text[:40]}


def _table(metric: PlanMetric, rows: Sequence[PerformanceSnapshot]) -> Table:
    kind = UNIT_KINDS.get(metric.unit, "number")
    return Table(
        "history",
        gettext("History: %(metric)s") % {"metric": metric.display_name},
        (
            Column("day", gettext_lazy("Day"), "date"),
            Column("plan_to_date", gettext_lazy("Plan to date"), kind),
            Column("actual_to_date", gettext_lazy("Actual to date"), kind),
            Column("forecast", gettext_lazy("Forecast"), kind),
            Column("gap", gettext_lazy("Gap"), kind),
            Column("status", gettext_lazy("Status")),
        ),
        [
            {
                "day": row.day,
                "plan_to_date": row.plan_to_date,
                "actual_to_date": row.actual_to_date,
                "forecast": row.forecast,
                "gap": row.gap,
                "status": str(PerformanceStatus(row.status).label),
            }
            for row in rows
        ],
    )


def history_chart(rows: Sequence[PerformanceSnapshot]) -> dict[str, Any]:
    """Plan to date and actual to date per day, two lines."""
    days = [row.day.isoformat() for row in rows]

    def values(name: str) -> list[float | None]:
        return [None if getattr(row, name) is None else float(getattr(row, name)) for row in rows]

    traces = [
        {
            "type": "scatter",
            "x": days,
            "y": values("plan_to_date"),
            "name": gettext("Plan to date"),
            "mode": "lines",
            "line": {"color": INK, "dash": "dash", "width": 2},
        },
        {
            "type": "scatter",
            "x": days,
            "y": values("actual_to_date"),
            "name": gettext("Actual to date"),
            "mode": "lines+markers",
            "line": {"color": BRAND, "width": 2},
            "marker": {"size": 5},
        },
    ]
    return figure(
        traces,
        xaxis={"type": "date", "tickformat": "%d.%m"},
        yaxis={"rangemode": "tozero", "automargin": True},
        legend={"orientation": "h", "y": -0.2},
    )


def metric_history(request: HttpRequest, plan_id: int, metric_id: int) -> HttpResponse:
    member = require_membership(request)
    plan = access_plan(member, plan_id)
    metric = access_object(member, PlanMetric.objects.filter(plan=plan), metric_id)
    owner, owner_error = _owner(member, request.GET.get("owner"))
    day = timezone.localdate()
    rows = roles_data.metric_history(plan=plan, metric=metric, owner=owner, day=day)
    table = _table(metric, rows)
    if response := export_response(request, table):
        return response
    context = {
        "plan": plan,
        "metric": metric,
        "owner": owner,
        "owner_error": owner_error,
        "owners": []
        if member.role == Role.SALESPERSON
        else roles_data.history_owners(plan, metric),
        "rows": rows,
        "table": table,
        "chart": history_chart(rows) if rows else None,
    }
    return render(request, "dashboards/history.html", context, status=400 if owner_error else 200)

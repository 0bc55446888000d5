"""The CRM discipline page (DOMAIN idea 8) and its table on the head of sales' dashboard: per
salesperson, leads without a next task, overdue tasks, tasks without a goal and calls without a
comment, as the discipline job last counted them (salesplan.dashboards.discipline_data), and the
offending leads, tasks and calls behind each figure, 50 a page. Owner and head of sales only
(a head of sales sees their teams)."""

from datetime import date
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext, gettext_lazy

from metrics.models import DisciplineItem, DisciplineKind
from salesplan.access import require_membership
from salesplan.dashboards import discipline_data
from salesplan.figures import cached_page
from salesplan.models import Membership
from salesplan.tables import Column, Table, export_response, query_with

ITEMS_PER_PAGE = 50
# An export of one person's list writes at most this many rows (a page shows 50).
MAX_EXPORTED_ITEMS = 10_000

SUMMARY_COLUMNS = (
    Column("name", gettext_lazy("Salesperson")),
    Column("leads_without_next_task", gettext_lazy("Leads without a next task"), "int"),
    Column("overdue_tasks", gettext_lazy("Overdue tasks"), "int"),
    Column("tasks_without_goal", gettext_lazy("Tasks without a goal"), "int"),
    Column("calls_without_comment", gettext_lazy("Calls without a comment"), "int"),
    Column("total", gettext_lazy("Total"), "int"),
)
ITEM_COLUMNS = (
    Column("lead", gettext_lazy("Lead")),
    Column("external_id", gettext_lazy("External id")),
    Column("what", gettext_lazy("Task or call")),
    Column("at", gettext_lazy("When"), "date"),
)


def summary_rows(table: discipline_data.DisciplineTable) -> list[dict[str, Any]]:
    return [{"name": row.name, **row.counts, "total": row.total} for row in table.rows]


def dashboard_context(member: Membership) -> dict[str, Any]:
    """What the head of sales' dashboard shows of discipline (its partial): nothing for a role
    that may not read it."""
    if not discipline_data.may_read_discipline(member):
        return {}
    return {"discipline": discipline_data.discipline_table(member)}


def _item_row(item: DisciplineItem) -> dict[str, Any]:
    lead = item.lead
    if item.task is not None:
        what = item.task.text if item.task.text else gettext("(no text)")
    elif item.call is not None:
        what = gettext("Call %(id)s") % {"id": item.call.external_id}
    else:
        what = ""
    return {
        "lead": (lead.name or lead.external_id) if lead else "",
        "external_id": lead.external_id if lead else "",
        "what": what,
        "at": item.at,
    }


def _day(text: str | None) -> tuple[date | None, str]:
    if not text:
        return None, ""
    try:
        return date.fromisoformat(text.strip()), ""
    except ValueError:
        return None, gettext(
            "The day %(day)s is not a date (YYYY-MM-DD): showing the last one."
        ) % {"day": text[:40]}  # echoed: as much as a date could be


@cached_page
def discipline(request: HttpRequest) -> HttpResponse:
    """?day=YYYY-MM-DD (the last day counted by default); ?member=<id>|none&kind=<kind>
    [&page=N]: that person's offending leads, tasks or calls from the latest run."""
    viewer = require_membership(request)
    discipline_data.require_reader(viewer)
    day, day_note = _day(request.GET.get("day"))
    table = discipline_data.discipline_table(viewer, day)
    summary = Table("discipline", gettext("CRM discipline"), SUMMARY_COLUMNS, summary_rows(table))
    context: dict[str, Any] = {
        "discipline": table,
        "notes": [day_note] if day_note else [],
        "kinds": DisciplineKind.choices,
    }
    tables = [summary]
    if "member" in request.GET:
        person = discipline_data.member_for(viewer, request.GET.get("member"))
        kind = request.GET.get("kind") or DisciplineKind.LEAD_WITHOUT_NEXT_TASK
        if kind not in DisciplineKind.values:
            kind = DisciplineKind.LEAD_WITHOUT_NEXT_TASK
            context["notes"].append(gettext("Unknown list: showing leads without a next task."))
        items = discipline_data.offending_items(viewer, person, kind)
        if request.GET.get("export"):
            rows = [_item_row(item) for item in items[:MAX_EXPORTED_ITEMS]]
            page = None
        else:
            page = Paginator(items, ITEMS_PER_PAGE).get_page(request.GET.get("page"))
            rows = [_item_row(item) for item in page]
        heading = f"{DisciplineKind(kind).label}: " + (
            person.display_name if person else gettext("Nobody responsible")
        )
        field = {k: f for f, k in discipline_data.COUNTS}[kind]
        row = next((r for r in table.rows if r.member == person), None)
        items_table = Table("items", heading, ITEM_COLUMNS, rows)
        context["list_total"] = row.counts[field] if row else 0
        tables.append(items_table)
        context.update(items=items_table, page=page, kind=kind, person=person, heading=heading)
        if page is not None and page.has_previous():
            context["previous_query"] = query_with(request, page=page.previous_page_number())
        if page is not None and page.has_next():
            context["next_query"] = query_with(request, page=page.next_page_number())
    if response := export_response(request, *tables):
        return response
    return render(request, "dashboards/discipline.html", context)

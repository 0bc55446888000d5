"""The funnel dashboard (issue 12), the head of sales' home: plan vs fact of a team's plan for a
period, read from what the recompute job stored (salesplan.dashboards.funnel_data), and the
leads behind any stage cell. Views only route and lay out; every read goes through
funnel_data and salesplan.access."""

from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext, gettext_lazy

from metrics.models import PerformanceStatus
from salesplan.access import access_plan, may_create_plans, require_membership, scoped
from salesplan.dashboards import charts, discipline, funnel_data
from salesplan.figures import cached_page
from salesplan.models import Membership, Role, SalesPlan
from salesplan.tables import Column, Table, export_response, query_with

LEADS_PER_PAGE = 50
# An export of a drill-down writes at most this many leads (the page shows 50 at a time; a
# meeting's spreadsheet of one cell is far smaller).
MAX_EXPORTED_LEADS = 10_000

STAGE_COLUMNS = (
    Column("name", gettext_lazy("Stage")),
    Column("plan_to_date", gettext_lazy("Plan to date"), "number"),
    Column("actual_to_date", gettext_lazy("Actual"), "number"),
    Column("forecast", gettext_lazy("Forecast"), "number"),
    Column("gap_fraction", gettext_lazy("Gap, %"), "percent"),
    Column("status_label", gettext_lazy("Status")),
)
BURN_UP_COLUMNS = (
    Column("day", gettext_lazy("Day"), "date"),
    Column("plan_to_date", gettext_lazy("Plan to date"), "money"),
    Column("actual_to_date", gettext_lazy("Actual"), "money"),
    Column("forecast", gettext_lazy("Forecast"), "money"),
)
PEOPLE_COLUMNS = (
    Column("person", gettext_lazy("Salesperson")),
    Column("name", gettext_lazy("Metric")),
    Column("plan_to_date", gettext_lazy("Plan to date"), "number"),
    Column("actual_to_date", gettext_lazy("Actual"), "number"),
    Column("forecast", gettext_lazy("Forecast"), "number"),
    Column("gap_fraction", gettext_lazy("Gap, %"), "percent"),
    Column("status_label", gettext_lazy("Status")),
)
ATTRIBUTION_COLUMNS = (
    Column("factor", gettext_lazy("Factor")),
    Column("owner", gettext_lazy("Owned by")),
    Column("contribution", gettext_lazy("Contribution"), "money"),
)
LEAD_COLUMNS = (
    Column("name", gettext_lazy("Lead")),
    Column("external_id", gettext_lazy("External id")),
    Column("company", gettext_lazy("Company")),
    Column("responsible", gettext_lazy("Responsible")),
    Column("reached_at", gettext_lazy("Reached the stage"), "date"),
)
PAYMENT_COLUMNS = (
    *LEAD_COLUMNS[:4],
    Column("amount", gettext_lazy("Amount"), "money"),
    Column("paid_at", gettext_lazy("Paid at"), "date"),
)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _fraction(value: Decimal | None) -> Decimal | None:
    """A stored gap in percent (12.50) as the fraction the `percent` filter takes."""
    return None if value is None else value / 100


def _tracked(row: dict[str, Any]) -> dict[str, Any]:
    return row | {
        "status_label": str(PerformanceStatus(row["status"]).label),
        "gap_fraction": _fraction(row["gap_pct"]),
    }


def _leads_url(plan: SalesPlan, key: str, day: date, member_id: int | None = None) -> str:
    query: dict[str, Any] = {"plan": plan.pk, "metric": key, "day": day.isoformat()}
    if member_id is not None:
        query["member"] = member_id
    return f"{reverse('dashboard_leads')}?{urlencode(query)}"


def _stage_rows(
    plan: SalesPlan, shape: funnel_data.PlanShape, rows: list[dict[str, Any]], day: date
) -> list[dict[str, Any]]:
    """The department's row of each stage's metric, top of the funnel first."""
    department = {row["key"]: row for row in rows if row["owner"] is None}
    out = []
    for position, name in shape.stages:
        metric = shape.stage_metrics.get(position)
        row = department.get(metric.key) if metric else None
        if row is None:
            continue
        out.append(
            _tracked(row)
            | {"name": name, "metric": row["name"], "url": _leads_url(plan, row["key"], day)}
        )
    return out


def _people_rows(
    member: Membership,
    plan: SalesPlan,
    shape: funnel_data.PlanShape,
    rows: list[dict[str, Any]],
    day: date,
) -> list[dict[str, Any]]:
    """Each salesperson's stored personal rows of the key metrics (a salesperson: only their
    own), by name, then in the order of funnel_data.KEY_KINDS and the funnel."""
    stage_keys = {metric.key: metric.position for metric in shape.stage_metrics.values()}
    order = {kind: index for index, kind in enumerate(funnel_data.KEY_KINDS)}
    out = []
    for row in rows:
        owner = row["owner"]
        kind = "stage_volume" if row["key"].startswith("stage_volume:") else row["key"]
        if owner is None or kind not in order or row["plan_to_date"] is None:
            continue
        if member.role == Role.SALESPERSON and owner["id"] != member.pk:
            continue
        drills = row["key"] in stage_keys or row["key"] in funnel_data.PAYMENT_KINDS
        url = _leads_url(plan, row["key"], day, owner["id"]) if drills else ""
        out.append(
            _tracked(row)
            | {"person": owner["name"], "person_id": owner["id"], "url": url}
            | {"_order": (owner["name"], owner["id"], order[kind], stage_keys.get(row["key"], 0))}
        )
    out.sort(key=lambda row: row["_order"])
    previous = None
    for row in out:  # the name once per person on the page (the export repeats it)
        row["first_of_person"] = row["person_id"] != previous
        previous = row["person_id"]
    return out


def _attribution_rows(attribution: dict[str, Any]) -> list[dict[str, Any]]:
    nobody = gettext("nobody on the pie")
    return [
        {
            "factor": factor["name"],
            "key": factor["factor"],
            "owner": part["owner"]["name"] if part["owner"] else nobody,
            "contribution": part["contribution"],
            "split": part["split"],
        }
        for factor in attribution["factors"]
        for part in factor["owners"]
    ]


def _figures(member: Membership, plan: SalesPlan, day: date) -> tuple[dict[str, Any], list[Table]]:
    figures = funnel_data.dashboard_figures(plan, day)
    shape, rows = figures["shape"], figures["rows"]
    stages = Table(
        "stages",
        gettext("Funnel: plan vs fact"),
        STAGE_COLUMNS,
        _stage_rows(plan, shape, rows, day),
    )
    burn_up = Table("revenue", gettext("Revenue, cumulative"), BURN_UP_COLUMNS, figures["burn_up"])
    people = Table(
        "people",
        gettext("Salespeople"),
        PEOPLE_COLUMNS,
        _people_rows(member, plan, shape, rows, day),
    )
    attribution = figures["attribution"]
    gap_table = Table(
        "gap",
        gettext("The revenue gap by factor"),
        ATTRIBUTION_COLUMNS,
        _attribution_rows(attribution),
    )
    revenue = next((row for row in rows if row["key"] == "revenue" and row["owner"] is None), None)
    context: dict[str, Any] = {
        "day": day,
        "computed_at": figures["computed_at"],
        "revenue": _tracked(revenue) | {"url": _leads_url(plan, "revenue", day)}
        if revenue
        else None,
        "stages": stages,
        "burn_up": burn_up,
        "people": people,
        "gap_table": gap_table,
        "attribution": attribution,
    }
    if stages.rows:
        context["funnel_chart"] = charts.funnel_plan_vs_fact(stages.rows)
    if burn_up.rows:
        target = plan.revenue_target if plan.period_end > day else None
        context["burn_up_chart"] = charts.revenue_burn_up(
            burn_up.rows, period_end=plan.period_end, target=target
        )
    if attribution["factors"]:
        context["gap_chart"] = charts.gap_waterfall_by_owner(
            attribution["factors"], attribution["gap"]
        )
    return context, [stages, burn_up, people, gap_table]


@cached_page
def dashboard(request: HttpRequest) -> HttpResponse:
    """?team=<id>&period=month|last_month|quarter[&month=YYYY-MM]&plan=<id>: a value that is
    none of these falls back to the default with a note on the page, never an error."""
    member = require_membership(request)
    today = funnel_data.today_for(member.organization)
    period = funnel_data.resolve_period(request.GET, today)
    teams = funnel_data.visible_teams(member)
    team, team_note = funnel_data.resolve_team(request.GET.get("team"), teams)
    plans = funnel_data.candidate_plans(member, period, team, teams)
    plan, plan_note = funnel_data.resolve_plan(request.GET.get("plan"), plans)
    context: dict[str, Any] = {
        "period": period,
        "today": today,
        "teams": teams,
        "team": team,
        "plans": plans,
        "plan": plan,
        "notes": [note for note in (period.note, team_note, plan_note) if note],
        "can_create_plans": may_create_plans(member),
        "day": None,
        **discipline.dashboard_context(member),
    }
    tables: list[Table] = []
    if plan is not None:
        day = funnel_data.snapshot_day(plan, period, today)
        if day is not None:
            figures, tables = _figures(member, plan, day)
            context.update(figures)
    if response := export_response(request, *tables):
        return response
    template = "dashboards/_funnel_body.html" if _is_htmx(request) else "dashboards/funnel.html"
    response = render(request, template, context)
    # The same address answers a fragment to htmx and a page to the browser: a cache (the
    # browser's, on Back) must not hand one for the other.
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- the drill-down -------------------------------------------------------------------------


def _leads_day(plan: SalesPlan, text: str | None, today: date) -> tuple[date, str]:
    """The last day of the cell's to-date (?day=): within the plan's period; by default the
    plan's end or today, whichever comes first."""
    default = max(plan.period_start, min(plan.period_end, today))
    if not text:
        return default, ""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return default, gettext("“%(text)s” is not a date: showing the leads up to %(day)s.") % {
            "text": text[:40],
            "day": formats.date_format(default, "d.m.Y"),
        }
    if not plan.period_start <= day <= plan.period_end:
        return default, gettext(
            "%(day)s is outside the plan's period: showing the leads up to %(default)s."
        ) % {
            "day": formats.date_format(day, "d.m.Y"),
            "default": formats.date_format(default, "d.m.Y"),
        }
    return day, ""


def _leads_member(viewer: Membership, text: str | None) -> tuple[Membership | None, str]:
    if not text:
        return None, ""
    try:
        person = scoped(Membership, viewer.organization).select_related("user").get(pk=int(text))
    except (Membership.DoesNotExist, ValueError, TypeError):
        return None, gettext("That person is not in your organization: showing everyone's leads.")
    return person, ""


def _dashboard_url(plan: SalesPlan) -> str:
    """The dashboard of the plan's first month, the plan chosen."""
    query = {"plan": plan.pk, "period": "month", "month": plan.period_start.strftime("%Y-%m")}
    return f"{reverse('dashboard')}?{urlencode(query)}"


def _payment_row(payment: Any) -> dict[str, Any]:
    lead = payment.lead
    responsible = lead.responsible.display_name if lead.responsible else lead.responsible_name
    return {
        "name": lead.name or lead.external_id,
        "external_id": lead.external_id,
        "company": lead.company,
        "responsible": responsible,
        "amount": payment.amount,
        "paid_at": payment.paid_at,
    }


def _lead_row(event: Any) -> dict[str, Any]:
    lead = event.lead
    responsible = lead.responsible.display_name if lead.responsible else lead.responsible_name
    return {
        "name": lead.name or lead.external_id,
        "external_id": lead.external_id,
        "company": lead.company,
        "responsible": responsible,
        "reached_at": event.reached_at,
        "is_target": lead.is_target,
    }


def dashboard_leads(request: HttpRequest) -> HttpResponse:
    """The leads behind a dashboard cell: ?plan=<id>&metric=<key> (or &stage=<position>)
    [&member=<id>][&day=YYYY-MM-DD][&page=N]: the leads that reached the stage from the plan's
    start to the day (for revenue: the payments), a member's personal slice with `member`;
    50 a page."""
    member = require_membership(request)
    plan = access_plan(member, request.GET.get("plan"))
    today = funnel_data.today_for(member.organization)
    shape = funnel_data.plan_shape(plan)
    key = (request.GET.get("metric") or "").strip()
    position = _position(shape, key, request.GET.get("stage"))
    day, day_note = _leads_day(plan, request.GET.get("day"), today)
    person, person_note = _leads_member(member, request.GET.get("member"))
    stage_name = dict(shape.stages).get(position) if position is not None else None
    context: dict[str, Any] = {
        "plan": plan,
        "day": day,
        "person": person,
        "notes": [note for note in (day_note, person_note) if note],
        "back": _dashboard_url(plan),
    }
    scope = {
        "viewer": member,
        "plan": plan,
        "start": plan.period_start,
        "end": day,
        "member_id": person.pk if person else None,
    }
    if key in funnel_data.PAYMENT_KINDS:
        found: Any = funnel_data.payments(**scope)
        heading = gettext("Payments behind the revenue")
        columns, to_row = PAYMENT_COLUMNS, _payment_row
    elif stage_name is not None:
        found = funnel_data.stage_events(stage_id=shape.stage_ids[position], **scope)
        heading = gettext("Leads that reached “%(stage)s”") % {"stage": stage_name}
        columns, to_row = LEAD_COLUMNS, _lead_row
    else:
        context["notes"].append(
            gettext("Pick a stage of the plan's funnel: the list shows the leads that reached it.")
        )
        return render(request, "dashboards/funnel_leads.html", context, status=400)
    if request.GET.get("export"):
        rows = [to_row(item) for item in found[:MAX_EXPORTED_LEADS]]
        page = None
    else:
        page = Paginator(found, LEADS_PER_PAGE).get_page(request.GET.get("page"))
        rows = [to_row(item) for item in page]
    table = Table("leads", heading, columns, rows)
    if response := export_response(request, table):
        return response
    context.update(table=table, page=page, heading=heading, payments=columns is PAYMENT_COLUMNS)
    if page is not None and page.has_previous():
        context["previous_query"] = query_with(request, page=page.previous_page_number())
    if page is not None and page.has_next():
        context["next_query"] = query_with(request, page=page.next_page_number())
    return render(request, "dashboards/funnel_leads.html", context)


def _position(shape: funnel_data.PlanShape, key: str | None, stage: str | None) -> int | None:
    """The funnel stage a cell counts: from its metric's key, or a stage position."""
    if key:
        return shape.position_of(key.strip())
    try:
        position = int(stage) if stage else None
    except ValueError:
        return None
    return position if position in dict(shape.stages) else None

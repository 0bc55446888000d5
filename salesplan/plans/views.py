"""Pages of sales plans (server-rendered, htmx).

Views only route: `salesplan.access` fetches and authorizes, forms read what was typed, the
services write and preview, the selectors decompose, `presentation` lays it out.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from metrics.models import PerformanceStatus
from salesplan.access import (
    access_object,
    may_create_plans,
    may_edit_plan,
    may_plan_for,
    plans_queryset,
    require_membership,
)
from salesplan.errors import error_lines
from salesplan.models import Membership, SalesPlan
from salesplan.planning import PlanInputError
from salesplan.plans import charts, exports, selectors, services, whatif
from salesplan.plans.forms import PlanForm, WhatIfForm
from salesplan.plans.presentation import (
    changed_inputs,
    diff_rows,
    input_rows,
    present,
    stale_message,
    verdict_label,
    version_rows,
)
from salesplan.selectors import calendar_for
from salesplan.tables import EXPORT_FORMATS, export_response

PLANS_PER_PAGE = 25  # a year of monthly plans for two funnels fits on one page
# The plan's page lists its latest versions (every save is one: a plan saved daily would
# otherwise grow the page without end); older ones are reached through the compare form.
VERSIONS_ON_PAGE = 20
FACT_TAB = "fact"  # ?tab=fact: the plan's page shows plan vs fact instead of the plan


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _problems(error: PlanInputError | ValidationError) -> list[tuple[str, str]]:
    return [("", text) for text in error_lines(error)]


def _plan(member: Membership, pk: Any, *, edit: bool = False) -> SalesPlan:
    """The plan with everything its snapshot reads (salesplan.access fetches and authorizes)."""
    return access_object(member, selectors.with_inputs(plans_queryset()), pk, edit=edit)


def plan_list(request: HttpRequest) -> HttpResponse:
    member = require_membership(request)
    page = Paginator(
        selectors.plan_list(organization=member.organization), PLANS_PER_PAGE
    ).get_page(request.GET.get("page"))
    rows = [
        {
            "plan": item.plan,
            "decomposition": item.decomposition,
            "verdict_label": verdict_label(item.decomposition.verdict)
            if item.decomposition
            else "",
        }
        for item in selectors.decompose_plans(page, organization=member.organization)
    ]
    table = exports.plans_table(rows)
    if response := export_response(request, table):
        return response
    context = {
        "rows": rows,
        "page": page,
        "can_edit": may_create_plans(member),
        "plans_table": table,
    }
    return render(request, "plans/list.html", context)


def _form_preview(form: PlanForm) -> dict[str, Any]:
    """The live preview of a bound plan form: its decomposition, or what to fix first."""
    if not form.is_ready_for_preview():
        return {"missing": True}
    if form.is_valid():
        try:
            decomposition = services.plan_preview(
                organization=form.organization,
                history=form.stored_history(),
                **form.service_kwargs(),
            )
        except ValidationError as error:
            form.add_service_errors(error, summary=False)
        else:
            return {"view": present(decomposition)}
    return {"problems": form.problems()}


def _form_page(
    request: HttpRequest, form: PlanForm, preview: dict[str, Any], **extra: Any
) -> HttpResponse:
    context = {"form": form, "plan": form.plan, "preview": preview, **extra}
    return render(request, "plans/form.html", context)


def _may_plan_for_team(member: Membership, form: PlanForm) -> bool:
    """A head of sales plans for the teams they lead (or the whole department)."""
    team = form.cleaned_data.get("sales_team")
    if may_plan_for(member, team.pk if team else None):
        return True
    form.add_error("sales_team", gettext("You can plan only for the teams you lead."))
    return False


def plan_create(request: HttpRequest) -> HttpResponse:
    member = require_membership(request)
    if not may_create_plans(member):
        raise PermissionDenied
    organization = member.organization
    if request.method != "POST":
        form = PlanForm(organization=organization, member=member)
        return _form_page(request, form, {"missing": True})
    form = PlanForm(request.POST, organization=organization, member=member)
    if form.is_valid() and _may_plan_for_team(member, form):
        try:
            plan = services.plan_create(
                organization=organization, user=request.user, **form.service_kwargs()
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, gettext("The plan is saved."))
            return redirect("plan_detail", pk=plan.pk)
    preview = _form_preview(
        PlanForm(request.POST, organization=organization, member=member, preview=True)
    )
    return _form_page(request, form, preview)


def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = require_membership(request)
    plan = _plan(member, pk, edit=True)
    organization = member.organization
    if request.method != "POST":
        item = selectors.decompose_plan(plan)
        preview = (
            {"view": present(item.decomposition)}
            if item.decomposition
            else {"problems": _problems(item.error)}
        )
        form = PlanForm(organization=organization, plan=plan, member=member)
        return _form_page(request, form, preview)
    form = PlanForm(request.POST, organization=organization, plan=plan, member=member)
    form.fields["version"].required = True
    stale = False
    if form.is_valid() and _may_plan_for_team(member, form):
        try:
            plan = services.plan_update(
                plan=plan,
                user=request.user,
                expected_version=form.cleaned_data["version"],
                **form.service_kwargs(),
            )
        except services.StaleVersion:
            stale = True
            form.add_error(None, stale_message())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, gettext("The plan is saved."))
            return redirect("plan_detail", pk=plan.pk)
    preview = _form_preview(
        PlanForm(request.POST, organization=organization, plan=plan, member=member, preview=True)
    )
    return _form_page(request, form, preview, stale=stale)


@require_POST
def plan_preview(request: HttpRequest) -> HttpResponse:
    """The live preview beside the plan form (htmx): nothing is saved."""
    member = require_membership(request)
    if not may_create_plans(member):
        raise PermissionDenied
    plan = _plan(member, request.POST["plan"]) if request.POST.get("plan") else None
    form = PlanForm(
        request.POST, organization=member.organization, plan=plan, member=member, preview=True
    )
    # `oob`: the fragment also refreshes the phone's summary bar (an htmx out-of-band swap).
    context = {"preview": _form_preview(form), "oob": _is_htmx(request)}
    return render(request, "plans/_preview.html", context)


def _view_tables(view: dict[str, Any], plan: SalesPlan) -> dict[str, Any]:
    """The decomposition's tables as the page shows and exports them."""
    return {
        "stages_table": exports.stages_table(view, plan),
        "people_table": exports.people_table(view, plan),
    }


def _detail_tables(plan: SalesPlan) -> tuple[dict[str, Any], Any]:
    """The plan tab's context without its charts and what-if: the decomposition, its tables
    and the latest versions; and the decomposed plan (for the what-if form)."""
    versions = version_rows(selectors.plan_versions(plan)[:VERSIONS_ON_PAGE])
    context: dict[str, Any] = {
        "versions": versions,
        "versions_table": exports.versions_table(versions, plan),
        "older_versions": max(plan.version - VERSIONS_ON_PAGE, 0),
    }
    item = selectors.decompose_plan(plan)
    if item.decomposition is None or item.inputs is None:
        context["problems"] = _problems(item.error)
        return context, item
    view = present(item.decomposition)
    context.update(view=view, **_view_tables(view, plan))
    return context, item


def _tables_of(context: dict[str, Any]) -> list[Any]:
    return [value for key, value in context.items() if key.endswith("_table")]


def _detail_context(
    member: Membership, plan: SalesPlan, prepared: tuple[dict[str, Any], Any] | None = None
) -> dict[str, Any]:
    tables, item = prepared or _detail_tables(plan)
    context: dict[str, Any] = {"plan": plan, "can_edit": may_edit_plan(member, plan), **tables}
    if "problems" in context:
        return context
    context.update(
        funnel_chart=charts.funnel_chart(item.decomposition),
        daily_chart=charts.daily_chart(item.decomposition),
    )
    if may_create_plans(member):  # a what-if is planning: for the roles that may plan
        context["what_if_form"] = _what_if_form(plan, item.inputs)
    return context


def _what_if_form(plan: SalesPlan, inputs: Any, data: Any = None) -> WhatIfForm:
    return WhatIfForm(data, inputs=inputs, currency=plan.organization.currency)


def _fact_day(plan: SalesPlan, text: str | None) -> tuple[date | None, str]:
    """The day of ?date= (None: the latest computed), or why it cannot be shown."""
    if not text:
        return None, ""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None, gettext("“%(text)s” is not a date: pick a day as YYYY-MM-DD.") % {
            "text": text[:40]
        }
    if not plan.period_start <= day <= plan.period_end:
        return None, gettext(
            "%(day)s is outside the plan's period (%(start)s – %(end)s): pick a day within it."
        ) % {
            "day": formats.date_format(day, "d.m.Y"),
            "start": formats.date_format(plan.period_start, "d.m.Y"),
            "end": formats.date_format(plan.period_end, "d.m.Y"),
        }
    return day, ""


def _percent_of(value: Decimal | None) -> Decimal | None:
    """A stored gap in percent (12.50) as the fraction the `percent` filter takes."""
    return None if value is None else value / 100


def _tracked(row: dict[str, Any]) -> dict[str, Any]:
    return row | {
        "status_label": PerformanceStatus(row["status"]).label,
        "gap_fraction": _percent_of(row["gap_pct"]),
    }


def _by_salesperson(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The personal rows as a grid: a row per salesperson, a column per metric any of them
    owns (in the plan's metric order); a cell is None where the person has no slice."""
    columns: dict[str, dict[str, Any]] = {}
    people: dict[int, dict[str, Any]] = {}
    for row in rows:
        columns.setdefault(row["key"], {"key": row["key"], "name": row["name"]})
        person = people.setdefault(row["owner"]["id"], {"name": row["owner"]["name"], "cells": {}})
        person["cells"][row["key"]] = row
    return {
        "columns": list(columns.values()),
        "rows": [
            {
                "name": person["name"],
                "cells": [person["cells"].get(key) for key in columns],
                "slipped": sum(
                    cell["status"] == PerformanceStatus.SLIPPED for cell in person["cells"].values()
                ),
            }
            for person in sorted(people.values(), key=lambda person: person["name"])
        ],
    }


def _fact_context(member: Membership, plan: SalesPlan, text: str | None) -> dict[str, Any]:
    """Plan vs fact as the recompute job stored it (selectors; nothing recomputed here): a
    constant number of queries whatever the number of metrics and people."""
    asked, date_error = _fact_day(plan, text)
    performance = selectors.plan_performance(plan, asked)
    day = performance["day"]
    rows = [_tracked(row) for row in performance["metrics"]]
    context: dict[str, Any] = {
        "plan": plan,
        "tab": FACT_TAB,
        "can_edit": may_edit_plan(member, plan),
        "date_error": date_error,
        "asked_day": asked,
        "day": day if rows else None,
        "computed_at": performance["computed_at"],
        "slips": [
            {"slip": slip, "gap_fraction": _percent_of(slip.gap_pct)}
            for slip in selectors.open_slips(plan, membership=member)
        ],
    }
    context["slips_table"] = exports.slips_table(context["slips"], plan)
    if not rows:
        return context
    owners = selectors.department_owners(plan)
    attribution = selectors.plan_attribution(plan, day)
    department = [
        row | {"owners": owners.get(row["key"], [])} for row in rows if row["owner"] is None
    ]
    people = _by_salesperson([row for row in rows if row["owner"] is not None])
    context.update(
        department=department,
        people=people,
        attribution=attribution,
        department_table=exports.department_table(department, plan),
        fact_people_table=exports.fact_people_table(people, plan),
        attribution_table=exports.attribution_table(attribution, plan),
    )
    if attribution["factors"]:
        context["gap_chart"] = charts.gap_waterfall(attribution["factors"], attribution["gap"])
    return context


def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan (its decomposition) or, on ?tab=fact (or with ?date=), plan vs fact."""
    member = require_membership(request)
    plan = _plan(member, pk)
    if request.GET.get("tab") == FACT_TAB or "date" in request.GET:
        context = _fact_context(member, plan, request.GET.get("date"))
        if response := export_response(request, *_tables_of(context)):
            return response
        status = 400 if context["date_error"] else 200
        return render(request, "plans/detail.html", context, status=status)
    # The tables first: an export needs neither the charts nor the what-if.
    prepared = _detail_tables(plan)
    if response := export_response(request, *_tables_of(prepared[0])):
        return response
    if _asks_what_if_export(request) and may_create_plans(member) and prepared[1].inputs:
        # A what-if's tables: its levers are in the address (the result's download links).
        form = _what_if_form(plan, prepared[1].inputs, request.GET)
        result = _what_if_result(plan, form)
        if result and (response := export_response(request, *result["tables"])):
            return response
    return render(request, "plans/detail.html", _detail_context(member, plan, prepared))


WHAT_IF_TABLES = ("what-if", "what-if-people")


def _asks_what_if_export(request: HttpRequest) -> bool:
    return request.GET.get("table") in WHAT_IF_TABLES and "export" in request.GET


def _what_if_result(plan: SalesPlan, form: WhatIfForm) -> dict[str, Any] | None:
    """The plan with the form's levers pulled, laid out with its tables; None (and the
    errors on the form) when a lever is wrong."""
    if not form.is_valid():
        return None
    try:
        outcome = whatif.plan_what_if(plan=plan, levers=form.levers())
    except PlanInputError as error:
        form.add_engine_errors(error)
        return None
    after = present(outcome.after)
    diff = diff_rows(outcome.diff)
    people = whatif.people_changes(outcome)
    before_label, after_label = gettext("Now"), gettext("What if")
    return {
        "view": after,
        "diff": diff,
        "people": people,
        "headline": [stage.name for stage in after["headline_stages"]],
        "tables": [
            exports.diff_table(diff, before_label, after_label, name="what-if", plan=plan),
            exports.what_if_people_table(people, before_label, after_label, plan),
        ],
    }


def _what_if_links(plan: SalesPlan, form: WhatIfForm, tables: list[Any]) -> dict[str, Any]:
    """Each what-if table's XLSX and CSV links: the plan's address with the levers sent (the
    what-if itself is a POST, its downloads are GETs of the same levers)."""
    query = form.data.copy()
    for name in ("csrfmiddlewaretoken", "hint"):
        query.pop(name, None)
    links = {}
    for table in tables:
        formats = []
        for format_ in EXPORT_FORMATS:
            query["export"], query["table"] = format_, table.name
            formats.append(
                {
                    "format": format_.upper(),
                    "url": f"{reverse('plan_detail', args=[plan.pk])}?{query.urlencode()}",
                }
            )
        links[table.name.replace("-", "_")] = {"links": formats, "table": table}
    return links


@require_POST
def plan_what_if(request: HttpRequest, pk: int) -> HttpResponse:
    """Pull a few levers of the saved plan and see every output move; nothing is saved.
    For the roles that may plan, on any plan they read (as in the API)."""
    member = require_membership(request, may_create_plans)
    plan = _plan(member, pk)
    prepared = _detail_tables(plan)
    item = prepared[1]
    if item.inputs is None:
        return redirect("plan_detail", pk=plan.pk)
    form = _what_if_form(plan, item.inputs, request.POST)
    if _is_htmx(request) and request.POST.get("hint"):
        # The stage or the change was picked: only the hint under them (htmx), nothing run.
        return render(request, "plans/_what_if_hint.html", {"what_if_form": form})
    result = _what_if_result(plan, form)
    if result:
        result["exports"] = _what_if_links(plan, form, result["tables"])
    context = {"plan": plan, "what_if_form": form, "what_if": result}
    if _is_htmx(request):
        return render(request, "plans/_what_if.html", context)
    return render(request, "plans/detail.html", _detail_context(member, plan, prepared) | context)


def plan_version(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """One saved version: its inputs and the decomposition they give."""
    plan = _plan(require_membership(request), pk)
    version = selectors.version_of(plan, number)
    inputs = input_rows(version.inputs, plan.organization.currency)
    context: dict[str, Any] = {
        "plan": plan,
        "version": version,
        "inputs": inputs,
        "inputs_table": exports.inputs_table(inputs, plan),
    }
    try:
        decomposition = selectors.decompose_version(version, calendar_for(plan.organization))
    except PlanInputError as error:
        context["problems"] = _problems(error)
    else:
        context["view"] = present(decomposition)
        context.update(_view_tables(context["view"], plan))
    if response := export_response(request, *_tables_of(context)):
        return response
    return render(request, "plans/version.html", context)


def _version_number(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


def plan_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """Two versions side by side: the inputs that changed and the difference of every output."""
    plan = _plan(require_membership(request), pk)
    a = _version_number(request.GET.get("a"), max(plan.version - 1, 1))
    b = _version_number(request.GET.get("b"), plan.version)
    first, second = selectors.version_of(plan, a), selectors.version_of(plan, b)
    before_label = gettext("Version %(n)s") % {"n": first.number}
    after_label = gettext("Version %(n)s") % {"n": second.number}
    inputs = changed_inputs(first.inputs, second.inputs, plan.organization.currency)
    context: dict[str, Any] = {
        "plan": plan,
        "a": first,
        "b": second,
        "before_label": before_label,
        "after_label": after_label,
        "inputs": inputs,
        "inputs_table": exports.changed_inputs_table(inputs, before_label, after_label, plan),
        # The selects need only the numbers: one small query however long the history.
        "numbers": list(selectors.plan_versions(plan).values_list("number", flat=True)),
    }
    try:
        diff = selectors.compare_versions(first, second, calendar_for(plan.organization))
    except PlanInputError as error:
        context["problems"] = _problems(error)
    else:
        context["diff"] = diff_rows(diff)
        context["diff_table"] = exports.diff_table(
            context["diff"], before_label, after_label, plan=plan
        )
    if response := export_response(request, *_tables_of(context)):
        return response
    return render(request, "plans/compare.html", context)

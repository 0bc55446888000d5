"""Pages of sales plans, products and the working calendar (server-rendered, htmx).

Views only route: forms read what was typed, plan_services write and preview, the planning
engine (through plan_engine) decomposes. Every query goes through salesplan.access.
"""

from collections.abc import Sequence
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_POST

from funnel.models import Stage
from salesplan import charts, plan_services
from salesplan.access import (
    can_edit_plan,
    can_edit_settings,
    get_scoped_or_404,
    membership_for,
    scoped,
)
from salesplan.formatting import format_money, format_number
from salesplan.models import (
    CalendarDay,
    Membership,
    Organization,
    PeriodKind,
    PlanMember,
    PlanProduct,
    PlanStatus,
    PlanVersion,
    Product,
    SalesPlan,
)
from salesplan.plan_engine import (
    PLAN_INPUT_FIELDS,
    calendar_for,
    decomposition_for,
    finding_text,
    plan_input_for,
    plan_input_from_snapshot,
    translate_errors,
    verdict_label,
)
from salesplan.plan_forms import (
    CalendarDayForm,
    PlanForm,
    ProductForm,
    WhatIfForm,
    display_number,
    month_from,
)
from salesplan.planning import (
    RUSSIAN_CALENDAR,
    Decomposition,
    Finding,
    PlanInputError,
    decompose,
    what_if,
)
from salesplan.planning.calendar import month_end
from salesplan.planning.whatif import DiffItem, diff_decompositions

PLANS_PER_PAGE = 25  # a year of monthly plans for two funnels fits on one page
HUNDRED = Decimal(100)
ONE_DAY = timedelta(days=1)
MONEY_INPUTS = frozenset(
    {
        "revenue_target",
        "average_check",
        "gross_margin_target",
        "cost_per_lead",
        "cost_per_target_lead",
    }
)
MONEY_OUTPUTS = frozenset({"average_check", "planned_revenue", "marketing_budget", "gross_margin"})


# --- who may do what -------------------------------------------------------------------------


def require_membership(request: HttpRequest) -> Membership:
    membership = membership_for(request)
    if membership is None:  # MembershipMiddleware answers before a view runs
        raise PermissionDenied
    return membership


def require_plan_editor(request: HttpRequest, plan: SalesPlan | None = None) -> Membership:
    """May edit this plan (or, without one, create plans): salesplan.access.can_edit_plan."""
    membership = require_membership(request)
    if not can_edit_plan(membership, plan):
        raise PermissionDenied
    return membership


def require_settings_editor(request: HttpRequest) -> Membership:
    """Funnels, products, the calendar: salesplan.access.can_edit_settings."""
    membership = require_membership(request)
    if not can_edit_settings(membership):
        raise PermissionDenied
    return membership


def _plans(organization: Organization) -> QuerySet[SalesPlan]:
    return (
        scoped(SalesPlan, organization)
        .select_related("funnel", "organization", "created_by")
        .prefetch_related(
            Prefetch("funnel__stages", queryset=Stage.objects.order_by("position")),
            Prefetch("members", queryset=PlanMember.objects.select_related("membership__user")),
            Prefetch("product_mix", queryset=PlanProduct.objects.select_related("product")),
        )
    )


def _plan(request: HttpRequest, pk: int) -> SalesPlan:
    organization = require_membership(request).organization
    return get_scoped_or_404(_plans(organization), organization, pk=pk)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _language() -> str:
    return get_language() or "ru"


def stale_message() -> str:
    # The same words as the API's 409 (salesplan/api/plan_views.py), so one translation.
    return gettext(
        "Someone else saved this plan after you opened it. Reload it to see their changes, "
        "then apply yours again."
    )


# --- presentation of a decomposition ------------------------------------------------------------


def present(decomposition: Decomposition) -> dict[str, Any]:
    """A decomposition laid out for the templates: rows of tables, findings in words."""
    stages = decomposition.stages
    days = decomposition.working_days or 1
    several_months = len(decomposition.by_month) > 1
    # The narrow preview shows only the top of the funnel, the key stage and the deals.
    headline = [
        stage
        for index, stage in enumerate(stages)
        if index in (0, len(stages) - 1) or stage.is_key_stage
    ]
    return {
        "d": decomposition,
        "verdict_label": verdict_label(decomposition.verdict),
        "key_stage": next((stage for stage in stages if stage.is_key_stage), None),
        "weeks": decomposition.by_week,
        "months": decomposition.by_month if several_months else (),
        "stage_rows": [
            {
                "stage": stage,
                "weeks": [week.stages[stage.name] for week in decomposition.by_week],
                "months": (
                    [month.stages[stage.name] for month in decomposition.by_month]
                    if several_months
                    else []
                ),
                "per_day": _per_day(stage.required, days),
            }
            for stage in stages
        ],
        "people": [
            {
                "person": person,
                "counts": [person.stages[stage.name] for stage in stages],
                "short_counts": [person.stages[stage.name] for stage in headline],
            }
            for person in decomposition.by_person
        ],
        "headline_stages": headline,
        "reasons": _findings(decomposition.reasons),
        "warnings": _findings(decomposition.warnings),
    }


def _per_day(total: int, working_days: int) -> Decimal:
    """The average per working day, to one decimal (the split itself is in whole numbers)."""
    return (Decimal(total) / working_days).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _findings(findings: Sequence[Finding]) -> list[dict[str, str]]:
    css = {"info": "", "warning": "warn", "error": "bad"}
    return [
        {"severity": item.severity, "css": css.get(item.severity, ""), "text": finding_text(item)}
        for item in findings
    ]


def _diff_rows(diff: tuple[DiffItem, ...]) -> list[dict[str, Any]]:
    """Before / after / delta of every output, labelled in the user's language."""
    labels = {
        "deals": gettext("Deals"),
        "average_check": gettext("Average check"),
        "planned_revenue": gettext("Planned revenue"),
        "marketing_budget": gettext("Marketing budget"),
        "gross_margin": gettext("Gross margin"),
        "working_days": gettext("Working days"),
        "verdict": gettext("Verdict"),
    }
    rows = []
    for item in diff:
        if item.field == "reasons":  # codes, not words: the reasons are listed in full
            continue
        if item.field == "verdict":
            rows.append(
                {
                    "label": labels["verdict"],
                    "kind": "verdict",
                    "before": item.before,
                    "after": item.after,
                    "before_label": verdict_label(item.before),
                    "after_label": verdict_label(item.after),
                    "changed": item.before != item.after,
                }
            )
            continue
        if item.field.startswith("stages."):
            label = item.field.removeprefix("stages.").removesuffix(".required")
            kind = "stage"
        else:
            label = labels.get(item.field, item.field)
            kind = "money" if item.field in MONEY_OUTPUTS else "number"
        rows.append(
            {
                "label": label,
                "kind": kind,
                "before": item.before,
                "after": item.after,
                "delta": item.delta,
                "changed": bool(item.delta),
            }
        )
    return rows


# --- presentation of stored inputs (versions) ---------------------------------------------------


def _input_labels() -> dict[str, str]:
    labels = {
        name: capfirst(SalesPlan._meta.get_field(name).verbose_name) for name in PLAN_INPUT_FIELDS
    }
    labels.update(
        funnel_name=gettext("Funnel"),
        stages=gettext("Stages"),
        team=gettext("Team"),
        product_mix=gettext("Product mix"),
    )
    return labels


def _percent_text(value: Any) -> str:
    if value in (None, ""):
        return "—"
    return (
        f"{format_number(Decimal(str(value)) * HUNDRED, _language(), 2).rstrip('0').rstrip(',.')} %"
    )


def _input_text(key: str, value: Any, currency: str) -> str:
    """One stored input (a PlanVersion snapshot value) as a person reads it."""
    language = _language()
    if value in (None, "", [], {}):
        return "—"
    if key in MONEY_INPUTS:
        return format_money(value, currency, language)
    if key == "period_kind":
        return str(PeriodKind(value).label) if value in PeriodKind.values else str(value)
    if key == "status":
        return str(PlanStatus(value).label) if value in PlanStatus.values else str(value)
    if key in ("period_start", "period_end"):
        return "{2}.{1}.{0}".format(*str(value).split("-"))
    if key == "stages":
        return "; ".join(
            f"{stage['name']}"
            + (f" {_percent_text(stage['conversion'])}" if stage.get("conversion") else "")
            + (f" ({gettext('key stage')})" if stage.get("is_key_stage") else "")
            for stage in value
        )
    if key in ("team", "product_mix"):
        return "; ".join(
            f"{item['name']} {_percent_text(item.get('share'))}"
            if item.get("share") not in (None, "")
            else f"{item['name']} × {item.get('units')}"
            for item in value
        )
    if key == "seasonality":
        return "; ".join(
            f"{month[5:7]}.{month[:4]}: {format_number(Decimal(str(weight)), language, 2)}"
            for month, weight in sorted(value.items())
        )
    if isinstance(value, str) and value.replace(".", "", 1).isdigit():
        return display_number(Decimal(value))
    return str(value)


def _changed_labels(changes: dict[str, Any]) -> list[str]:
    labels = _input_labels()
    seen: list[str] = []
    for key in changes:
        label = labels.get("funnel_name" if key == "funnel" else key, key)
        if label not in seen:
            seen.append(label)
    return seen


def _input_rows(inputs: dict[str, Any], currency: str) -> list[tuple[str, str]]:
    labels = _input_labels()
    return [
        (labels[key], _input_text(key, inputs.get(key), currency))
        for key in labels
        if key in inputs
    ]


def _versions(plan: SalesPlan) -> list[dict[str, Any]]:
    versions = (
        scoped(PlanVersion, plan.organization, path="plan__organization")
        .filter(plan=plan)
        .select_related("created_by")
        .order_by("-number")
    )
    return [
        {
            "version": version,
            "who": (
                version.created_by.get_full_name() or version.created_by.email
                if version.created_by
                else "—"
            ),
            "changed": _changed_labels(version.changes) if version.number > 1 else [],
        }
        for version in versions
    ]


def _version(plan: SalesPlan, number: Any) -> PlanVersion:
    return get_scoped_or_404(
        PlanVersion, plan.organization, path="plan__organization", plan=plan, number=number
    )


# --- plans ---------------------------------------------------------------------------------------


def plan_list(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    page = Paginator(_plans(membership.organization), PLANS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = []
    for plan in page:
        try:
            decomposition = decomposition_for(plan)
        except PlanInputError:  # e.g. its funnel was edited into an invalid state
            decomposition = None
        rows.append(
            {
                "plan": plan,
                "decomposition": decomposition,
                "verdict_label": verdict_label(decomposition.verdict) if decomposition else "",
            }
        )
    context = {"rows": rows, "page": page, "can_edit": can_edit_plan(membership)}
    return render(request, "plans/list.html", context)


def _form_preview(form: PlanForm) -> dict[str, Any]:
    """The live preview of a bound plan form: its decomposition, or what to fix first."""
    if not form.is_ready_for_preview():
        return {"missing": True}
    if form.is_valid():
        try:
            decomposition = plan_services.plan_preview(
                organization=form.organization, **form.service_kwargs()
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


def _may_plan_for_team(request: HttpRequest, form: PlanForm) -> bool:
    """A head of sales plans for the teams they lead (or the whole department)."""
    team = form.cleaned_data.get("sales_team")
    if can_edit_plan(membership_for(request), SalesPlan(sales_team=team)):
        return True
    form.add_error("sales_team", gettext("You can plan only for the teams you lead."))
    return False


def plan_create(request: HttpRequest) -> HttpResponse:
    organization = require_plan_editor(request).organization
    if request.method != "POST":
        return _form_page(request, PlanForm(organization=organization), {"missing": True})
    form = PlanForm(request.POST, organization=organization)
    if form.is_valid() and _may_plan_for_team(request, form):
        try:
            plan = plan_services.plan_create(
                organization=organization, user=request.user, **form.service_kwargs()
            )
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, gettext("The plan is saved."))
            return redirect("plan_detail", pk=plan.pk)
    preview = _form_preview(PlanForm(request.POST, organization=organization, preview=True))
    return _form_page(request, form, preview)


def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    organization = require_plan_editor(request, plan).organization
    if request.method != "POST":
        try:
            preview = {"view": present(decomposition_for(plan))}
        except PlanInputError as error:
            preview = {"problems": _engine_problems(error)}
        return _form_page(request, PlanForm(organization=organization, plan=plan), preview)
    form = PlanForm(request.POST, organization=organization, plan=plan)
    form.fields["version"].required = True
    stale = False
    if form.is_valid() and _may_plan_for_team(request, form):
        try:
            plan = plan_services.plan_update(
                plan=plan,
                user=request.user,
                expected_version=form.cleaned_data["version"],
                **form.service_kwargs(),
            )
        except plan_services.StaleVersion:
            stale = True
            form.add_error(None, stale_message())
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            messages.success(request, gettext("The plan is saved."))
            return redirect("plan_detail", pk=plan.pk)
    preview = _form_preview(
        PlanForm(request.POST, organization=organization, plan=plan, preview=True)
    )
    return _form_page(request, form, preview, stale=stale)


@require_POST
def plan_preview(request: HttpRequest) -> HttpResponse:
    """The live preview beside the plan form (htmx): nothing is saved."""
    organization = require_plan_editor(request).organization
    plan = None
    if request.POST.get("plan"):
        plan = _plan(request, request.POST["plan"])
    form = PlanForm(request.POST, organization=organization, plan=plan, preview=True)
    # `oob`: the fragment also refreshes the phone's summary bar (an htmx out-of-band swap).
    context = {"preview": _form_preview(form), "oob": _is_htmx(request)}
    return render(request, "plans/_preview.html", context)


def _engine_problems(error: PlanInputError) -> list[tuple[str, str]]:
    return [("", text) for texts in translate_errors(error.errors).values() for text in texts]


def _detail_context(request: HttpRequest, plan: SalesPlan) -> dict[str, Any]:
    membership = require_membership(request)
    context: dict[str, Any] = {
        "plan": plan,
        "can_edit": can_edit_plan(membership, plan),
        "versions": _versions(plan),
    }
    try:
        plan_input = plan_input_for(plan)
        decomposition = decompose(plan_input)
    except PlanInputError as error:
        context["problems"] = _engine_problems(error)
        return context
    context.update(
        view=present(decomposition),
        funnel_chart=charts.funnel_chart(decomposition),
        daily_chart=charts.daily_chart(decomposition),
        what_if_form=WhatIfForm(stages=plan_input.stages),
    )
    return context


def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    return render(request, "plans/detail.html", _detail_context(request, plan))


@require_POST
def plan_what_if(request: HttpRequest, pk: int) -> HttpResponse:
    """Pull a few levers of the saved plan and see every output move; nothing is saved.
    Reading the plan is enough (as in the API)."""
    plan = _plan(request, pk)
    try:
        plan_input = plan_input_for(plan)
    except PlanInputError:
        return redirect("plan_detail", pk=plan.pk)
    form = WhatIfForm(request.POST, stages=plan_input.stages)
    result = None
    if form.is_valid():
        try:
            outcome = what_if(plan_input, form.changes())
        except PlanInputError as error:
            form.add_engine_errors(translate_errors(error.errors))
        else:
            result = {"view": present(outcome.after), "diff": _diff_rows(outcome.diff)}
    if _is_htmx(request):
        return render(
            request, "plans/_what_if.html", {"plan": plan, "what_if_form": form, "what_if": result}
        )
    context = _detail_context(request, plan) | {"what_if_form": form, "what_if": result}
    return render(request, "plans/detail.html", context)


def plan_version(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """One saved version: its inputs and the decomposition they give."""
    plan = _plan(request, pk)
    version = _version(plan, number)
    context: dict[str, Any] = {
        "plan": plan,
        "version": version,
        "inputs": _input_rows(version.inputs, plan.organization.currency),
    }
    try:
        decomposition = decompose(
            plan_input_from_snapshot(version.inputs, calendar=calendar_for(plan.organization))
        )
    except PlanInputError as error:
        context["problems"] = _engine_problems(error)
    else:
        context["view"] = present(decomposition)
    return render(request, "plans/version.html", context)


def _version_number(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


def plan_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """Two versions side by side: the inputs that changed and the difference of every output."""
    plan = _plan(request, pk)
    a = _version_number(request.GET.get("a"), max(plan.version - 1, 1))
    b = _version_number(request.GET.get("b"), plan.version)
    first, second = _version(plan, a), _version(plan, b)
    currency = plan.organization.currency
    labels = _input_labels()
    inputs = []
    for key, label in labels.items():
        a_text = _input_text(key, first.inputs.get(key), currency)
        b_text = _input_text(key, second.inputs.get(key), currency)
        # Compared as read: a first version may store "50000" where later ones store
        # "50000.00" for the same amount.
        if a_text != b_text:
            inputs.append({"label": label, "a": a_text, "b": b_text})
    context: dict[str, Any] = {
        "plan": plan,
        "a": first,
        "b": second,
        "inputs": inputs,
        "versions": _versions(plan),
    }
    calendar = calendar_for(plan.organization)
    try:
        before = decompose(plan_input_from_snapshot(first.inputs, calendar=calendar))
        after = decompose(plan_input_from_snapshot(second.inputs, calendar=calendar))
    except PlanInputError as error:
        context["problems"] = _engine_problems(error)
    else:
        context["diff"] = _diff_rows(diff_decompositions(before, after))
    return render(request, "plans/compare.html", context)


# --- settings: products and the calendar ----------------------------------------------------------


def settings_home(request: HttpRequest) -> HttpResponse:
    return redirect("product_list")


def product_list(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    organization = membership.organization
    form = ProductForm(organization=organization)
    if request.method == "POST":
        require_settings_editor(request)
        form = ProductForm(request.POST, organization=organization)
        if form.is_valid():
            plan_services.product_create(organization=organization, **form.cleaned_data)
            messages.success(request, gettext("Product added."))
            return redirect("product_list")
    context = {
        "products": scoped(Product, organization),
        "form": form,
        "can_edit": can_edit_settings(membership),
    }
    return render(request, "settings/products.html", context)


def calendar(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    organization = membership.organization
    form = CalendarDayForm()
    if request.method == "POST":
        require_settings_editor(request)
        form = CalendarDayForm(request.POST)
        if form.is_valid():
            plan_services.calendar_day_set(organization=organization, **form.service_kwargs())
            messages.success(request, gettext("The calendar is updated."))
            return redirect(f"{request.path}?month={form.cleaned_data['date']:%Y-%m}")
    first = month_from(request.GET.get("month"), timezone.localdate())
    last = month_end(first)
    context = {
        "days": scoped(CalendarDay, organization),
        "form": form,
        "can_edit": can_edit_settings(membership),
        "month": first,
        "previous_month": month_from(None, first - ONE_DAY),
        "next_month": last + ONE_DAY,
        "working_days": len(calendar_for(organization).working_days(first, last)),
        "production_working_days": len(RUSSIAN_CALENDAR.working_days(first, last)),
    }
    return render(request, "settings/calendar.html", context)


@require_POST
def calendar_day_delete(request: HttpRequest, pk: int) -> HttpResponse:
    organization = require_settings_editor(request).organization
    day = get_scoped_or_404(CalendarDay, organization, pk=pk)
    month = day.date
    plan_services.calendar_day_delete(calendar_day=day)
    messages.success(request, gettext("The day follows the production calendar again."))
    return redirect(f"{reverse('calendar')}?month={month:%Y-%m}")

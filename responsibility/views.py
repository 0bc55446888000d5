"""The pie page: sunburst coloured by each metric's stored status, findings, the metrics'
table (exported as XLSX/CSV), and forms to reassign owners and cut the team split."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.http import require_POST

from metrics.models import PerformanceStatus, PlanMetric
from responsibility import services
from responsibility.charts import STATUS_COLOURS, pie_sunburst
from responsibility.forms import AssignForm, SplitForm
from responsibility.models import Responsibility
from responsibility.selectors import NOT_COMPUTED, pie_page_tree
from salesplan.access import access_object, access_plan, may_edit_plan, require_membership
from salesplan.figures import cached_page
from salesplan.models import Membership, Role, SalesPlan
from salesplan.tables import Column, Table, export_response

STALE_MESSAGE = gettext_noop(
    "Someone else changed this pie after you opened it. Their change is shown below; "
    "apply yours again if it is still needed."
)


def _plan(request: HttpRequest, plan_id: int, *, edit: bool = False) -> SalesPlan:
    """The plan (to change its pie: one the member may edit), through salesplan.access."""
    return access_plan(require_membership(request), plan_id, edit=edit)


def status_labels() -> dict[str, str]:
    """Every status the page shows, in the user's language."""
    return {
        **{code: str(label) for code, label in PerformanceStatus.choices},
        NOT_COMPUTED: _("Not computed yet"),
    }


def _plan_value(metric: dict[str, Any], currency: str) -> tuple[Decimal | None, str]:
    """A metric's plan for a spreadsheet: the number and its unit (a percent in points)."""
    if metric.get("planned_value") is None:
        return None, ""
    value = Decimal(metric["planned_value"])
    if metric["unit"] == "percent":
        return value * 100, "%"
    return value, currency if metric["unit"] == "money" else ""


def pie_tables(tree: dict[str, Any], labels: dict[str, str], currency: str) -> list[Table]:
    """The metrics' table (owner, metric, plan, status) and the team split (one row a person
    and metric), as the page shows them and as they export."""
    metrics = Table(
        name="metrics",
        title=gettext_lazy("Responsibility pie"),
        columns=[
            Column("owner", gettext_lazy("Owner")),
            Column("metric", gettext_lazy("Metric")),
            Column("plan", gettext_lazy("Plan"), "number"),
            Column("unit", gettext_lazy("Unit")),
            Column("status", gettext_lazy("Status")),
            Column("split", gettext_lazy("Team split"), "int"),
        ],
    )
    split = Table(
        name="split",
        title=gettext_lazy("Team split"),
        columns=[
            Column("metric", gettext_lazy("Metric")),
            Column("owner", gettext_lazy("Owner")),
            Column("team", gettext_lazy("Team")),
            Column("person", gettext_lazy("Salesperson")),
            Column("share", gettext_lazy("Share"), "percent"),
            Column("status", gettext_lazy("Status")),
        ],
    )
    for owner in tree["owners"]:
        for metric in owner["metrics"]:
            value, unit = _plan_value(metric, currency)
            metrics.rows.append(
                {
                    "owner": owner["name"],
                    "metric": metric["name"],
                    "plan": value,
                    "unit": unit,
                    "status": labels.get(metric["status"], metric["status"]),
                    "split": len(metric["split"]) or None,
                }
            )
            for item in metric["split"]:
                split.rows.append(
                    {
                        "metric": metric["name"],
                        "owner": owner["name"],
                        "team": item["team_name"] or _("No team"),
                        "person": item["name"],
                        "share": Decimal(item["share"]),
                        "status": labels.get(item["status"], item["status"]),
                    }
                )
    for metric in tree["unowned"]:
        metrics.rows.append(
            {
                "owner": _("no owner"),
                "metric": metric["name"],
                "status": labels.get(metric["status"], metric["status"]),
            }
        )
    return [metrics, split]


def _split_groups(form: SplitForm) -> list[dict[str, Any]]:
    """The split form's share fields grouped by the salespeople's teams (people in no team
    last): 35 inputs in a few collapsed groups, not one long column."""
    groups: dict[int | None, dict[str, Any]] = {}
    for member in form.salespeople:
        group = groups.setdefault(
            member.team_id,
            {
                "team": member.team_id,
                "name": member.team.name if member.team else None,
                "fields": [],
            },
        )
        group["fields"].append(form[f"share_{member.pk}"])
    return sorted(groups.values(), key=lambda g: (g["team"] is None, g["name"] or ""))


def _split_forms(
    plan: SalesPlan, tree: dict[str, Any], salespeople: list[Membership]
) -> dict[int, dict[str, Any]]:
    """Each split-able metric's form (the head of sales' cut) with its fields by team."""
    forms = {}
    for owner in tree["owners"]:
        for metric in owner["metrics"]:
            initial = {
                f"share_{item['membership']}": f"{float(item['share']) * 100:g}"
                for item in metric["split"]
            }
            initial |= {"responsibility": metric["responsibility"], "pie_version": plan.pie_version}
            form = SplitForm(initial=initial, plan=plan, salespeople=salespeople)
            forms[metric["responsibility"]] = {"form": form, "groups": _split_groups(form)}
    return forms


def _context(request: HttpRequest, plan: SalesPlan) -> dict[str, Any]:
    """What the page shows; the tables come first, so an export builds no forms."""
    tree = pie_page_tree(plan)
    labels = status_labels()
    currency = plan.organization.currency
    metrics_table, split_table = pie_tables(tree, labels, currency)
    return {
        "plan": plan,
        "tree": tree,
        "tables": [metrics_table, split_table],
        "metrics_table": metrics_table,
        "split_table": split_table,
        "status_labels": labels,
        "legend": [
            {"status": code, "label": labels[code], "colour": colour}
            for code, colour in STATUS_COLOURS.items()
        ],
        "errors": [f for f in tree["findings"] if f["severity"] == "error"],
    }


def _with_page_parts(request: HttpRequest, plan: SalesPlan, context: dict[str, Any]) -> None:
    """The chart and, for an editor, the forms (built only when the page is rendered)."""
    tree = context["tree"]
    editable = may_edit_plan(require_membership(request), plan)
    assign_form = AssignForm(initial={"pie_version": plan.pie_version}, plan=plan)
    split_forms = {}
    if editable:
        # One read of the people for every menu and form: the owner menus iterate this same
        # (now evaluated) queryset, the split forms take its salespeople.
        members = list(assign_form.fields["owner"].queryset)
        salespeople = [member for member in members if member.role == Role.SALESPERSON]
        split_forms = _split_forms(plan, tree, salespeople)
    context |= {
        "editable": editable,
        "figure": pie_sunburst(tree, dict(Role.choices), context["status_labels"]),
        "assign_form": assign_form,
        "split_forms": split_forms,
    }


def _render(request: HttpRequest, plan: SalesPlan, template: str) -> HttpResponse:
    context = _context(request, plan)
    if response := export_response(request, *context["tables"]):
        return response
    _with_page_parts(request, plan, context)
    return render(request, template, context)


def _responsibility(member: Membership, plan: SalesPlan, pk: object) -> Responsibility:
    queryset = Responsibility.objects.filter(plan=plan).select_related("plan")
    return access_object(member, queryset, pk, edit=True)


@cached_page
def pie_page(request: HttpRequest, plan_id: int) -> HttpResponse:
    return _render(request, _plan(request, plan_id), "responsibility/pie.html")


def _respond(request: HttpRequest, plan: SalesPlan) -> HttpResponse:
    """htmx gets the pie section again; a plain form post goes back to the page."""
    plan.refresh_from_db()
    if request.headers.get("HX-Request"):
        return _render(request, plan, "responsibility/_pie_body.html")
    return redirect("pie", plan_id=plan.pk)


def _apply(request: HttpRequest, change: Callable[[], object], success: str) -> None:
    """Run one pie change and say how it went; a stale pie or bad input changes nothing."""
    try:
        change()
    except services.StalePie:
        messages.error(request, _(STALE_MESSAGE))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success)


@require_POST
def pie_assign(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan(request, plan_id, edit=True)
    member = require_membership(request)
    form = AssignForm(request.POST, plan=plan)
    if not form.is_valid():
        messages.error(request, _("Choose an owner."))
        return _respond(request, plan)
    data = form.cleaned_data

    def change() -> object:
        if data.get("responsibility"):
            row = _responsibility(member, plan, data["responsibility"])
            return services.responsibility_reassign(
                responsibility=row, owner=data["owner"], expected_pie_version=data["pie_version"]
            )
        metric = access_object(
            member,
            PlanMetric.objects.filter(plan=plan).select_related("plan"),
            data.get("metric") or 0,
            edit=True,
        )
        return services.responsibility_assign(
            plan=plan, metric=metric, owner=data["owner"], expected_pie_version=data["pie_version"]
        )

    _apply(request, change, _("Owner saved."))
    return _respond(request, plan)


@require_POST
def pie_split(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan(request, plan_id, edit=True)
    form = SplitForm(request.POST, plan=plan)
    if not form.is_valid():
        problems = "; ".join(
            f"{form.fields[name].label}: {' '.join(errors)}"
            for name, errors in form.errors.items()
            if name in form.fields
        )
        messages.error(request, problems or _("Check the shares."))
        return _respond(request, plan)
    row = _responsibility(require_membership(request), plan, form.cleaned_data["responsibility"])
    _apply(
        request,
        lambda: services.responsibility_split(
            responsibility=row,
            shares=form.cleaned_data["shares"],
            expected_pie_version=form.cleaned_data["pie_version"],
        ),
        _("Team split saved."),
    )
    return _respond(request, plan)


@require_POST
def pie_reset(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan(request, plan_id, edit=True)
    if request.POST.get("pie_version") != str(plan.pie_version):
        messages.error(request, _(STALE_MESSAGE))
    else:
        services.pie_propose_default(plan=plan, only_unowned=False)
        messages.success(request, _("The default pie was proposed again from the roles."))
    return _respond(request, plan)

"""The pie page: sunburst, findings, and forms to reassign owners and cut the team split."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from metrics.models import PlanMetric
from responsibility import services
from responsibility.charts import pie_sunburst
from responsibility.forms import AssignForm, SplitForm, split_candidates
from responsibility.models import Responsibility
from responsibility.selectors import pie_tree
from salesplan.access import access_object, access_plan, may_edit_plan, require_membership
from salesplan.models import Membership, Role, SalesPlan

STALE_MESSAGE = gettext_noop(
    "Someone else changed this pie after you opened it. Their change is shown below; "
    "apply yours again if it is still needed."
)


def _plan(request: HttpRequest, plan_id: int, *, edit: bool = False) -> SalesPlan:
    """The plan (to change its pie: one the member may edit), through salesplan.access."""
    return access_plan(require_membership(request), plan_id, edit=edit)


def _context(request: HttpRequest, plan: SalesPlan) -> dict[str, Any]:
    tree = pie_tree(plan)
    editable = may_edit_plan(require_membership(request), plan)
    split_forms = {}
    if editable:
        salespeople = split_candidates(plan)
        for owner in tree["owners"]:
            for metric in owner["metrics"]:
                initial = {
                    f"share_{item['membership']}": f"{float(item['share']) * 100:g}"
                    for item in metric["split"]
                }
                initial |= {
                    "responsibility": metric["responsibility"],
                    "pie_version": plan.pie_version,
                }
                split_forms[metric["responsibility"]] = SplitForm(
                    initial=initial, plan=plan, salespeople=salespeople
                )
    return {
        "plan": plan,
        "tree": tree,
        "editable": editable,
        "figure": pie_sunburst(tree, dict(Role.choices)),
        "assign_form": AssignForm(initial={"pie_version": plan.pie_version}, plan=plan),
        "split_forms": split_forms,
        "errors": [f for f in tree["findings"] if f["severity"] == "error"],
    }


def _responsibility(member: Membership, plan: SalesPlan, pk: object) -> Responsibility:
    queryset = Responsibility.objects.filter(plan=plan).select_related("plan")
    return access_object(member, queryset, pk, edit=True)


def pie_page(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan(request, plan_id)
    return render(request, "responsibility/pie.html", _context(request, plan))


def _respond(request: HttpRequest, plan: SalesPlan) -> HttpResponse:
    """htmx gets the pie section again; a plain form post goes back to the page."""
    plan.refresh_from_db()
    if request.headers.get("HX-Request"):
        return render(request, "responsibility/_pie_body.html", _context(request, plan))
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

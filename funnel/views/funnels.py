"""Pages of funnels: the list, and one form (name + stages) to create or edit a funnel.
Views only route: funnel.forms reads, funnel.services validates and writes."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext

from funnel.forms import FunnelForm, StageFormSet, add_stage_errors, stage_initial, stages_of
from funnel.models import Funnel, Stage
from funnel.services import funnels as services
from salesplan.access import (
    access_object,
    may_edit_settings,
    require_membership,
    scoped,
)
from salesplan.fields import percent_text

STAGES_PREFIX = "stages"


def funnel_list(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    funnels = (
        scoped(Funnel, membership.organization)
        .annotate(plan_count=Count("plans"))
        .prefetch_related(Prefetch("stages", queryset=Stage.objects.order_by("position")))
    )
    rows = [
        {
            "funnel": funnel,
            "stages": [
                {"stage": stage, "conversion": percent_text(stage.conversion)}
                for stage in funnel.stages.all()
            ],
        }
        for funnel in funnels
    ]
    context = {"rows": rows, "can_edit": may_edit_settings(membership)}
    return render(request, "funnels/list.html", context)


def _save(request: HttpRequest, funnel: Funnel | None) -> HttpResponse:
    organization = require_membership(request, may_edit_settings).organization
    if request.method != "POST":
        form = FunnelForm(organization=organization, funnel=funnel)
        formset = StageFormSet(prefix=STAGES_PREFIX, initial=stage_initial(funnel))
        return _page(request, form, formset, funnel, [])
    form = FunnelForm(request.POST, organization=organization, funnel=funnel)
    formset = StageFormSet(request.POST, prefix=STAGES_PREFIX)
    general: list[str] = []
    if form.is_valid() and formset.is_valid():
        stages, rows = stages_of(formset)
        try:
            if funnel is None:
                funnel = services.funnel_create(
                    organization=organization, name=form.cleaned_data["name"], stages=stages
                )
            else:
                services.funnel_update(funnel=funnel, name=form.cleaned_data["name"], stages=stages)
        except ValidationError as error:
            general = add_stage_errors(error, rows, form)
        else:
            messages.success(request, gettext("The funnel is saved."))
            return redirect("funnel_list")
    return _page(request, form, formset, funnel, general)


def _page(
    request: HttpRequest, form: FunnelForm, formset: Any, funnel: Funnel | None, general: list[str]
) -> HttpResponse:
    context = {"form": form, "formset": formset, "funnel": funnel, "stage_errors": general}
    return render(request, "funnels/form.html", context)


def funnel_create(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


def funnel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    funnel = access_object(require_membership(request), Funnel, pk, edit=True)
    return _save(request, funnel)

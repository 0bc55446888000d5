"""Import pages: upload → preview and mapping → progress → result. Thin: funnel.imports works."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from funnel import imports
from funnel.models import Funnel, ImportJob
from salesplan.access import can_edit_settings, get_scoped_or_404, membership_for, scoped
from salesplan.models import Membership

PRESETS = [
    ("", gettext_lazy("Detect from the headers")),
    ("amocrm", "amoCRM"),
    ("bitrix24", "Bitrix24"),
    ("maven", "Maven CRM"),
    ("generic", gettext_lazy("Salesplan template")),
]


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CRM export (CSV or XLSX)"))
    funnel = forms.ModelChoiceField(queryset=Funnel.objects.none(), label=gettext_lazy("Funnel"))
    preset = forms.ChoiceField(choices=PRESETS, required=False, label=gettext_lazy("Format"))

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        funnels = scoped(Funnel, organization)
        self.fields["funnel"].queryset = funnels
        if funnels.count() == 1:
            self.fields["funnel"].initial = funnels.first()


def _editor(request: HttpRequest) -> Membership:
    membership = membership_for(request)
    if not can_edit_settings(membership):
        raise PermissionDenied
    assert membership is not None
    return membership


def _job(request: HttpRequest, pk: int) -> ImportJob:
    membership = _editor(request)
    return get_scoped_or_404(
        ImportJob.objects.select_related("funnel"), membership.organization, pk=pk
    )


def import_list(request: HttpRequest) -> HttpResponse:
    membership = _editor(request)
    form = UploadForm(
        request.POST or None, request.FILES or None, organization=membership.organization
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.import_create(
                membership=membership,
                funnel=form.cleaned_data["funnel"],
                uploaded=form.cleaned_data["file"],
                preset=form.cleaned_data["preset"] or None,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error("file", message)
        else:
            return redirect("import_detail", pk=job.pk)
    jobs = scoped(ImportJob, membership.organization).select_related("funnel")[:50]
    return render(request, "imports/list.html", {"form": form, "jobs": jobs})


TABLE_LABELS = {
    "leads": gettext_lazy("Leads"),
    "stage_events": gettext_lazy("Stage events"),
    "payments": gettext_lazy("Payments"),
    "spend": gettext_lazy("Marketing spend"),
    "calls": gettext_lazy("Calls"),
    "tasks": gettext_lazy("Tasks"),
}


def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    context: dict[str, Any] = {
        "job": job,
        "progress": imports.progress(job),
        "result_rows": [
            {"label": TABLE_LABELS.get(table, table), **counts}
            for table, counts in job.counts.items()
            if isinstance(counts, dict)
        ],
    }
    if job.status == ImportJob.Status.PREVIEW:
        context["preview"] = _preview_context(job)
    return render(request, "imports/detail.html", context)


def _preview_context(job: ImportJob) -> dict[str, Any]:
    preview = imports.import_preview(job)
    preview["field_rows"] = [
        {
            "field": field,
            "column": job.mapping.get(field, ""),
            "required": field in preview["required"],
        }
        for field in preview["fields"]
    ]
    preview["targets"] = [*preview["our_stages"], "won", "lost"]
    return preview


@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    mapping = {
        key.removeprefix("map_"): value
        for key, value in request.POST.items()
        if key.startswith("map_")
    }
    stage_map = {
        request.POST.get(f"raw_{index}", ""): request.POST.get(f"stage_{index}", "")
        for index in range(int(request.POST.get("stage_count", "0") or 0))
    }
    try:
        imports.import_confirm(
            job=job,
            mapping=mapping or None,
            stage_map=stage_map or None,
            valid_rows_only=request.POST.get("valid_rows_only") == "on",
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect("import_detail", pk=job.pk)


def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment htmx polls while the job runs; the whole page once it ends."""
    job = _job(request, pk)
    response = render(
        request, "imports/_progress.html", {"job": job, "progress": imports.progress(job)}
    )
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        response["HX-Refresh"] = "true"
    return response


def import_errors(request: HttpRequest, pk: int) -> FileResponse:
    job = _job(request, pk)
    if not job.error_report:
        raise Http404(_("This import has no errors."))
    return FileResponse(
        job.error_report.open("rb"),
        as_attachment=True,
        filename=f"{job.original_name}-errors.csv",
        content_type="text/csv",
    )

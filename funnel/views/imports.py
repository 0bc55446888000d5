"""Import pages: upload → preview and mapping → progress → result. Thin: the work is in
funnel.services.imports."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from funnel import importers
from funnel.forms import UploadForm
from funnel.models import ImportJob
from funnel.selectors import access_import, error_report
from funnel.selectors import import_list as jobs_of
from funnel.services import import_checks, imports, jobs, uploads
from salesplan.access import may_edit_settings, require_membership
from salesplan.errors import error_lines
from salesplan.limits import MAX_CRM_STAGES, TooLarge
from salesplan.models import CURRENCY_CHOICES
from salesplan.queue import QueueUnavailable, queue_unavailable_message


def _job(request: HttpRequest, pk: int) -> ImportJob:
    return access_import(require_membership(request, may_edit_settings), pk)


def import_list(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request, may_edit_settings)
    form = UploadForm(
        request.POST or None, request.FILES or None, organization=membership.organization
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            job = uploads.import_create(
                membership=membership,
                funnel=form.cleaned_data["funnel"],
                uploaded=form.cleaned_data["file"],
                preset=form.cleaned_data["preset"] or None,
            )
        except ValidationError as error:
            form.add_error("file", error_lines(error))
            if isinstance(error, TooLarge):  # the limit in words, and 413 as the API answers
                status = 413
        else:
            return redirect("import_detail", pk=job.pk)
    jobs = jobs_of(member=membership)
    return render(request, "imports/list.html", {"form": form, "jobs": jobs}, status=status)


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
    if job.status in (ImportJob.Status.PREVIEW, ImportJob.Status.CHECKING):
        context["preview"] = _preview_context(job)
        context["changes"] = import_checks.import_changes(job)
    return render(request, "imports/detail.html", context)


def _preview_context(job: ImportJob) -> dict[str, Any]:
    preview = imports.import_preview(job)
    preview["field_rows"] = [
        {
            "field": field,
            "label": importers.FIELD_LABELS.get(field, field),
            "column": job.mapping.get(field, ""),
            "constant": job.constants.get(field, ""),
            "takes_constant": field in importers.CONSTANT_FIELDS,
            "required": field in preview["required"],
        }
        for field in preview["fields"]
    ]
    preview["targets"] = [*preview["our_stages"], "won", "lost"]
    currency = job.organization.currency
    preview["rate_rows"] = [
        {"code": code, "rate": job.rates.get(code, "")}
        for code, _label in CURRENCY_CHOICES
        if code != currency
    ]
    return preview


def _settings(request: HttpRequest) -> imports.ImportSettings:
    """The preview form's choices: map_<field> columns, const_<field> values, the stage rows,
    rate_<code> rates and the two options."""
    post = request.POST
    mapping = {
        key.removeprefix("map_"): value for key, value in post.items() if key.startswith("map_")
    }
    constants = {
        key.removeprefix("const_"): value for key, value in post.items() if key.startswith("const_")
    }
    rates = {
        key.removeprefix("rate_"): value for key, value in post.items() if key.startswith("rate_")
    }
    stage_map = {
        post.get(f"raw_{index}", ""): post.get(f"stage_{index}", "")
        for index in range(_stage_count(post.get("stage_count")))
    }
    return imports.ImportSettings(
        mapping=mapping or None,
        stage_map=stage_map or None,
        constants=constants if "constants_sent" in post else None,
        rates=rates if "rates_sent" in post else None,
        valid_rows_only=post.get("valid_rows_only") == "on",
        clear_empty=post.get("clear_empty") == "on",
    )


@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Import with the form's settings, or (the "Check what will change" button) queue a dry
    run that counts what the import would change."""
    job = _job(request, pk)
    run = imports.import_check if "check" in request.POST else imports.import_confirm
    try:
        run(job=job, settings=_settings(request))
    except ValidationError as error:
        for message in error_lines(error):
            messages.error(request, message)
    except QueueUnavailable:
        return _queue_down(request, pk)
    return redirect("import_detail", pk=job.pk)


@require_POST
def import_run_again(request: HttpRequest, pk: int) -> HttpResponse:
    """The "Run again" button of a failed import ("Queue it now" of a waiting one)."""
    try:
        jobs.import_run_again(job=_job(request, pk))
    except ValidationError as error:
        for message in error_lines(error):
            messages.error(request, message)
    except QueueUnavailable:
        return _queue_down(request, pk)
    return redirect("import_detail", pk=pk)


def _queue_down(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's page with the reason, as a 503: the job is kept, waiting for the queue."""
    messages.error(request, queue_unavailable_message())
    response = import_detail(request, pk)
    response.status_code = 503
    return response


def _stage_count(text: str | None) -> int:
    """The number of stage rows the form says it sends, at most MAX_CRM_STAGES (the API's
    stage_map has the same limit)."""
    try:
        return max(0, min(int(text or 0), MAX_CRM_STAGES))
    except ValueError:
        return 0


def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment htmx polls while the job runs; the whole page once it ends."""
    job = _job(request, pk)
    response = render(
        request, "imports/_progress.html", {"job": job, "progress": imports.progress(job)}
    )
    if job.status not in (
        ImportJob.Status.INSPECTING,
        ImportJob.Status.WAITING,
        ImportJob.Status.QUEUED,
        ImportJob.Status.RUNNING,
        ImportJob.Status.CHECKING,
    ):
        response["HX-Refresh"] = "true"
    return response


def import_errors(request: HttpRequest, pk: int) -> FileResponse:
    return error_report(_job(request, pk))

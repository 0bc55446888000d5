"""File imports: upload → preview (detected preset, column and stage mapping) → confirm → a
job (`funnel.tasks.run_import`) that parses in chunks, stages them, and writes everything in
one transaction.

The page and the API call these same functions. The upload is inspected once: what the preview
shows (headers, first rows, the CRM's stages with their counts) is stored on the job and read
from there. By default nothing is written when any row is bad (the report says why); with
`valid_rows_only` the good rows are written and the bad ones reported. Re-importing the same
file changes nothing; an updated export updates what changed.
"""

import csv
import io
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from funnel import importers, signals
from funnel.identities import PERSON_PREFIXES
from funnel.importers import FileInfo, currencies
from funnel.ingest.loader import Loader
from funnel.ingest.schema import LOST, WON, RowError
from funnel.models import Funnel, ImportJob, SavedMapping, Stage, StageMapping
from funnel.services import identities, jobs
from funnel.stage_map import our_stage, resolve_stage_map
from salesplan.output import spreadsheet_row

logger = logging.getLogger(__name__)

# Rows parsed and staged at a time: bounds memory (a chunk of 100,000 CRM rows is ~100 MB in
# pandas) while keeping the per-chunk overhead small.
CHUNK_ROWS = 100_000
# The job page and API show this many errors; the downloadable report has all of them.
ERRORS_SHOWN = 200
# Lead fields whose empty cells may clear a stored value ("empty cells clear values"): the rest
# are the lead's identity, its history or its outcome, which an empty cell never erases.
CLEARABLE_FIELDS = frozenset(
    {
        "name",
        "channel",
        "is_target",
        "non_target_reason",
        "responsible",
        "company",
        "gross_margin",
        "product",
        "is_new_client",
    }
)


def _path(job: ImportJob) -> Path:
    return Path(job.file.path)


def _stages(funnel: Funnel) -> list[Stage]:
    return list(funnel.stages.order_by("position"))


def file_info(job: ImportJob) -> FileInfo:
    """What the upload's inspection found, as stored on the job (a job stored before the
    preview was kept is inspected once more, and then keeps it)."""
    if job.file_info:
        return FileInfo.from_json(job.file_info)
    if job.status == ImportJob.Status.INSPECTING:  # its job reads it; never the request
        raise ValidationError({"file": [_("The file is still being read: a moment, please.")]})
    if not job.file or not _path(job).exists():
        raise ValidationError({"file": [_("This import's file is no longer stored.")]})
    try:
        info = importers.inspect_file(_path(job), filename=job.original_name)
    except importers.ImportFileError as error:
        raise ValidationError({"file": [str(error)]}) from error
    job.file_info = info.to_json()
    ImportJob.objects.filter(pk=job.pk).update(file_info=job.file_info)
    return info


def _remember_stage_map(job: ImportJob, stages: list[Stage]) -> None:
    """Keep the confirmed stage mapping for the next export of this CRM into this funnel."""
    by_name = {stage.name: stage for stage in stages}
    for raw, target in job.stage_map.items():
        StageMapping.objects.update_or_create(
            funnel=job.funnel,
            source=job.source,
            external=raw.casefold()[:200],
            defaults={
                "stage": by_name.get(target),
                "outcome": target if target in (WON, LOST) else "",
            },
        )


def import_preview(job: ImportJob) -> dict[str, Any]:
    """What the preview shows: the first rows, the mapping, the CRM's stages and where they
    go. Read from what the upload stored: the file is not opened."""
    info = file_info(job)
    return {
        "headers": list(info.headers),
        "sample": info.sample,
        "total_rows": info.total_rows,
        "encoding": info.encoding,
        "delimiter": info.delimiter,
        "preset": job.preset,
        "mapping": job.mapping,
        "missing_columns": importers.missing_columns(job.mapping, info.headers),
        "crm_stages": [
            {"value": value, "count": count, "maps_to": job.stage_map.get(value, "")}
            for value, count in job.crm_stages
        ],
        "our_stages": [s.name for s in _stages(job.funnel)],
        "fields": list(importers.MAPPABLE_FIELDS),
        "required": list(importers.REQUIRED_FIELDS),
    }


@dataclass(frozen=True)
class ImportSettings:
    """What the person chose for a file, as the page and the API pass it to `import_check`
    and `import_confirm`: None keeps what the job has (the detected mapping, the stage map)."""

    mapping: dict[str, str] | None = None
    stage_map: dict[str, str] | None = None
    constants: dict[str, str] | None = None
    rates: dict[str, str] | None = None
    valid_rows_only: bool = False
    clear_empty: bool = False


def _apply(job: ImportJob, settings: ImportSettings, stages: list[Stage]) -> FileInfo:
    """Check `settings` against the file and the funnel and set them on the job (not saved).
    Raises ValidationError naming each wrong setting."""
    if job.status == ImportJob.Status.INSPECTING:
        raise ValidationError({"file": [_("The file is still being read: a moment, please.")]})
    if job.status not in (ImportJob.Status.PREVIEW, ImportJob.Status.CHECKING):
        raise ValidationError({"status": [_("This import has already been started.")]})
    info = file_info(job)
    errors: dict[str, list[str]] = {}
    if settings.constants is not None:
        constants = {field: str(value).strip() for field, value in settings.constants.items()}
        constants = {field: value for field, value in constants.items() if value}
        errors.update(_constant_errors(job, constants, stages))
        if importers.CRM_STAGE in constants and not errors:
            constants[importers.CRM_STAGE] = (
                our_stage(
                    constants[importers.CRM_STAGE],
                    [stage.name for stage in stages],
                    [stage.pk for stage in stages],
                )
                or constants[importers.CRM_STAGE]
            )
        job.constants = constants
    if settings.mapping is not None:
        unknown = sorted(set(settings.mapping.values()) - set(info.headers) - {""})
        if unknown:
            errors["mapping"] = [
                _("The file has no column %(columns)s.") % {"columns": ", ".join(unknown)}
            ]
        job.mapping = {field: column for field, column in settings.mapping.items() if column}
    # A field given one value for the whole file takes no column.
    job.mapping = {
        field: column for field, column in job.mapping.items() if field not in job.constants
    }
    missing = importers.missing_columns(job.mapping, info.headers, job.constants)
    if missing:
        errors.setdefault("mapping", []).append(
            _("Map a column to each required field: %(fields)s.") % {"fields": ", ".join(missing)}
        )
    if settings.stage_map is not None:
        resolved = resolve_stage_map(
            settings.stage_map,
            [stage.name for stage in stages],
            stage_ids=[stage.pk for stage in stages],
        )
        if resolved.unknown:
            errors["stage_map"] = [_unknown_stages(resolved.unknown, stages)]
        job.stage_map = resolved.targets
    if settings.rates is not None:
        rates, rate_errors = currencies.check_rates(settings.rates, job.organization.currency)
        if rate_errors:
            errors["rates"] = rate_errors
        job.rates = rates
    if errors:
        raise ValidationError(errors)
    job.valid_rows_only = settings.valid_rows_only
    job.clear_empty = settings.clear_empty
    return info


def _constant_errors(
    job: ImportJob, constants: dict[str, str], stages: list[Stage]
) -> dict[str, list[str]]:
    reasons = importers.check_constants(constants, tz=job.organization.time_zone)
    stage = constants.get(importers.CRM_STAGE)
    names, ids = [s.name for s in stages], [s.pk for s in stages]
    if stage and importers.CRM_STAGE not in reasons and our_stage(stage, names, ids) is None:
        reasons[importers.CRM_STAGE] = _unknown_stages([("", stage)], stages)
    if not reasons:
        return {}
    return {
        "constants": [
            f"{importers.FIELD_LABELS.get(field, field)}: {reason}"
            for field, reason in reasons.items()
        ]
    }


def _unknown_stages(unknown: list[tuple[str, str]], stages: list[Stage]) -> str:
    return _(
        "Unknown stage %(stages)s; use a stage of the funnel by its name or id "
        "(%(ours)s), “won” or “lost”."
    ) % {
        "stages": ", ".join(sorted(target for _raw, target in unknown)),
        "ours": ", ".join(f"{stage.name} = {stage.pk}" for stage in stages),
    }


SETTINGS_FIELDS = [
    "mapping",
    "stage_map",
    "constants",
    "rates",
    "valid_rows_only",
    "clear_empty",
    "status",
]


def import_confirm(
    *, job: ImportJob, settings: ImportSettings | None = None, wait: bool = False
) -> ImportJob:
    """Check the settings and queue the job (once the transaction commits), or with `wait`
    run it here and now (a command that needs it done). With `clear_empty`, an empty cell of a
    mapped column clears the stored value (by default a file updates only what it carries,
    and an empty cell is "unknown")."""
    settings = settings or ImportSettings()
    stages = _stages(job.funnel)
    info = _apply(job, settings, stages)
    if settings.mapping is not None and not job.preset:
        SavedMapping.objects.update_or_create(
            organization=job.organization,
            header_signature=importers.header_signature(info.headers),
            defaults={"mapping": job.mapping},
        )
    _remember_stage_map(job, stages)
    # "Waiting for the queue" until the broker takes it (funnel.services.jobs): a broker
    # that is down raises QueueUnavailable (503) and the sweep queues the job later.
    job.status = ImportJob.Status.WAITING
    _restart(job)
    job.save(update_fields=[*SETTINGS_FIELDS, *RESTART_FIELDS])
    if wait:
        import_run(job_id=job.pk)
    else:
        jobs.queue_import(job)
    return job


RESTART_FIELDS = ["heartbeat_at", "attempts", "language"]


def _restart(job: ImportJob) -> None:
    job.heartbeat_at = timezone.now()
    job.attempts = 0
    job.language = translation.get_language() or job.language


def import_check(*, job: ImportJob, settings: ImportSettings | None = None) -> ImportJob:
    """Check the settings and queue a dry run (`funnel.tasks.check_import`) that reads the
    file, stages it and counts what the import would change; nothing is written. The job stays
    open: it may be confirmed (or checked again) at any time, the latest check wins."""
    _apply(job, settings or ImportSettings(), _stages(job.funnel))
    job.status = ImportJob.Status.CHECKING
    job.changes = {"token": uuid.uuid4().hex}
    job.processed_rows = 0
    job.started_at = None
    _restart(job)
    job.save(
        update_fields=[*SETTINGS_FIELDS, *RESTART_FIELDS, "changes", "processed_rows", "started_at"]
    )
    jobs.queue_check(job)
    return job


def import_run(*, job_id: int) -> None:
    """Claim the job (a conditional UPDATE, so two workers never run it twice), parse and
    stage it chunk by chunk with progress, then write everything in one transaction."""
    if not jobs.claim_import(job_id):
        return
    job = ImportJob.objects.select_related("organization", "funnel").get(pk=job_id)
    try:
        _run(job)
    except Exception as error:  # the job must end in a state the user can read
        logger.exception("import %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED,
            finished_at=timezone.now(),
            message=_("The import stopped: %(error)s") % {"error": error},
        )


def stage_file(
    job: ImportJob, loader: Loader, *, info: FileInfo, people: dict[str, str] | None = None
) -> list[RowError]:
    """Read the whole file chunk by chunk into the loader's staging tables, counting the rows
    read on the job (its progress); return the rows' errors. `people` collects the CRM user
    ids the file names with a name beside them."""
    stages = _stages(job.funnel)
    stage_map = resolve_stage_map(job.stage_map, [stage.name for stage in stages]).positions
    tz = ZoneInfo(job.organization.time_zone)
    errors: list[RowError] = []
    for chunk in importers.read_leads(
        _path(job),
        info,
        job.mapping,
        stage_map,
        last_position=stages[-1].position,
        chunk_rows=CHUNK_ROWS,
        tz=str(tz),
        fallback_created_at=datetime.combine(
            job.created_at.astimezone(tz).date(), datetime.min.time(), tzinfo=tz
        ),
        constants=job.constants,
        currency=job.organization.currency,
        rates=job.rates,
        person_prefix=PERSON_PREFIXES.get(job.source, ""),
    ):
        if people is not None:
            people.update(chunk.people)
        loader.add("leads", chunk.frame)
        if chunk.payments is not None:  # a won deal's further product lines
            loader.add("payments", chunk.payments)
        errors.extend(chunk.errors)
        jobs.beat(job.pk, rows=chunk.rows)
    return errors


def loader_for(job: ImportJob) -> Loader:
    clear = frozenset(CLEARABLE_FIELDS & set(job.mapping)) if job.clear_empty else frozenset()
    return Loader(organization=job.organization, funnel=job.funnel, source=job.source, clear=clear)


def _run(job: ImportJob) -> None:
    info = file_info(job)
    loader = loader_for(job)
    people: dict[str, str] = {}
    try:
        errors = stage_file(job, loader, info=info, people=people)
        if errors and not job.valid_rows_only:
            loader.abort()
            _finish(
                job,
                ImportJob.Status.FAILED,
                errors,
                {},
                [],
                _(
                    "Nothing was imported: %(count)s rows have errors. Fix them, or choose "
                    "to import the valid rows only."
                )
                % {"count": len({e.line for e in errors})},
            )
            return
        ImportJob.objects.filter(pk=job.pk).update(
            message=_("Writing to the database…"),
            processed_rows=info.total_rows,
            heartbeat_at=timezone.now(),
        )
        with transaction.atomic():
            result = loader.finish()
            refused = bool(result.errors) and not job.valid_rows_only
            if refused:  # rows only the database could judge (a new lead with no date)
                transaction.set_rollback(True)
            else:
                identities.learn_people(job.organization, people)
                signals.actuals_loaded.send(
                    sender=ImportJob,
                    organization_id=job.organization_id,
                    funnel_id=job.funnel_id,
                    since=result.earliest,
                )
    except BaseException:
        loader.abort()
        raise
    if refused:
        _finish(job, ImportJob.Status.FAILED, errors + result.errors, {}, [], _nothing(result))
        return
    _finish(
        job, ImportJob.Status.DONE, errors + result.errors, result.counts, result.unknown_people, ""
    )


def jobs_interrupted() -> tuple[int, int]:
    """End the jobs a stopped process left behind (the embedded default runs them in a thread
    of the web process, which dies with it): a queued or running import fails with the reason,
    a check is reopened. Returns (imports failed, checks reopened)."""
    failed = ImportJob.objects.filter(
        status__in=(ImportJob.Status.WAITING, ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
    ).update(
        status=ImportJob.Status.FAILED,
        finished_at=timezone.now(),
        message=_(
            "The import was interrupted: the server stopped while it ran. Nothing of it was "
            "written; run it again."
        ),
    )
    failed += ImportJob.objects.filter(status=ImportJob.Status.INSPECTING).update(
        status=ImportJob.Status.FAILED,
        finished_at=timezone.now(),
        message=_("The server stopped while it read this file: upload it again."),
    )
    reopened = ImportJob.objects.filter(status=ImportJob.Status.CHECKING).update(
        status=ImportJob.Status.PREVIEW, changes={}, started_at=None, processed_rows=0
    )
    return failed, reopened


def _nothing(result: Any) -> str:
    return _(
        "Nothing was imported: %(count)s rows have errors. Fix them, or choose to import the "
        "valid rows only."
    ) % {"count": len({e.line for e in result.errors})}


def _finish(
    job: ImportJob,
    status: str,
    errors: list[RowError],
    counts: dict[str, Any],
    unknown_people: list[str],
    message: str,
) -> None:
    report = ""
    if errors:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([_("line"), _("column"), _("value"), _("reason")])
        for error in sorted(errors, key=lambda e: (e.line, e.column)):
            # A CRM's cell or header may be a formula ("=HYPERLINK(…)"): never live in Excel.
            writer.writerow(spreadsheet_row([error.line, error.column, error.value, error.reason]))
        name = f"{Path(job.original_name).stem}-errors.csv"
        job.error_report.save(name, ContentFile(buffer.getvalue().encode("utf-8-sig")), save=False)
        report = job.error_report.name
    ImportJob.objects.filter(pk=job.pk).update(
        status=status,
        finished_at=timezone.now(),
        counts={**counts, "unknown_people": unknown_people},
        error_count=len(errors),
        errors=[e.as_dict() for e in sorted(errors, key=lambda e: (e.line, e.column))][
            :ERRORS_SHOWN
        ],
        error_report=report,
        message=message,
    )


def progress(job: ImportJob) -> dict[str, Any]:
    """Percent, rows per second and the time left, for the progress bar and the API."""
    total = max(job.total_rows, 1)
    done = min(job.processed_rows, total)
    elapsed = None
    if job.started_at:
        end = job.finished_at or timezone.now()
        elapsed = max((end - job.started_at).total_seconds(), 0.001)
    rate = done / elapsed if elapsed else None
    finished = job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED)
    # Parsing is most of the work; the final write takes the last tenth of the bar.
    percent = 100 if finished else round(90 * done / total, 1)
    eta = None
    if rate and not finished:
        eta = round((total - done) / rate + 0.1 * (elapsed or 0), 1)
    return {
        "percent": percent,
        "processed_rows": done,
        "total_rows": job.total_rows,
        "rows_per_second": round(rate, 1) if rate else None,
        "eta_seconds": eta,
        "elapsed_seconds": round(elapsed, 1) if elapsed else None,
    }

"""Uploads: a CRM export stored and inspected once, then shown as the import's preview
(funnel.services.imports takes it from there: confirm → job → result).

What the preview shows (headers, first rows, the detected preset, the CRM's stages with their
counts) is stored on the job. A small file is inspected in the upload's request; one above
IMPORT_INSPECT_INLINE_MB is kept "reading the file" and inspected by a job
(`funnel.inspect_import`), so no request waits seconds for a big workbook; its page shows
the progress bar until the preview is there (or the reason it cannot be read).
"""

import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from funnel import importers
from funnel.importers import FileInfo
from funnel.models import Funnel, ImportJob, SavedMapping, Source, StageMapping
from funnel.services.jobs import INSPECT_TASK
from salesplan.limits import TooLarge
from salesplan.models import Membership
from salesplan.queue import QueueUnavailable, enqueue

logger = logging.getLogger(__name__)

MB = 1024 * 1024


def _path(job: ImportJob) -> Path:
    return Path(job.file.path)


PRESET_SOURCES = {
    "amocrm": Source.AMOCRM,
    "bitrix24": Source.BITRIX24,
    "maven": Source.MAVEN,
    "generic": Source.FILE,
    "": Source.FILE,
}


def import_create(
    *,
    membership: Membership,
    funnel: Funnel,
    uploaded: UploadedFile,
    preset: str | None = None,
    wait: bool = False,
) -> ImportJob:
    """Store the file, inspect it once, detect what it is and keep what the preview shows
    (a big file in a job, unless `wait`: a command that needs the preview now).
    Raises ValidationError for a file it cannot read (encoding, format), with a message for
    the user; nothing is kept then. A file over a limit (salesplan.limits) raises TooLarge
    (413) for its size, before it is stored or read, and ValidationError for its rows,
    columns or cells, before it is parsed; the stored file is removed either way."""
    try:
        importers.check_upload_size(uploaded.size or 0)
    except importers.FileTooLarge as error:
        raise TooLarge({"file": [str(error)]}) from error
    job = ImportJob(
        organization=membership.organization,
        funnel=funnel,
        created_by=membership,
        original_name=Path(uploaded.name or "upload").name[:300],
        preset=preset or "",
        source=Source.FILE,
    )
    job.file.save(job.original_name, uploaded, save=False)
    try:
        if not wait and job.file.size > settings.IMPORT_INSPECT_INLINE_MB * MB:
            importers.check_package(_path(job))  # a zip bomb is refused here and now
            try:
                return _inspect_later(job)
            except QueueUnavailable:  # no queue to read it: read it here, slower but done
                logger.warning("import %s: no queue, the upload is read in its request", job.pk)
        return _inspect_new(job, status=ImportJob.Status.PREVIEW)
    except importers.ImportFileError as error:
        _forget(job)
        refusal = TooLarge if isinstance(error, importers.FileTooLarge) else ValidationError
        raise refusal({"file": [str(error)]}) from error
    except Exception:  # whatever else went wrong, an upload that is no job leaves no file
        _forget(job)
        raise


def _forget(job: ImportJob) -> None:
    """A refused upload: its file removed, and its job if it was saved."""
    job.file.delete(save=False)
    if job.pk:
        job.delete()


def _inspect_later(job: ImportJob) -> ImportJob:
    """Keep the job "reading the file" and queue its inspection (`funnel.inspect_import`): a
    big workbook takes seconds to read, which no request should wait for."""
    job.status = ImportJob.Status.INSPECTING
    job.heartbeat_at = timezone.now()
    job.language = translation.get_language() or ""
    job.save()
    enqueue(INSPECT_TASK, job.pk, job.language or "ru")
    job.refresh_from_db()  # (read already, when jobs run inline)
    return job


def import_inspect(*, job_id: int) -> None:
    """The queued inspection of a big upload (`funnel.inspect_import`): the job becomes a
    preview, or fails with the reason (a file it cannot read, over a limit) and its file is
    removed. A job no longer being read (done by an earlier delivery) is left alone."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.INSPECTING).update(
        heartbeat_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return
    job = ImportJob.objects.select_related("organization", "funnel").get(pk=job_id)
    try:
        if not job.file or not Path(job.file.path).exists():
            raise importers.ImportFileError(_("This import's file is no longer stored."))
        _inspect_new(job, status=ImportJob.Status.PREVIEW)
    except importers.ImportFileError as error:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED,
            message=str(error),
            finished_at=timezone.now(),
            file="",
        )


def _inspect_new(job: ImportJob, *, status: str | None = None) -> ImportJob:
    """The stored upload inspected: what it is, its mapping and stages; the job saved (with
    `status`, when given)."""
    info = importers.inspect_file(_path(job), filename=job.original_name)
    job.preset = job.preset or importers.detect_preset(info.headers)
    job.source = PRESET_SOURCES.get(job.preset, Source.FILE)
    job.encoding = info.encoding or ""
    job.delimiter = info.delimiter or ""
    job.total_rows = info.total_rows
    job.file_info = info.to_json()
    saved = SavedMapping.objects.filter(
        organization_id=job.organization_id,
        header_signature=importers.header_signature(info.headers),
    ).first()
    job.mapping = saved.mapping if saved else importers.default_mapping(job.preset, info.headers)
    job.crm_stages = _crm_stages(job, info)
    job.stage_map = _default_stage_map(job)
    if status is not None:
        job.status = status
    job.save()
    return job


def _crm_stages(job: ImportJob, info: FileInfo) -> list[list[Any]]:
    """The file's CRM stages with their row counts (one pass over the stage column)."""
    if importers.missing_columns(job.mapping, info.headers) or importers.CRM_STAGE not in (
        job.mapping
    ):
        return []
    return [[value, count] for value, count in importers.crm_stages(_path(job), info, job.mapping)]


def _default_stage_map(job: ImportJob) -> dict[str, str]:
    """The preset's guess, where the user's choice for this funnel and CRM wins."""
    stages = list(job.funnel.stages.order_by("position"))
    raw = [value for value, _count in job.crm_stages]
    key_stage = next((s.name for s in stages if s.is_key_stage), None)
    proposed = importers.default_stage_map(
        job.preset, raw, [s.name for s in stages], key_stage_name=key_stage
    )
    saved = {
        mapping.external: mapping.outcome or (mapping.stage.name if mapping.stage else "")
        for mapping in StageMapping.objects.filter(
            funnel=job.funnel, source=job.source, external__in=[r.casefold() for r in raw]
        ).select_related("stage")
    }
    for value in raw:
        if saved.get(value.casefold()):
            proposed[value] = saved[value.casefold()]
    return proposed

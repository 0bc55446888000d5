"""The events API's batches: validated item by item (funnel.importers.batch), stored as they
arrived (RawRecord) and loaded idempotently, in one transaction."""

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from funnel import signals
from funnel.importers.batch import Batch, ItemError, build_frames
from funnel.ingest.loader import load_frames
from funnel.models import Funnel, RawRecord, Source
from salesplan.access import scoped
from salesplan.limits import MAX_ID
from salesplan.models import Organization

# The first errors kept on the stored record (the response carries them all).
RECORD_ERRORS = 100


class BatchRejected(Exception):
    """Nothing was written; `errors` says why, item by item."""

    def __init__(self, errors: list[ItemError]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


@dataclass
class BatchLoaded:
    record: RawRecord
    counts: dict[str, Any]
    unknown_people: list[str]
    errors: list[ItemError] = field(default_factory=list)


def _settings_of(
    organization: Organization, body: dict[str, Any]
) -> tuple[list[ItemError], Funnel | None, str, bool]:
    """The batch's funnel, source and mode; any error here rejects the whole batch."""
    errors = []
    funnel_id = body.get("funnel")
    funnel = None
    if isinstance(funnel_id, int) and not isinstance(funnel_id, bool) and 0 < funnel_id <= MAX_ID:
        funnel = scoped(Funnel, organization).filter(pk=funnel_id).first()
    if funnel is None:
        errors.append(
            ItemError(
                None,
                None,
                "funnel",
                "" if funnel_id is None else str(funnel_id)[:100],
                _("No funnel with this id in your organization."),
            )
        )
    source = body.get("source", Source.API)
    if source not in Source.values:
        errors.append(
            ItemError(
                None,
                None,
                "source",
                str(source)[:100],
                _("Expected one of: %(sources)s.") % {"sources": ", ".join(Source.values)},
            )
        )
    valid_items_only = body.get("valid_items_only", False)
    if not isinstance(valid_items_only, bool):
        errors.append(
            ItemError(
                None,
                None,
                "valid_items_only",
                str(valid_items_only)[:100],
                _("Expected true or false."),
            )
        )
    return errors, funnel, str(source), valid_items_only is True


def events_load(*, organization: Organization, body: dict[str, Any]) -> BatchLoaded:
    """Validate every item, then store the batch and load it in one transaction: a rejected
    batch leaves nothing. By default one bad item rejects the batch (BatchRejected with every
    error); with `valid_items_only` the valid items are loaded and the errors returned."""
    settings_errors, funnel, source, valid_items_only = _settings_of(organization, body)
    if settings_errors or funnel is None:
        raise BatchRejected(settings_errors)
    batch: Batch = build_frames(
        body=body,
        stage_names=list(funnel.stages.order_by("position").values_list("name", flat=True)),
        time_zone=organization.time_zone,
    )
    if batch.errors and not valid_items_only:
        raise BatchRejected(batch.errors)
    with transaction.atomic():
        record = RawRecord.objects.create(
            organization=organization,
            kind=RawRecord.Kind.EVENTS,
            source=source,
            content_type="application/json",
            # json.dumps escapes control characters, NUL included: storable everywhere.
            body=json.dumps(body, ensure_ascii=False, default=str),
        )
        result = load_frames(
            organization=organization,
            funnel=funnel,
            source=source,
            frames=batch.frames,
            valid_rows_only=valid_items_only,
        )
        result_errors = [batch.locate(error) for error in result.errors]
        if result_errors and not valid_items_only:
            raise BatchRejected(batch.errors + result_errors)
        everything = batch.errors + result_errors
        record.status = RawRecord.Status.PROCESSED
        record.processed_at = timezone.now()
        record.error = (
            json.dumps([e.as_dict() for e in everything[:RECORD_ERRORS]], ensure_ascii=False)
            if everything
            else ""
        )
        record.save(update_fields=["status", "processed_at", "error"])
        signals.actuals_loaded.send(
            sender=RawRecord,
            organization_id=organization.pk,
            funnel_id=funnel.pk,
            since=result.earliest,
        )
    return BatchLoaded(record, result.counts, result.unknown_people, everything)

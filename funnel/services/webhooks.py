"""CRM webhooks: stored first, answered at once, processed by `funnel.tasks.process_webhook`.

amoCRM posts `application/x-www-form-urlencoded` bodies with PHP-style keys; Bitrix24 posts
the event and only the deal's id, and the deal is read with `crm.deal.get` (funnel.crm).
"""

from dataclasses import replace

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from funnel import signals
from funnel.crm import amocrm, bitrix24
from funnel.crm.changes import LeadChange, lead_frame
from funnel.crm.forms import WebhookError, clean_text
from funnel.ingest.loader import load_frames
from funnel.models import Integration, RawRecord
from funnel.stage_map import StageMap, resolve_stage_map
from salesplan.queue import enqueue


def record_store(*, integration: Integration, content_type: str, body: bytes | str) -> RawRecord:
    """Keep the webhook as it arrived (as text a database can store), before anything else."""
    return RawRecord.objects.create(
        organization=integration.organization,
        integration=integration,
        kind=RawRecord.Kind.WEBHOOK,
        source=integration.kind,
        content_type=clean_text(content_type or "")[:100],
        body=clean_text(body),
    )


def record_queue(record: RawRecord) -> None:
    """Process the stored record in a job once the request commits."""
    enqueue("funnel.process_webhook", record.pk)


def _stage_map(integration: Integration, implied: dict[str, str]) -> tuple[StageMap, list[str]]:
    stage_names = list(
        integration.funnel.stages.order_by("position").values_list("name", flat=True)
    )
    resolved = resolve_stage_map(integration.stage_map or {}, stage_names, implied=implied)
    notes = [
        _("The stage map sends %(crm)s to %(stage)s, which is not a stage of the funnel.")
        % {"crm": crm, "stage": stage}
        for crm, stage in resolved.unknown
    ]
    return resolved, notes


def changes_of(record: RawRecord, integration: Integration) -> tuple[list[LeadChange], list[str]]:
    """Parse a stored webhook (and fetch the deal from Bitrix24) into lead changes."""
    received = record.received_at or timezone.now()
    if integration.kind == Integration.Kind.AMOCRM:
        resolved, notes = _stage_map(integration, amocrm.AMO_IMPLIED_MAP)
        changes = []
        for action, fields in amocrm.parse_amocrm(record.content_type, record.body):
            change, more = amocrm.amo_change(
                action, fields, statuses=resolved.positions, fallback=received
            )
            changes.append(change)
            notes += more
        if not changes:
            notes.append(_("Deleted leads are kept: the funnel's history does not change."))
        return changes, notes
    resolved, notes = _stage_map(integration, {})
    event = bitrix24.parse_bitrix24(record.content_type, record.body)
    if event.event == bitrix24.BITRIX_DELETE_EVENT:
        return [], [*notes, _("Deleted deals are kept: the funnel's history does not change.")]
    client = bitrix24.Bitrix24Client.for_portal(event.domain, access_token=event.access_token)
    deal = client.deal(event.deal_id)
    change, more = bitrix24.bitrix_change(
        deal, statuses=resolved.positions, fallback=event.at or received
    )
    if change.external_id != event.deal_id:
        change = replace(change, external_id=event.deal_id)
    return [change], notes + more


def mark_failed(record_id: int, reason: str) -> None:
    RawRecord.objects.filter(pk=record_id).exclude(status=RawRecord.Status.PROCESSED).update(
        status=RawRecord.Status.FAILED, error=reason, processed_at=timezone.now()
    )


def process_record(*, record_id: int) -> str:
    """Load a stored webhook's leads; the record ends processed (notes, if any, in `error`)
    or failed with the reason. Idempotent: a processed record is left alone, and loading the
    same changes again changes nothing."""
    record = (
        RawRecord.objects.select_related("integration__funnel", "integration__organization")
        .filter(pk=record_id, kind=RawRecord.Kind.WEBHOOK)
        .first()
    )
    if record is None or record.status == RawRecord.Status.PROCESSED:
        return RawRecord.Status.PROCESSED
    integration = record.integration
    if integration is None:
        mark_failed(record_id, _("The integration was deleted before the webhook was processed."))
        return RawRecord.Status.FAILED
    try:
        changes, notes = changes_of(record, integration)  # the network call, outside any lock
    except WebhookError as error:
        mark_failed(record_id, error.reason)
        return RawRecord.Status.FAILED
    last_stage = max(integration.funnel.stages.count() - 1, 0)
    with transaction.atomic():
        # One worker at a time per record (PostgreSQL row lock); the loser finds it processed.
        locked = RawRecord.objects.select_for_update().get(pk=record_id)
        if locked.status == RawRecord.Status.PROCESSED:
            return RawRecord.Status.PROCESSED
        if changes:
            frame = lead_frame(changes, integration=integration, last_stage=last_stage)
            result = load_frames(
                organization=integration.organization,
                funnel=integration.funnel,
                source=integration.kind,
                frames={"leads": frame},
                valid_rows_only=True,
            )
            notes += [f"{error.column}: {error.reason}" for error in result.errors]
            signals.actuals_loaded.send(
                sender=RawRecord,
                organization_id=integration.organization_id,
                funnel_id=integration.funnel_id,
            )
        locked.status = RawRecord.Status.PROCESSED
        locked.processed_at = timezone.now()
        locked.error = "\n".join(notes)
        locked.save(update_fields=["status", "processed_at", "error"])
    return RawRecord.Status.PROCESSED

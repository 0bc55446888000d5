"""CRM webhooks: stored first, answered at once, processed by `funnel.tasks.process_webhook`.

amoCRM posts `application/x-www-form-urlencoded` bodies with PHP-style keys; Bitrix24 posts
the event and only the deal's id, and the deal is read with `crm.deal.get` (funnel.crm) on the
integration's own inbound webhook URL.

A record is never left behind: a transient failure of the portal (its rate limit, no answer)
is tried again with exponential backoff and jitter up to MAX_ATTEMPTS, then the record is
failed with the reason, and `record_retry` runs it again (the page, the API, the admin). A
record whose job never reached the queue (the broker was down) or was lost stays "received",
and the periodic `records_sweep` queues it again.
"""

import logging
import random
from dataclasses import replace
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from funnel import signals
from funnel.crm import amocrm, bitrix24
from funnel.crm.changes import LeadChange, lead_frame
from funnel.crm.forms import WebhookError, clean_text
from funnel.identities import PERSON_PREFIXES, people_lookup, person_key
from funnel.ingest.loader import load_frames
from funnel.models import Identity, Integration, RawRecord
from funnel.services import identities
from funnel.services.integrations import integration_rest_url
from funnel.stage_map import StageMap, resolve_stage_map
from salesplan.access import scoped
from salesplan.queue import enqueue

logger = logging.getLogger(__name__)

PROCESS_TASK = "funnel.process_webhook"
# The wait before another try doubles from BACKOFF_BASE_S (Bitrix24 gives back 2 requests a
# second, so a second is enough for a short burst) up to BACKOFF_CAP_S.
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 600.0
# Tries before a record is failed: with the waits above, 13 to 27 minutes of a portal's
# outage is ridden out; longer is for a person to look at.
MAX_ATTEMPTS = 12
# A record still "received" this long after it arrived (or after its retry was due) has lost
# its job: a healthy worker starts one within seconds.
STUCK_AFTER = timedelta(minutes=2)
# Records one sweep (every minute) queues again: a busy portal's minute of webhooks; the rest
# wait for the next sweep instead of flooding a queue that is just coming back.
SWEEP_BATCH_SIZE = 500


class RetryLater(Exception):
    """The record waits for another try in `countdown_s` seconds (the task re-queues it)."""

    def __init__(self, reason: str, *, countdown_s: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.countdown_s = countdown_s


def backoff_s(attempt: int, *, rng: random.Random | None = None) -> float:
    """Seconds to wait after the `attempt`-th failed try (1, 2, …): exponential backoff with
    "equal jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): the ceiling
    base × 2^(attempt − 1), capped, of which the second half is random, so the records a rate
    limit stopped together do not all come back at the same second."""
    exponent = min(max(attempt, 1) - 1, 30)
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**exponent)
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


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
    """Process the stored record in a job once the request commits. A broker that is down
    does not fail the request (robust): the record waits, "received", for the sweep."""
    enqueue(PROCESS_TASK, record.pk, robust=True)


@transaction.atomic
def record_retry(record: RawRecord) -> bool:
    """Run a failed (or still waiting) webhook again from its first try: back to "received",
    queued once the transaction commits. A processed webhook or an events batch is left alone
    (False). The page, the API and the admin all retry through here."""
    retried = RawRecord.objects.filter(
        pk=record.pk,
        kind=RawRecord.Kind.WEBHOOK,
        status__in=[RawRecord.Status.FAILED, RawRecord.Status.RECEIVED],
    ).update(
        status=RawRecord.Status.RECEIVED,
        error="",
        processed_at=None,
        attempts=0,
        next_attempt_at=None,
    )
    if retried:
        record_queue(record)
    return bool(retried)


def records_sweep(*, now: datetime | None = None) -> int:
    """Queue again the webhooks left "received": those whose job never started (STUCK_AFTER
    after they arrived) and those whose retry is overdue by as long. A claimed record's
    `next_attempt_at` becomes now, so the next sweeps leave it to its job for STUCK_AFTER.
    Processed and failed records are never touched. Returns how many were queued."""
    now = now or timezone.now()
    cutoff = now - STUCK_AFTER
    waiting = RawRecord.objects.filter(
        Q(next_attempt_at__isnull=True, received_at__lt=cutoff) | Q(next_attempt_at__lt=cutoff),
        kind=RawRecord.Kind.WEBHOOK,
        status=RawRecord.Status.RECEIVED,
    )
    with transaction.atomic():
        ids = list(
            waiting.order_by("received_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:SWEEP_BATCH_SIZE]
        )
        RawRecord.objects.filter(pk__in=ids).update(next_attempt_at=now)
        for record_id in ids:
            enqueue(PROCESS_TASK, record_id, robust=True)
    if ids:
        logger.info("Swept %d waiting webhook records back into the queue", len(ids))
    return len(ids)


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
    client = bitrix24.Bitrix24Client.for_event(
        event,
        rest_url=integration_rest_url(integration),
        portal_domain=integration.portal_domain,
    )
    deal = client.deal(event.deal_id)
    change, more = bitrix24.bitrix_change(
        deal, statuses=resolved.positions, fallback=event.at or received
    )
    if change.external_id != event.deal_id:
        change = replace(change, external_id=event.deal_id)
    _learn_owner(integration, client, change.responsible or "")
    return [change], notes + more


def _learn_owner(integration: Integration, client: bitrix24.Bitrix24Client, owner: str) -> None:
    """The first webhook of a deal owned by `b24:<id>` nobody knows asks the portal who that
    is (user.get), once: the identity joins the id to the name files give (and to a member)."""
    prefix = PERSON_PREFIXES[Integration.Kind.BITRIX24] + ":"
    if not owner.startswith(prefix) or owner in people_lookup(integration.organization):
        return
    known = scoped(Identity, integration.organization).filter(
        kind=Identity.Kind.PERSON, key=person_key(owner)
    )
    if known.exists():
        return
    name = client.user_name(owner.removeprefix(prefix))
    if name:
        identities.learn_people(integration.organization, {owner: name})
    else:
        identities.person_asked(integration.organization, owner)


def mark_failed(record_id: int, reason: str) -> None:
    RawRecord.objects.filter(pk=record_id).exclude(status=RawRecord.Status.PROCESSED).update(
        status=RawRecord.Status.FAILED,
        error=reason,
        processed_at=timezone.now(),
        next_attempt_at=None,
    )


def _try_later(record_id: int, attempt: int, error: bitrix24.Bitrix24Unavailable) -> str:
    """Another try after a backoff (raises RetryLater), or failed once MAX_ATTEMPTS are spent."""
    if attempt >= MAX_ATTEMPTS:
        mark_failed(
            record_id,
            _("Bitrix24 did not answer in %(n)d tries; retry once the portal is back. %(reason)s")
            % {"n": attempt, "reason": error.reason},
        )
        return RawRecord.Status.FAILED
    countdown = max(backoff_s(attempt), error.retry_after_s or 0.0)
    RawRecord.objects.filter(pk=record_id, status=RawRecord.Status.RECEIVED).update(
        error=error.reason, next_attempt_at=timezone.now() + timedelta(seconds=countdown)
    )
    raise RetryLater(error.reason, countdown_s=countdown)


def process_record(*, record_id: int) -> str:
    """Load a stored webhook's leads; the record ends processed (notes, if any, in `error`)
    or failed with the reason, or, when the portal could not answer now, raises RetryLater
    and waits "received" for its next try. Idempotent: a processed record is left alone, and
    loading the same changes again changes nothing. A failed record waits for record_retry."""
    record = (
        RawRecord.objects.select_related("integration__funnel", "integration__organization")
        .filter(pk=record_id, kind=RawRecord.Kind.WEBHOOK)
        .first()
    )
    if record is None:
        return RawRecord.Status.PROCESSED
    if record.status != RawRecord.Status.RECEIVED:
        return record.status
    # Count the try; a record processed or failed meanwhile by another job is left alone.
    counted = RawRecord.objects.filter(pk=record_id, status=RawRecord.Status.RECEIVED).update(
        attempts=F("attempts") + 1
    )
    if not counted:
        return RawRecord.objects.values_list("status", flat=True).get(pk=record_id)
    attempt = record.attempts + 1
    if attempt > MAX_ATTEMPTS:  # e.g. a body that crashes the worker, redelivered each time
        mark_failed(
            record_id,
            _("Not processed in %(n)d tries. %(reason)s")
            % {"n": MAX_ATTEMPTS, "reason": record.error},
        )
        return RawRecord.Status.FAILED
    integration = record.integration
    if integration is None:
        mark_failed(record_id, _("The integration was deleted before the webhook was processed."))
        return RawRecord.Status.FAILED
    try:
        changes, notes = changes_of(record, integration)  # the network call, outside any lock
    except bitrix24.Bitrix24Unavailable as error:
        return _try_later(record_id, attempt, error)
    except WebhookError as error:
        mark_failed(record_id, error.reason)
        return RawRecord.Status.FAILED
    last_stage = max(integration.funnel.stages.count() - 1, 0)
    with transaction.atomic():
        # One worker at a time per record (PostgreSQL row lock); the loser finds it processed.
        locked = RawRecord.objects.select_for_update().get(pk=record_id)
        if locked.status != RawRecord.Status.RECEIVED:
            return locked.status
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
                since=result.earliest,
            )
        locked.status = RawRecord.Status.PROCESSED
        locked.processed_at = timezone.now()
        locked.next_attempt_at = None
        locked.error = "\n".join(notes)
        locked.save(update_fields=["status", "processed_at", "next_attempt_at", "error"])
    return RawRecord.Status.PROCESSED

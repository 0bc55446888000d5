"""CRM webhooks → the normalized lead frame, and the service that processes a stored webhook.

amoCRM posts `application/x-www-form-urlencoded` bodies with PHP-style keys
(`leads[status][0][status_id]=142&account[subdomain]=…`); statuses 142 (won) and 143 (lost)
exist in every pipeline. Bitrix24's outbound webhook posts the event name and only the deal's
ID (`event=ONCRMDEALUPDATE&data[FIELDS][ID]=759&auth[application_token]=…`); the deal itself
comes from `crm.deal.get` on the portal's REST API.

A webhook says only part of what we know about a lead (a status change carries no company, a
channel or the target-lead flag), and the loader replaces a lead's row as a whole, so every
change is applied on top of the lead as stored before it is loaded.
"""

import hmac
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import parse_qsl, urlencode, urljoin
from urllib.request import HTTPRedirectHandler, Request, build_opener

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from funnel.events import frame_of
from funnel.ingest.loader import load_frames
from funnel.ingest.schema import LOST, WON
from funnel.models import Integration, Lead, Payment, RawRecord, StageEvent

logger = logging.getLogger(__name__)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# amoCRM's closed statuses, the same in every pipeline.
AMO_WON_STATUS = "142"
AMO_LOST_STATUS = "143"
AMO_IMPLIED_MAP = {AMO_WON_STATUS: WON, AMO_LOST_STATUS: LOST}
# Lead events that say something about the lead; the order they are applied in (a status
# change last: it is the most specific word on the stage).
AMO_LEAD_ACTIONS = ("add", "restore", "update", "responsible", "status")
BITRIX_DEAL_EVENTS = ("ONCRMDEALADD", "ONCRMDEALUPDATE")
BITRIX_DELETE_EVENT = "ONCRMDEALDELETE"
# Bitrix24 answers crm.deal.get within a second; a portal slower than this is treated as down.
BITRIX24_TIMEOUT_S = 10
# A hostname with at least one dot: the portal's domain, never a bare IP or a local name.
DOMAIN_RE = re.compile(r"^(?=.*[a-z])([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
FORM_KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
# A webhook body larger than this is not a CRM event (amoCRM sends a few kilobytes).
MAX_BODY_CHARS = 1_000_000


class WebhookError(Exception):
    """A webhook we cannot use; `reason` is stored on the record and answered to the CRM."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- form bodies ------------------------------------------------------------------------------


def clean_text(raw: bytes | str) -> str:
    """The body as text a database can store (PostgreSQL refuses NUL characters)."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return text.replace("\x00", "\ufffd")


def expand_form(text: str) -> dict[str, Any]:
    """`a[b][0][c]=1` pairs → nested dicts ({"a": {"b": {"0": {"c": "1"}}}}).

    Raises WebhookError for a body that is not a form at all."""
    if len(text) > MAX_BODY_CHARS:
        raise WebhookError(_("The body is too large for a CRM webhook."))
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise WebhookError(
            _("The body is not form-encoded (key=value&key=value) as CRM webhooks are.")
        ) from None
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = FORM_KEY_RE.match(key)
        if not match:
            continue
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):  # a scalar and a nested key on one path: keep one
                break
            node = child
        else:
            if not isinstance(node.get(parts[-1]), dict):
                node[parts[-1]] = value
    return root


def _items(group: Any) -> list[dict[str, Any]]:
    """`{"0": {...}, "1": {...}}` → the items in index order."""
    if not isinstance(group, dict):
        return []
    keyed = [(key, item) for key, item in group.items() if isinstance(item, dict)]
    keyed.sort(key=lambda pair: (not pair[0].isdigit(), int(pair[0]) if pair[0].isdigit() else 0))
    return [item for _key, item in keyed]


def _form_of(content_type: str, body: str) -> dict[str, Any]:
    if not body.strip():  # nothing to read whatever its type: "no leads", "no event"
        return {}
    if not content_type.lower().startswith(FORM_CONTENT_TYPE):
        raise WebhookError(
            _("Expected Content-Type %(expected)s, got %(got)s.")
            % {"expected": FORM_CONTENT_TYPE, "got": content_type or "—"}
        )
    return expand_form(body)


# --- what a webhook says about a lead ----------------------------------------------------------


@dataclass(frozen=True)
class LeadChange:
    """One CRM event about one lead; None means the event did not say."""

    external_id: str
    at: datetime  # when it happened (the CRM's time of the change)
    name: str | None = None
    created_at: datetime | None = None
    responsible: str | None = None
    company: str | None = None
    channel: str | None = None
    amount: str | None = None
    # Where the lead is now: our stage's position, WON, LOST, or None (not said / unknown).
    outcome: int | str | None = None
    closed_at: datetime | None = None  # when it was won or lost, if the CRM says


def resolve_stage_map(
    stage_map: Mapping[str, Any], stage_names: Sequence[str], *, implied: Mapping[str, str]
) -> tuple[dict[str, int | str], list[str]]:
    """The integration's map (CRM status → our stage name / won / lost) with stage names
    turned into positions; notes for entries naming a stage the funnel no longer has."""
    positions = {name.strip().casefold(): index for index, name in enumerate(stage_names)}
    resolved: dict[str, int | str] = dict(implied)
    notes = []
    for external, target in stage_map.items():
        key = str(external).strip().casefold()
        wanted = str(target).strip().casefold()
        if wanted in (WON, LOST):
            resolved[key] = wanted
        elif wanted in positions:
            resolved[key] = positions[wanted]
        else:
            notes.append(
                _("The stage map sends %(crm)s to %(stage)s, which is not a stage of the funnel.")
                % {"crm": external, "stage": target}
            )
    return resolved, notes


def _unix(value: Any) -> datetime | None:
    try:
        seconds = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    if seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _price(value: Any) -> str | None:
    """A CRM budget as a plain decimal string; "" for none or zero (no payment to record)."""
    if value is None:
        return None
    text = str(value).strip().replace(" ", "").replace(",", ".")
    if not text:
        return ""
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return ""
    if not amount.is_finite() or amount <= 0 or amount >= Decimal(10) ** 14:
        return ""
    return format(amount.quantize(Decimal("0.01")), "f")


def _short(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    return str(value).strip()[:limit]


# --- amoCRM -----------------------------------------------------------------------------------


def parse_amocrm(content_type: str, body: str) -> list[tuple[str, dict[str, Any]]]:
    """The lead events of an amoCRM webhook, (action, fields) in the order to apply them.
    Raises WebhookError when there is no lead in it."""
    form = _form_of(content_type, body)
    leads = form.get("leads")
    events: list[tuple[str, dict[str, Any]]] = []
    deleted = 0
    if isinstance(leads, dict):
        for action in AMO_LEAD_ACTIONS:
            for fields in _items(leads.get(action)):
                if str(fields.get("id", "")).strip().isdigit():
                    events.append((action, fields))
        deleted = len(_items(leads.get("delete")))
    if not events and not deleted:
        raise WebhookError(
            _("No leads in this amoCRM webhook: expected keys such as leads[status][0][id].")
        )
    return events


def amo_change(
    action: str, fields: Mapping[str, Any], *, statuses: Mapping[str, int | str], fallback: datetime
) -> tuple[LeadChange, list[str]]:
    """One amoCRM lead event → a LeadChange, with a note when its status is not mapped."""
    external_id = str(fields["id"]).strip()
    at = _unix(fields.get("last_modified")) or _unix(fields.get("updated_at")) or fallback
    notes = []
    outcome: int | str | None = None
    status = str(fields.get("status_id", "")).strip()
    if status:
        pipeline = str(fields.get("pipeline_id", "")).strip()
        key = f"{pipeline}:{status}" if f"{pipeline}:{status}" in statuses else status
        outcome = statuses.get(key.casefold())
        if outcome is None:
            notes.append(
                _(
                    "Lead %(lead)s: amoCRM status %(status)s (pipeline %(pipeline)s) is not in "
                    "the stage map; the lead keeps its stage."
                )
                % {"lead": external_id, "status": status, "pipeline": pipeline or "—"}
            )
    responsible = str(fields.get("responsible_user_id", "")).strip()
    return (
        LeadChange(
            external_id=external_id,
            at=at,
            name=_short(fields.get("name"), 300),
            created_at=_unix(fields.get("date_create")) or _unix(fields.get("created_at")),
            responsible=f"amo:{responsible}" if responsible and responsible != "0" else None,
            amount=_price(fields.get("price")),
            outcome=outcome,
        ),
        notes,
    )


# --- Bitrix24 ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BitrixEvent:
    event: str
    deal_id: str
    domain: str
    application_token: str
    member_id: str
    access_token: str
    at: datetime | None


def parse_bitrix24(content_type: str, body: str) -> BitrixEvent:
    """An outbound Bitrix24 event about a deal. Raises WebhookError for anything else."""
    form = _form_of(content_type, body)
    event = str(form.get("event", "")).strip().upper()
    if not event:
        raise WebhookError(_("No event in this Bitrix24 webhook: expected event=ONCRMDEALADD."))
    if event not in (*BITRIX_DEAL_EVENTS, BITRIX_DELETE_EVENT):
        raise WebhookError(
            _("Bitrix24 event %(event)s is not about deals; subscribe to %(events)s.")
            % {"event": event[:100], "events": ", ".join(BITRIX_DEAL_EVENTS)}
        )
    data = form.get("data") if isinstance(form.get("data"), dict) else {}
    fields = data.get("FIELDS") if isinstance(data.get("FIELDS"), dict) else {}
    deal_id = str(fields.get("ID", "")).strip()
    if not deal_id.isdigit():
        raise WebhookError(_("No deal in this Bitrix24 webhook: expected data[FIELDS][ID]."))
    auth = form.get("auth") if isinstance(form.get("auth"), dict) else {}
    domain = str(auth.get("domain", "")).strip().lower()
    if event != BITRIX_DELETE_EVENT and not DOMAIN_RE.match(domain):
        raise WebhookError(_("No portal address in this Bitrix24 webhook (auth[domain])."))
    return BitrixEvent(
        event=event,
        deal_id=deal_id,
        domain=domain,
        application_token=str(auth.get("application_token", "")),
        member_id=str(auth.get("member_id", "")),
        access_token=str(auth.get("access_token", "")),
        at=_unix(form.get("ts")),
    )


def application_token_matches(event: BitrixEvent, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(
        event.application_token.encode(), expected.encode()
    )


class _NoRedirects(HTTPRedirectHandler):
    """The portal answers the method itself; a redirect elsewhere is refused, not followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Bitrix24Client:
    """The one REST call we need: crm.deal.get."""

    def __init__(self, base_url: str, *, access_token: str = "") -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.access_token = access_token
        self.opener = build_opener(_NoRedirects)

    @classmethod
    def for_portal(cls, domain: str, *, access_token: str = "") -> "Bitrix24Client":
        """`https://<domain>/rest/`, or BITRIX24_REST_BASE_URL (settings or environment) when
        set: tests point it at a local fake portal."""
        override = getattr(settings, "BITRIX24_REST_BASE_URL", "") or os.environ.get(
            "BITRIX24_REST_BASE_URL", ""
        )
        return cls(override or f"https://{domain}/rest/", access_token=access_token)

    def deal(self, deal_id: str) -> dict[str, Any]:
        params = {"id": deal_id}
        if self.access_token:
            params["auth"] = self.access_token
        request = Request(
            urljoin(self.base_url, "crm.deal.get"),
            data=urlencode(params).encode(),
            headers={"Accept": "application/json", "Content-Type": FORM_CONTENT_TYPE},
            method="POST",
        )
        try:
            with self.opener.open(request, timeout=BITRIX24_TIMEOUT_S) as response:
                payload = json.loads(response.read().decode("utf-8"))
        except HTTPError as error:
            raise WebhookError(
                _("Bitrix24 refused crm.deal.get for deal %(deal)s: HTTP %(status)s %(detail)s")
                % {"deal": deal_id, "status": error.code, "detail": _bitrix_error(error)}
            ) from None
        except (URLError, TimeoutError, OSError, ValueError) as error:
            raise WebhookError(
                _("Bitrix24 did not answer crm.deal.get for deal %(deal)s: %(error)s")
                % {"deal": deal_id, "error": getattr(error, "reason", error)}
            ) from None
        result = payload.get("result") if isinstance(payload, dict) else None
        if not isinstance(result, dict):
            raise WebhookError(
                _("Bitrix24 answered crm.deal.get for deal %(deal)s without the deal.")
                % {"deal": deal_id}
            )
        return result


def _bitrix_error(error: HTTPError) -> str:
    try:
        payload = json.loads(error.read().decode("utf-8"))
        return str(payload.get("error_description") or payload.get("error") or "")[:200]
    except (ValueError, AttributeError, OSError):
        return ""


def bitrix_change(
    deal: Mapping[str, Any], *, statuses: Mapping[str, int | str], fallback: datetime
) -> tuple[LeadChange, list[str]]:
    """A crm.deal.get result → a LeadChange. STAGE_SEMANTIC_ID says won (S) or lost (F); an
    open deal's STAGE_ID goes through the stage map."""
    external_id = str(deal.get("ID", "")).strip()
    semantic = str(deal.get("STAGE_SEMANTIC_ID", "")).strip().upper()
    stage_id = str(deal.get("STAGE_ID", "")).strip()
    notes = []
    outcome: int | str | None
    if semantic == "S":
        outcome = WON
    elif semantic == "F":
        outcome = LOST
    else:
        outcome = statuses.get(stage_id.casefold())
        if outcome is None and stage_id:
            notes.append(
                _(
                    "Deal %(deal)s: Bitrix24 stage %(stage)s is not in the stage map; the lead "
                    "keeps its stage."
                )
                % {"deal": external_id, "stage": stage_id}
            )
    responsible = str(deal.get("ASSIGNED_BY_ID") or "").strip()
    company = str(deal.get("COMPANY_ID") or "").strip()
    return (
        LeadChange(
            external_id=external_id,
            at=fallback,
            name=_short(deal.get("TITLE"), 300) or "",
            created_at=_iso(deal.get("DATE_CREATE")),
            responsible=f"b24:{responsible}" if responsible and responsible != "0" else "",
            company=f"b24:{company}" if company and company != "0" else "",
            channel=_short(deal.get("SOURCE_ID"), 200) or "",
            amount=_price(deal.get("OPPORTUNITY")),
            outcome=outcome,
            closed_at=_iso(deal.get("CLOSEDATE")),
        ),
        notes,
    )


# --- applying changes on top of what is stored --------------------------------------------------


def _stored_states(
    integration: Integration, external_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The stored leads as lead-frame rows (three queries for the whole webhook)."""
    organization, source = integration.organization_id, integration.kind
    leads = list(
        Lead.objects.filter(
            organization_id=organization, source=source, external_id__in=set(external_ids)
        ).select_related("current_stage", "responsible__user")
    )
    if not leads:
        return {}
    payments = {
        payment.external_id: payment
        for payment in Payment.objects.filter(
            organization_id=organization,
            source=source,
            external_id__in=[lead.external_id for lead in leads],
        )
    }
    reached = dict(
        StageEvent.objects.filter(lead__in=leads, stage_id=F("lead__current_stage_id")).values_list(
            "lead_id", "reached_at"
        )
    )
    states = {}
    for lead in leads:
        payment = payments.get(lead.external_id)
        responsible = lead.responsible_name or (
            lead.responsible.user.email if lead.responsible_id else ""
        )
        states[lead.external_id] = {
            "external_id": lead.external_id,
            "name": lead.name,
            "created_at": lead.created_at,
            "channel": lead.channel,
            "is_target": lead.is_target,
            "non_target_reason": lead.non_target_reason,
            "responsible": responsible,
            "company": lead.company,
            "stage": lead.current_stage.position if lead.current_stage else None,
            "stage_at": reached.get(lead.id),
            "won": payment is not None,
            "lost": lead.lost_at is not None,
            "lost_reason": lead.lost_reason,
            "lost_at": lead.lost_at,
            "amount": str(payment.amount) if payment else "",
            "gross_margin": str(payment.gross_margin) if payment and payment.gross_margin else "",
            "product": payment.product_name if payment else "",
            "paid_at": payment.paid_at if payment else None,
            "is_new_client": payment.is_new_client if payment else None,
        }
    return states


def _new_state(change: LeadChange) -> dict[str, Any]:
    return {
        "external_id": change.external_id,
        "name": "",
        "created_at": None,
        "channel": "",
        "is_target": None,
        "non_target_reason": "",
        "responsible": "",
        "company": "",
        "stage": None,
        "stage_at": None,
        "won": False,
        "lost": False,
        "lost_reason": "",
        "lost_at": None,
        "amount": "",
        "gross_margin": "",
        "product": "",
        "paid_at": None,
        "is_new_client": None,
    }


def apply_change(state: dict[str, Any], change: LeadChange, *, last_stage: int) -> None:
    """What the CRM said, on top of what we knew. Only said things change; a won deal is at
    the last stage and paid when it was first won; a lost deal keeps the stage it reached."""
    for name in ("name", "created_at", "responsible", "company", "channel", "amount"):
        value = getattr(change, name)
        if value is not None:
            state[name] = value
    if state["created_at"] is None:
        state["created_at"] = change.created_at or change.at
    outcome = change.outcome
    if outcome == WON:
        if not state["won"] or state["paid_at"] is None:
            state["paid_at"] = change.closed_at or change.at
        if state["stage"] != last_stage or state["stage_at"] is None:
            state["stage_at"] = change.closed_at or change.at
        state.update(won=True, lost=False, stage=last_stage)
    elif outcome == LOST:
        if not state["lost"] or state["lost_at"] is None:
            state["lost_at"] = change.closed_at or change.at
        state.update(won=False, lost=True)
    elif isinstance(outcome, int):
        if state["stage"] != outcome or state["stage_at"] is None:
            state["stage_at"] = change.at
        state.update(won=False, lost=False, stage=outcome)


def lead_frame(
    changes: Sequence[LeadChange], *, integration: Integration, last_stage: int
) -> pd.DataFrame:
    """The changes of one webhook applied on the stored leads, as a lead frame."""
    states = _stored_states(integration, (change.external_id for change in changes))
    order: list[str] = []
    for change in changes:
        if change.external_id not in states:
            states[change.external_id] = _new_state(change)
        if change.external_id not in order:
            order.append(change.external_id)
        apply_change(states[change.external_id], change, last_stage=last_stage)
    rows = [{**states[external_id], "line": line} for line, external_id in enumerate(order, 1)]
    return frame_of("leads", rows)


# --- the service the task calls ---------------------------------------------------------------


def changes_of(record: RawRecord, integration: Integration) -> tuple[list[LeadChange], list[str]]:
    """Parse a stored webhook (and fetch the deal from Bitrix24) into lead changes."""
    stage_names = list(
        integration.funnel.stages.order_by("position").values_list("name", flat=True)
    )
    received = record.received_at or timezone.now()
    if integration.kind == Integration.Kind.AMOCRM:
        statuses, notes = resolve_stage_map(
            integration.stage_map or {}, stage_names, implied=AMO_IMPLIED_MAP
        )
        changes = []
        for action, fields in parse_amocrm(record.content_type, record.body):
            change, more = amo_change(action, fields, statuses=statuses, fallback=received)
            changes.append(change)
            notes += more
        if not changes:
            notes.append(_("Deleted leads are kept: the funnel's history does not change."))
        return changes, notes
    statuses, notes = resolve_stage_map(integration.stage_map or {}, stage_names, implied={})
    event = parse_bitrix24(record.content_type, record.body)
    if event.event == BITRIX_DELETE_EVENT:
        return [], [*notes, _("Deleted deals are kept: the funnel's history does not change.")]
    client = Bitrix24Client.for_portal(event.domain, access_token=event.access_token)
    deal = client.deal(event.deal_id)
    change, more = bitrix_change(deal, statuses=statuses, fallback=event.at or received)
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
        locked.status = RawRecord.Status.PROCESSED
        locked.processed_at = timezone.now()
        locked.error = "\n".join(notes)
        locked.save(update_fields=["status", "processed_at", "error"])
    return RawRecord.Status.PROCESSED

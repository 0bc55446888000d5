"""What a webhook says about a lead, applied on top of what we know.

A webhook says only part of what we know about a lead (a status change carries no company, a
channel or the target-lead flag), and the loader replaces a lead's row as a whole, so every
change is applied on top of the lead as stored before it is loaded.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd
from django.db.models import F

from funnel.importers.batch import frame_of
from funnel.ingest.schema import LOST, MONEY_LIMIT, WON
from funnel.models import Integration, Lead, Payment, StageEvent


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


def unix_time(value: Any) -> datetime | None:
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


def iso_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def price(value: Any) -> str | None:
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
    if not amount.is_finite() or amount <= 0 or amount >= MONEY_LIMIT:
        return ""
    return format(amount.quantize(Decimal("0.01")), "f")


def short(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    return str(value).strip()[:limit]


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

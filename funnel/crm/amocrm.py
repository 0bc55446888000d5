"""amoCRM webhooks: `leads[add|update|status|delete][0][...]` form bodies. Statuses 142 (won)
and 143 (lost) exist in every pipeline."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from funnel.crm.changes import LeadChange, price, short, unix_time
from funnel.crm.forms import WebhookError, form_of, items
from funnel.importers.values import normalize_text
from funnel.ingest.schema import LOST, WON

# amoCRM's closed statuses, the same in every pipeline.
AMO_WON_STATUS = "142"
AMO_LOST_STATUS = "143"
AMO_IMPLIED_MAP = {AMO_WON_STATUS: WON, AMO_LOST_STATUS: LOST}
# Lead events that say something about the lead; the order they are applied in (a status
# change last: it is the most specific word on the stage).
AMO_LEAD_ACTIONS = ("add", "restore", "update", "responsible", "status")
# A lead id longer than the external-id column is no amoCRM id (theirs have 8 to 10 digits).
MAX_LEAD_ID_CHARS = 100


def parse_amocrm(content_type: str, body: str) -> list[tuple[str, dict[str, Any]]]:
    """The lead events of an amoCRM webhook, (action, fields) in the order to apply them.
    Raises WebhookError when there is no lead in it."""
    form = form_of(content_type, body)
    leads = form.get("leads")
    events: list[tuple[str, dict[str, Any]]] = []
    deleted = 0
    if isinstance(leads, dict):
        for action in AMO_LEAD_ACTIONS:
            for fields in items(leads.get(action)):
                lead_id = str(fields.get("id", "")).strip()
                if lead_id.isdigit() and len(lead_id) <= MAX_LEAD_ID_CHARS:
                    events.append((action, fields))
        deleted = len(items(leads.get("delete")))
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
    at = unix_time(fields.get("last_modified")) or unix_time(fields.get("updated_at")) or fallback
    notes = []
    outcome: int | str | None = None
    status = str(fields.get("status_id", "")).strip()
    if status:
        pipeline = str(fields.get("pipeline_id", "")).strip()
        qualified = normalize_text(f"{pipeline}:{status}")
        outcome = statuses.get(qualified, statuses.get(normalize_text(status)))
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
            name=short(fields.get("name"), 300),
            created_at=unix_time(fields.get("date_create")) or unix_time(fields.get("created_at")),
            responsible=f"amo:{responsible}" if responsible and responsible != "0" else None,
            amount=price(fields.get("price")),
            outcome=outcome,
        ),
        notes,
    )

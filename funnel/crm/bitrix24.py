"""Bitrix24 outbound webhooks: `event=ONCRMDEALUPDATE&data[FIELDS][ID]=759&auth[...]` carries
only the deal's id; the deal itself comes from `crm.deal.get` on the portal's REST API."""

import hmac
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urljoin
from urllib.request import HTTPRedirectHandler, Request, build_opener

from django.conf import settings
from django.utils.translation import gettext as _

from funnel.crm.changes import LeadChange, iso_time, price, short, unix_time
from funnel.crm.forms import FORM_CONTENT_TYPE, WebhookError, form_of
from funnel.importers.values import normalize_text
from funnel.ingest.schema import LOST, WON

BITRIX_DEAL_EVENTS = ("ONCRMDEALADD", "ONCRMDEALUPDATE")
BITRIX_DELETE_EVENT = "ONCRMDEALDELETE"
# Bitrix24 answers crm.deal.get within a second; a portal slower than this is treated as down.
BITRIX24_TIMEOUT_S = 10
# A hostname with at least one dot: the portal's domain, never a bare IP or a local name.
DOMAIN_RE = re.compile(r"^(?=.*[a-z])([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


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
    form = form_of(content_type, body)
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
        at=unix_time(form.get("ts")),
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
        outcome = statuses.get(normalize_text(stage_id))
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
            name=short(deal.get("TITLE"), 300) or "",
            created_at=iso_time(deal.get("DATE_CREATE")),
            responsible=f"b24:{responsible}" if responsible and responsible != "0" else "",
            company=f"b24:{company}" if company and company != "0" else "",
            channel=short(deal.get("SOURCE_ID"), 200) or "",
            amount=price(deal.get("OPPORTUNITY")),
            outcome=outcome,
            closed_at=iso_time(deal.get("CLOSEDATE")),
        ),
        notes,
    )

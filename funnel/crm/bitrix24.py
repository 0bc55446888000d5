"""Bitrix24 outbound webhooks: `event=ONCRMDEALUPDATE&data[FIELDS][ID]=759&auth[...]` carries
only the deal's id; the deal itself comes from `crm.deal.get` on the portal's REST API, called
with the integration's own inbound webhook URL. A refusal is final (WebhookError); the portal's
rate limit, a gateway error or no answer is worth another try (Bitrix24Unavailable)."""

import hmac
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from http.client import HTTPException
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit
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
# An inbound webhook URL is about 60 characters; a longer paste is not one.
MAX_REST_URL_CHARS = 300
# /rest/<user id>/<code>/, optionally followed by a method (profile.json) as Bitrix24 shows it.
REST_PATH_RE = re.compile(
    r"^/rest/(?P<user>[0-9]{1,10})/(?P<code>[A-Za-z0-9_-]{4,100})"
    r"(?:/(?:[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)?)?$"
)


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


class Bitrix24Unavailable(WebhookError):
    """The portal could not answer now: its rate limit (HTTP 503 QUERY_LIMIT_EXCEEDED; Bitrix24
    allows a burst of 50 requests, then 2 a second), 429, a gateway error, a timeout or no
    connection. Worth another try later; anything else the portal says stays failed."""

    def __init__(self, reason: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


# HTTP statuses that mean "not now" rather than "no": Bitrix24 answers its rate limit with 503.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
# Bitrix24's error codes that mean the same whatever the status they come with.
TRANSIENT_ERRORS = frozenset({"QUERY_LIMIT_EXCEEDED", "OVERLOAD_LIMIT", "INTERNAL_SERVER_ERROR"})
# A Retry-After longer than this is not followed literally: the backoff's cap decides.
MAX_RETRY_AFTER_S = 600


class _NoRedirects(HTTPRedirectHandler):
    """The portal answers the method itself; a redirect elsewhere is refused, not followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def portal_address(url: str) -> str:
    """`url`, sent to the local address BITRIX24_PORTAL_ADDRESSES gives its portal (tests and
    development: a fake portal on 127.0.0.1), path and key unchanged; else `url` itself."""
    parts = urlsplit(url)
    local = getattr(settings, "BITRIX24_PORTAL_ADDRESSES", {}).get(parts.hostname or "")
    if not local:
        return url
    target = urlsplit(local)
    return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, ""))


def rest_url_domain(rest_url: str) -> str:
    return (urlsplit(rest_url).hostname or "").lower()


def normalize_rest_url(text: str) -> str | None:
    """A Bitrix24 inbound webhook URL as the portal shows it (`https://<portal>/rest/<user
    id>/<code>/`, perhaps with a method such as `profile.json` after it) → the URL to call
    methods on, with a trailing slash; None for anything else (another scheme, an IP or a
    local name, a port, a login, a query)."""
    text = text.strip()
    if not text or len(text) > MAX_REST_URL_CHARS:
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
        host = (parts.hostname or "").encode("idna").decode("ascii").lower()
    except (ValueError, UnicodeError):
        return None
    path = REST_PATH_RE.match(parts.path)
    if (
        parts.scheme.lower() != "https"
        or port not in (None, 443)
        or parts.username is not None
        or parts.query
        or parts.fragment
        or not DOMAIN_RE.match(host)
        or path is None
    ):
        return None
    return f"https://{host}/rest/{path['user']}/{path['code']}/"


def normalize_portal_domain(text: str) -> str | None:
    """A portal's domain as typed ("Romashka.bitrix24.ru", "https://romashka.bitrix24.ru/")
    → "romashka.bitrix24.ru"; None for anything that is not a domain (an IP, a local name)."""
    text = (text or "").strip()
    if "://" in text:
        try:
            parts = urlsplit(text)
            if parts.path not in ("", "/") or parts.port is not None or parts.username:
                return None
        except ValueError:
            return None
        text = parts.hostname or ""
    try:
        domain = text.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    return domain if len(domain) <= 253 and DOMAIN_RE.match(domain) else None


def portal_refusal(event: BitrixEvent, registered: str) -> str | None:
    """Why a webhook must not make us call its portal: the integration registered none, or
    another one than `auth[domain]` names. None when it is the registered portal."""
    if not registered:
        return _(
            "The integration has no registered Bitrix24 portal: add the portal's inbound "
            "webhook URL to it; until then no portal is called."
        )
    if event.domain != registered:
        return _(
            "This webhook comes from the portal %(event)s, but the integration is registered "
            "for %(portal)s: a webhook of another portal is refused, and no other portal is "
            "called."
        ) % {"event": event.domain or "—", "portal": registered}
    return None


class Bitrix24Client:
    """The one REST call we need: crm.deal.get, on the integration's own inbound webhook URL
    (`https://<portal>/rest/<user>/<code>/`), or with the event's OAuth access token on
    `https://<portal>/rest/`."""

    def __init__(self, base_url: str, *, access_token: str = "") -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.access_token = access_token
        self.opener = build_opener(_NoRedirects)

    @classmethod
    def for_event(
        cls, event: BitrixEvent, *, rest_url: str = "", portal_domain: str = ""
    ) -> "Bitrix24Client":
        """A client of the portal registered with the integration (its REST URL's, else
        `portal_domain`), for a webhook from that portal only: another portal's webhook is
        refused before any connection, so a webhook cannot send the worker to a host of its
        choosing. With a REST URL deals are read with it; without one, with the OAuth access
        token an application's webhook carries."""
        registered = rest_url_domain(rest_url) if rest_url else portal_domain
        refusal = portal_refusal(event, registered)
        if refusal:
            raise WebhookError(refusal)
        if rest_url:
            return cls(rest_url)
        if not event.access_token:
            raise WebhookError(
                _(
                    "No way to read deal %(deal)s: the integration has no Bitrix24 REST URL "
                    "and the webhook carries no access token. Add the portal's inbound webhook "
                    "URL (with the crm scope) to the integration."
                )
                % {"deal": event.deal_id}
            )
        return cls(f"https://{registered}/rest/", access_token=event.access_token)

    def deal(self, deal_id: str) -> dict[str, Any]:
        """The deal's fields. Raises Bitrix24Unavailable when worth a retry, WebhookError when
        the portal refused (401/403/404/400) or answered something that is not a deal."""
        params = {"id": deal_id}
        if self.access_token:
            params["auth"] = self.access_token
        request = Request(
            portal_address(urljoin(self.base_url, "crm.deal.get")),
            data=urlencode(params).encode(),
            headers={"Accept": "application/json", "Content-Type": FORM_CONTENT_TYPE},
            method="POST",
        )
        try:
            with self.opener.open(request, timeout=BITRIX24_TIMEOUT_S) as response:
                raw = response.read()
        except HTTPError as error:
            code, detail = _bitrix_error(error)
            reason = _(
                "Bitrix24 refused crm.deal.get for deal %(deal)s: HTTP %(status)s %(detail)s"
            ) % {"deal": deal_id, "status": error.code, "detail": detail}
            if error.code in TRANSIENT_STATUSES or code in TRANSIENT_ERRORS:
                raise Bitrix24Unavailable(
                    reason, retry_after_s=_retry_after(error.headers.get("Retry-After"))
                ) from None
            raise WebhookError(reason) from None
        except (URLError, TimeoutError, OSError, HTTPException) as error:
            raise Bitrix24Unavailable(
                _("Bitrix24 did not answer crm.deal.get for deal %(deal)s: %(error)s")
                % {"deal": deal_id, "error": getattr(error, "reason", error)}
            ) from None
        try:
            payload = json.loads(raw.decode("utf-8"))
        except ValueError:
            payload = None
        if isinstance(payload, dict) and str(payload.get("error", "")) in TRANSIENT_ERRORS:
            raise Bitrix24Unavailable(
                _("Bitrix24 is over its request limit for deal %(deal)s: %(error)s")
                % {"deal": deal_id, "error": payload["error"]}
            )
        result = payload.get("result") if isinstance(payload, dict) else None
        if not isinstance(result, dict):
            raise WebhookError(
                _("Bitrix24 answered crm.deal.get for deal %(deal)s without the deal.")
                % {"deal": deal_id}
            )
        return result

    def user_name(self, user_id: str) -> str:
        """The name of a portal user ("Анна Смирнова") from user.get, "" when the portal does
        not say (no `user` scope, a limit, no answer): who `b24:<id>` is, learned once."""
        params = {"ID": user_id}
        if self.access_token:
            params["auth"] = self.access_token
        request = Request(
            portal_address(urljoin(self.base_url, "user.get")),
            data=urlencode(params).encode(),
            headers={"Accept": "application/json", "Content-Type": FORM_CONTENT_TYPE},
            method="POST",
        )
        try:
            with self.opener.open(request, timeout=BITRIX24_TIMEOUT_S) as response:
                payload = json.loads(response.read().decode("utf-8"))
        except (HTTPError, URLError, TimeoutError, OSError, HTTPException, ValueError):
            return ""
        users = payload.get("result") if isinstance(payload, dict) else None
        user = users[0] if isinstance(users, list) and users else None
        if not isinstance(user, dict):
            return ""
        parts = (str(user.get(key) or "").strip() for key in ("NAME", "LAST_NAME"))
        return (" ".join(part for part in parts if part))[:300]


def _bitrix_error(error: HTTPError) -> tuple[str, str]:
    """(Bitrix24's error code, a short description) of a refusal."""
    try:
        payload = json.loads(error.read().decode("utf-8"))
        code = str(payload.get("error") or "")[:100]
        description = str(payload.get("error_description") or "")[:200]
        detail = f"{code}: {description}" if code and description and code != description else ""
        return code, detail or code or description
    except (ValueError, AttributeError, OSError):
        return "", ""


def _retry_after(header: str | None) -> float | None:
    """Retry-After in seconds (Bitrix24 sends none; a proxy in front of a portal may)."""
    try:
        seconds = float(header or "")
    except ValueError:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S) if math.isfinite(seconds) else None


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

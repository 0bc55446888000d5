"""The channels a notification leaves by: e-mail (Django's e-mail backend), Telegram (the
organization's own bot, Bot API sendMessage) and the organization's webhook (JSON signed with
HMAC-SHA256). Each raises DeliveryError with a reason people can act on; `permanent` says a
retry cannot help (a bot token Telegram refuses, a chat that does not exist)."""

import hashlib
import hmac
import ipaddress
import json
import socket
from http.client import HTTPException
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.translation import gettext

# A Bot API call or a webhook slower than this is treated as failed (and retried).
HTTP_TIMEOUT_S = 10
# Statuses worth another try: rate limits and the other side's trouble.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
SIGNATURE_HEADER = "X-Salesplan-Signature"
EVENT_ID_HEADER = "X-Salesplan-Event-Id"
EVENT_HEADER = "X-Salesplan-Event"


class DeliveryError(Exception):
    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class _NoRedirects(HTTPRedirectHandler):
    """A redirect elsewhere is refused, not followed (the body is signed for one URL)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _post(url: str, body: bytes, headers: dict[str, str]) -> bytes:
    request = Request(url, data=body, headers=headers, method="POST")
    opener = build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=HTTP_TIMEOUT_S) as response:
            return response.read()
    except HTTPError as error:
        detail = error.read()[:300].decode("utf-8", "replace")
        raise DeliveryError(
            f"HTTP {error.code}: {detail}".strip(),
            permanent=error.code not in TRANSIENT_STATUSES,
        ) from error
    except (URLError, HTTPException, OSError) as error:  # no answer, refused, timed out
        raise DeliveryError(f"{error.__class__.__name__}: {error}") from error


def send_email(*, to: str, subject: str, text: str) -> None:
    try:
        EmailMessage(subject=subject, body=text, to=[to]).send(fail_silently=False)
    except (OSError, Exception) as error:  # SMTP's errors vary by backend
        raise DeliveryError(f"{error.__class__.__name__}: {error}") from error


def send_telegram(*, token: str, chat_id: str, text: str) -> None:
    """Bot API sendMessage (https://core.telegram.org/bots/api#sendmessage)."""
    base = getattr(settings, "TELEGRAM_API_BASE", "https://api.telegram.org").rstrip("/")
    body = json.dumps({"chat_id": chat_id, "text": text}).encode()
    answer = _post(f"{base}/bot{token}/sendMessage", body, {"Content-Type": "application/json"})
    try:
        ok = json.loads(answer).get("ok") is True
    except (ValueError, AttributeError):
        ok = False
    if not ok:
        raise DeliveryError(f"Telegram did not confirm the message: {answer[:300]!r}")


def _is_public(address: str) -> bool:
    return ipaddress.ip_address(address.split("%", 1)[0]).is_global


def private_address_error(url: str, *, resolve: bool) -> str | None:
    """Why the webhook may not call `url` (this machine, a private network, link-local such as
    the cloud's metadata service), or None. `resolve`: look the name up as the call would (at
    send time); else only an address written in the URL and "localhost" are judged (at save
    time, when the name may not resolve yet). WEBHOOK_ALLOW_PRIVATE_ADDRESSES lifts it."""
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    refused = gettext(
        "The webhook's address %(host)s is on a private network or this server; only public "
        "addresses can be called."
    ) % {"host": host}
    if not host or host == "localhost" or host.endswith(".localhost"):
        return refused
    try:
        return None if _is_public(host) else refused
    except ValueError:  # a name, not an address
        pass
    if not resolve:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as error:
        raise DeliveryError(f"{error.__class__.__name__}: {error}") from error
    if any(not _is_public(info[4][0]) for info in found):
        return refused
    return None


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(*, url: str, secret: str, event: str, event_id: str, data: dict) -> None:
    """POST the event as JSON; the receiver checks X-Salesplan-Signature against the raw body
    with the organization's secret, and deduplicates by X-Salesplan-Event-Id (the same on
    every retry)."""
    refused = private_address_error(url, resolve=True)
    if refused:
        raise DeliveryError(refused, permanent=True)
    body = json.dumps(
        {"id": event_id, "event": event, "data": data}, ensure_ascii=False, sort_keys=True
    ).encode()
    _post(
        url,
        body,
        {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(secret, body),
            EVENT_ID_HEADER: event_id,
            EVENT_HEADER: event,
        },
    )

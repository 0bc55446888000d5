"""CRM webhook bodies: form-encoded with PHP-style keys, as amoCRM and Bitrix24 post them."""

import re
from typing import Any
from urllib.parse import parse_qsl

from django.utils.translation import gettext as _

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
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


def items(group: Any) -> list[dict[str, Any]]:
    """`{"0": {...}, "1": {...}}` → the items in index order."""
    if not isinstance(group, dict):
        return []
    keyed = [(key, item) for key, item in group.items() if isinstance(item, dict)]
    keyed.sort(key=lambda pair: _index_order(pair[0]))
    return [item for _key, item in keyed]


def _index_order(key: str) -> tuple[bool, int, str]:
    """Numeric keys first, in numeric order compared as digits (a 5 000-digit index is past
    what int() converts), then the others."""
    digits = key.lstrip("0") if key.isdigit() else ""
    return (not key.isdigit(), len(digits), digits)


def form_of(content_type: str, body: str) -> dict[str, Any]:
    if not body.strip():  # nothing to read whatever its type: "no leads", "no event"
        return {}
    if not content_type.lower().startswith(FORM_CONTENT_TYPE):
        raise WebhookError(
            _("Expected Content-Type %(expected)s, got %(got)s.")
            % {"expected": FORM_CONTENT_TYPE, "got": content_type or "—"}
        )
    return expand_form(body)

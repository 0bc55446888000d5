"""The API's JSON parser: DRF's, with the size and the nesting of a body bounded before it is
read (`salesplan.limits`), so no body makes Python's parser or a serializer overflow its stack.
It is the default parser (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]) and every view that names
its parsers names this one."""

import re
from itertools import accumulate
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers, status
from rest_framework.utils import json

from salesplan.limits import MAX_JSON_DEPTH, MAX_REQUEST_BODY_BYTES

# A JSON string (with its escapes): brackets inside one do not nest anything.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "too_large"


def body_too_large() -> RequestTooLarge:
    megabytes = MAX_REQUEST_BODY_BYTES // (1024 * 1024)
    return RequestTooLarge(
        gettext("The request body is too large: send at most %(limit)s MB.") % {"limit": megabytes}
    )


def json_depth(text: str) -> int:
    """How deep arrays and objects nest in `text` (0 for a scalar); counted without parsing,
    so a body of a million brackets costs a regex pass, not a recursion."""
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(1 if char in "[{" else -1 for char in brackets), default=0)


def _content_length(parser_context: dict[str, Any]) -> int:
    request = parser_context.get("request")
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    except ValueError:
        return 0


class JSONParser(parsers.JSONParser):
    """At most MAX_REQUEST_BODY_BYTES (413 beyond) and MAX_JSON_DEPTH levels (400 beyond)."""

    def parse(
        self,
        stream: IO[bytes] | None,
        media_type: str | None = None,
        parser_context: dict[str, Any] | None = None,
    ) -> Any:
        parser_context = parser_context or {}
        if _content_length(parser_context) > MAX_REQUEST_BODY_BYTES:
            raise body_too_large()
        raw = stream.read(MAX_REQUEST_BODY_BYTES + 1) if stream is not None else b""
        if len(raw) > MAX_REQUEST_BODY_BYTES:
            raise body_too_large()
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise exceptions.ParseError(
                gettext("The body is not text in %(encoding)s.") % {"encoding": encoding}
            ) from None
        if json_depth(text) > MAX_JSON_DEPTH:
            raise exceptions.ParseError(
                gettext("JSON nested deeper than %(limit)s levels is not accepted.")
                % {"limit": MAX_JSON_DEPTH}
            )
        try:
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except (ValueError, RecursionError) as error:
            raise exceptions.ParseError(
                gettext("The body is not valid JSON: %(error)s") % {"error": error}
            ) from None

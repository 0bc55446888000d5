"""Marking of user-facing strings for translation without importing Django.

The engine stays pure: messages are English templates marked with ``gettext_noop`` so that
Django's ``makemessages`` extracts them; the web layer translates them when it shows them.
A message with values in it is a ``Message``: it reads as the English text with the values
filled in, and keeps its template and values so the web layer can translate the template.
"""

from collections.abc import Mapping
from typing import Any


def gettext_noop(message: str) -> str:
    """Return ``message`` unchanged; only marks it for extraction by ``makemessages``."""
    return message


class Message(str):
    """``template % params`` in English; ``template`` (a msgid) and ``params`` kept."""

    template: str
    params: Mapping[str, Any]

    def __new__(cls, template: str, **params: Any) -> "Message":
        message = super().__new__(cls, template % params)
        message.template = template
        message.params = params
        return message

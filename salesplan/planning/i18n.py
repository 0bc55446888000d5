"""Marking of user-facing strings for translation without importing Django.

The engine stays pure: messages are English templates marked with ``gettext_noop`` so that
Django's ``makemessages`` extracts them; the web layer translates them when it shows them.
"""


def gettext_noop(message: str) -> str:
    """Return ``message`` unchanged; only marks it for extraction by ``makemessages``."""
    return message

"""Validation errors in the user's language, in one place.

Services raise Django's `ValidationError` keyed by field ("team[0].membership"); the planning
engine raises `PlanInputError` with English messages marked for translation. Pages put either
next to the field it concerns; the API's exception handler turns either into a 400 per field
(`salesplan.api.exceptions`). Nobody else catches them.
"""

from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from salesplan.planning import PlanInputError
from salesplan.planning.i18n import Message

NON_FIELD = "non_field_errors"


def translate(message: str) -> str:
    """One of the engine's English messages in the user's language (a msgid in locale/; a
    `Message` with values has its template translated and its values filled in)."""
    if isinstance(message, Message):
        return gettext(message.template) % message.params
    return gettext(message)


def translate_errors(errors: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """The engine's English messages, translated (each is a msgid in locale/)."""
    return {key: [translate(message) for message in messages] for key, messages in errors.items()}


def engine_error(error: PlanInputError) -> ValidationError:
    """The engine's errors as a service's ValidationError, in the user's language."""
    return ValidationError(translate_errors(error.errors))


def error_dict(error: ValidationError | PlanInputError) -> dict[str, list[str]]:
    """{field: [messages]} of either kind of error; errors about no field under NON_FIELD."""
    if isinstance(error, PlanInputError):
        return translate_errors(error.errors)
    if hasattr(error, "error_dict"):
        return {
            (NON_FIELD if key == "__all__" else key): list(messages)
            for key, messages in error.message_dict.items()
        }
    return {NON_FIELD: list(error.messages)}


def error_lines(error: ValidationError | PlanInputError) -> list[str]:
    """Every message of the error, for a page that lists them."""
    return [message for messages in error_dict(error).values() for message in messages]

"""One value of an events-API item, checked and converted to what the batch's frames hold: text,
a moment, a day, money, a flag, a stage. A bad value raises `Invalid` with the reason (translated);
`echo` is how an error shows the value it complains about.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext as _

from funnel.importers.values import normalize_text
from funnel.ingest.schema import MONEY_LIMIT

# An error echoes at most this much of the value it complains about.
ECHO_CHARS = 200
# Moments and days outside these years are typos (and beyond pandas' nanosecond timestamps).
FIRST_YEAR, LAST_YEAR = 1970, 2100

TRUE_WORDS = {"true", "yes", "1", "да"}
FALSE_WORDS = {"false", "no", "0", "нет"}


class Invalid(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def organization_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/Moscow")


def echo(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= ECHO_CHARS else text[:ECHO_CHARS] + "…"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def to_text(value: Any, max_length: int) -> str:
    if _blank(value):
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Invalid(_("Expected text."))
    text = str(value).strip()
    if "\x00" in text:
        raise Invalid(_("Text cannot contain NUL characters."))
    if len(text) > max_length:
        raise Invalid(_("At most %(limit)d characters.") % {"limit": max_length})
    return text


def to_moment(value: Any, zone: tzinfo) -> datetime | None:
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise Invalid(_("Expected an ISO 8601 date and time, e.g. 2026-06-30T23:30:00+03:00."))
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(
            _("Expected an ISO 8601 date and time, e.g. 2026-06-30T23:30:00+03:00.")
        ) from None
    if moment.tzinfo is None:  # naive: the organization's local time
        moment = moment.replace(tzinfo=zone)
    try:
        year = moment.astimezone(UTC).year
    except (OverflowError, ValueError):
        year = moment.year
    _check_year(year)
    return moment


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise Invalid(
            _("Expected a year between %(first)d and %(last)d.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR - 1}
        )


def to_day(value: Any) -> date | None:
    if _blank(value):
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(_("Expected a date as YYYY-MM-DD, e.g. 2026-06-30.")) from None
    _check_year(day.year)
    return day


def to_money(value: Any) -> str:
    if _blank(value):
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Invalid(_("Expected an amount such as 1000000.50."))
    try:
        # str() first: a JSON float becomes its shortest decimal form, never a binary fraction.
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise Invalid(_("Expected an amount such as 1000000.50.")) from None
    if not amount.is_finite():
        raise Invalid(_("Expected an amount such as 1000000.50."))
    if amount < 0:
        raise Invalid(_("An amount cannot be negative."))
    if amount >= MONEY_LIMIT:
        raise Invalid(_("The amount is too large."))
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise Invalid(_("At most 2 digits after the decimal point."))
    return format(amount, "f")


def to_flag(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().casefold()
        if not word:
            return None
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise Invalid(_("Expected true or false."))


def to_stage(value: Any, stages: Mapping[str, int], names: Sequence[str]) -> int | None:
    if _blank(value):
        return None
    if isinstance(value, str) and normalize_text(value) in stages:
        return stages[normalize_text(value)]
    raise Invalid(
        _("No stage with this name in the funnel; its stages are: %(stages)s.")
        % {"stages": ", ".join(names)}
    )

"""How one cell is judged: the reason a bad cell is given (in the user's language), and the
check of a constant, a value the user gives a field for a whole file instead of a column."""

from collections.abc import Mapping

import numpy as np
from django.utils.translation import gettext

from funnel.importers.currencies import currency_code
from funnel.importers.fields import (
    CONSTANT_FIELDS,
    CURRENCY,
    DATE_FIELDS,
    FLAG_FIELDS,
    MAX_CONSTANT_CHARS,
    MONEY_FIELDS,
)
from funnel.importers.values import parse_booleans, parse_datetimes, parse_decimals

DEFAULT_TZ = "Europe/Moscow"


def date_reason() -> str:
    return gettext("not a date; expected DD.MM.YYYY [HH:MM[:SS]] or YYYY-MM-DD [HH:MM[:SS]]")


def number_reason() -> str:
    return gettext("not a number; expected an amount like 1 000 000,50 or 1000000.50")


def flag_reason() -> str:
    return gettext("not a yes/no value; expected да/нет, yes/no, true/false or 1/0")


def check_constants(constants: Mapping[str, str], *, tz: str = DEFAULT_TZ) -> dict[str, str]:
    """What is wrong with each constant (read as a cell of its field would be); the stage is
    checked by the caller against the funnel."""
    errors: dict[str, str] = {}
    for name, value in constants.items():
        cell = np.array([str(value).strip()], dtype=object)
        if name not in CONSTANT_FIELDS:
            errors[name] = gettext("This field cannot take one value for the whole file.")
        elif not cell[0]:
            errors[name] = gettext("Give a value, or leave the name to a column.")
        elif len(cell[0]) > MAX_CONSTANT_CHARS:
            errors[name] = gettext("At most %(limit)d characters.") % {"limit": MAX_CONSTANT_CHARS}
        elif name in DATE_FIELDS and parse_datetimes(cell, tz)[1][0]:
            errors[name] = date_reason()
        elif name in MONEY_FIELDS and parse_decimals(cell)[1][0]:
            errors[name] = number_reason()
        elif name in FLAG_FIELDS and parse_booleans(cell)[1][0]:
            errors[name] = flag_reason()
        elif name == CURRENCY and not currency_code(cell[0]):
            errors[name] = gettext("Not a currency we know; write its code, like USD.")
    return errors

"""Numbers and money for people: exact Decimal inside, rounded only here, for display.

Russian groups digits with a no-break space and puts one before `₽` and `%` (`10 656 000 ₽`,
`2,8 %`), so a figure never breaks across lines; its decimal separator is a comma. English
keeps `₽1,000,000`, `2.8` and `25%`. One no-break space everywhere: U+00A0 (NBSP), which every
font has (U+202F, the narrow one, is missing from some system fonts and Excel's CSV reader).
"""

import re
from decimal import ROUND_HALF_UP, Decimal

CURRENCY_SYMBOLS = {"RUB": "₽", "USD": "$", "EUR": "€", "KZT": "₸", "BYN": "Br"}
CENT = Decimal("0.01")
NBSP = "\u00a0"
HUNDRED = Decimal(100)


def _english(language: str) -> bool:
    return language.startswith("en")


def _group(digits: str, separator: str) -> str:
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return separator.join(groups)


def format_number(value: Decimal | int | float | str, language: str, places: int = 0) -> str:
    """`1 000 000,5` in Russian (no-break spaces), `1,000,000.5` in English."""
    amount = Decimal(str(value))
    quantum = Decimal(1).scaleb(-places) if places else Decimal(1)
    amount = amount.quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    whole, _, fraction = f"{abs(amount):f}".partition(".")
    english = _english(language)
    text = _group(whole, "," if english else NBSP)
    if fraction:
        text += ("." if english else ",") + fraction
    return sign + text


def format_decimal(value: Decimal | int | float | str, language: str, places: int = 1) -> str:
    """Up to `places` decimals, without trailing zeros: 2.80 → `2,8`, 3.0 → `3` (a rate a
    finding quotes, a per-day average)."""
    text = format_number(value, language, places)
    if places:
        point = "." if _english(language) else ","
        if point in text:
            text = text.rstrip("0").rstrip(point)
    return text


def format_money(value: Decimal | int | float | str | None, currency: str, language: str) -> str:
    """`1 000 000 ₽` (ru) and `₽1,000,000` (en); kopecks only when there are some."""
    if value is None or value == "":
        return "—"
    amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    places = 0 if amount == amount.to_integral_value() else 2
    number = format_number(amount, language, places)
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    if _english(language):
        sign = ""
        if number.startswith("-"):
            sign, number = "-", number[1:]
        return f"{sign}{symbol}{number}"
    return f"{number}{NBSP}{symbol}"


def format_percent(
    fraction: Decimal | int | float | str | None, language: str, places: int = 1
) -> str:
    """A fraction (0.25) as a percentage: `25,0 %` (ru, a no-break space), `25.0%` (en)."""
    if fraction is None or fraction == "":
        return "—"
    text = format_number(Decimal(str(fraction)) * HUNDRED, language, places)
    return f"{text}%" if _english(language) else f"{text}{NBSP}%"


# A figure and the unit after it ("40 %", "1 000 ₽"), or digits grouped by a plain space.
_UNIT_AFTER_FIGURE = re.compile(r"(?<=\d) (?=[%₽$€₸]|Br\b|руб)")
_PLAIN_GROUP = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")


def no_break(text: str) -> str:
    """Glue figures to their units in a translated sentence ("планируется 40 %" from a msgid
    with a plain space) so a line never breaks between them."""
    return _PLAIN_GROUP.sub(NBSP, _UNIT_AFTER_FIGURE.sub(NBSP, text))

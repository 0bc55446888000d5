"""Money for people: exact Decimal inside, rounded only here, for display."""

from decimal import ROUND_HALF_UP, Decimal

CURRENCY_SYMBOLS = {"RUB": "₽", "USD": "$", "EUR": "€", "KZT": "₸", "BYN": "Br"}
CENT = Decimal("0.01")


def _group(digits: str, separator: str) -> str:
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return separator.join(groups)


def format_number(value: Decimal | int | float | str, language: str, places: int = 0) -> str:
    """`1 000 000,5` in Russian, `1,000,000.5` in English."""
    amount = Decimal(str(value))
    quantum = Decimal(1).scaleb(-places) if places else Decimal(1)
    amount = amount.quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    whole, _, fraction = f"{abs(amount):f}".partition(".")
    russian = not language.startswith("en")
    text = _group(whole, " " if russian else ",")
    if fraction:
        text += ("," if russian else ".") + fraction
    return sign + text


def format_money(value: Decimal | int | float | str | None, currency: str, language: str) -> str:
    """`1 000 000 ₽` (ru) and `₽1,000,000` (en); kopecks only when there are some."""
    if value is None or value == "":
        return "—"
    amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    places = 0 if amount == amount.to_integral_value() else 2
    number = format_number(amount, language, places)
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    if language.startswith("en"):
        sign = ""
        if number.startswith("-"):
            sign, number = "-", number[1:]
        return f"{sign}{symbol}{number}"
    return f"{number} {symbol}"

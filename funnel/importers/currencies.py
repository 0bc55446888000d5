"""Currencies of a file's amounts: a currency column («Валюта» in Bitrix24) or a sign written
in the amount ("1 500 $"). Amounts in the organization's currency are taken as they are;
amounts in another one are converted at the rate the person gave for it, and refused (with the
reason) when there is none: they are never summed as if they were roubles."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd
from django.utils.translation import gettext

from funnel.importers.values import decimal_text

# Names of currencies as CRMs write them (compared lower-cased, spaces folded) → ISO code.
CURRENCY_NAMES: dict[str, str] = {
    **{
        name: "RUB"
        for name in (
            "rub",
            "rur",
            "₽",
            "р",
            "р.",
            "руб",
            "руб.",
            "рубль",
            "рубли",
            "рублей",
            "российский рубль",
            "рубль рф",
        )
    },
    **{name: "USD" for name in ("usd", "$", "us$", "доллар", "доллар сша", "доллары", "us dollar")},
    **{name: "EUR" for name in ("eur", "€", "евро", "euro")},
    **{name: "KZT" for name in ("kzt", "₸", "тенге", "казахстанский тенге")},
    **{name: "BYN" for name in ("byn", "byr", "br", "белорусский рубль")},
    **{name: "UAH" for name in ("uah", "₴", "гривна", "украинская гривна")},
    **{name: "CNY" for name in ("cny", "rmb", "¥", "юань", "китайский юань")},
}
_CODE = re.compile(r"^[a-z]{3}$")
# A currency sign or code written before or after an amount: "$1,500", "1 500 USD", "1500€".
_SIGNS = r"(\$|€|₸|₴|¥|usd|eur|kzt|byn|uah|cny)"
_AFFIX = re.compile(rf"(?i)^\s*{_SIGNS}\s*|\s*{_SIGNS}\s*$")
# A rate is the price of one unit in the organization's currency; beyond this it is a typo.
MAX_RATE = Decimal(1_000_000)
MAX_RATES = 20


def currency_code(text: str) -> str | None:
    """The ISO code of a currency as a file writes it; "" for an empty cell, None if unknown."""
    key = " ".join(str(text).split()).casefold()
    if not key:
        return ""
    if key in CURRENCY_NAMES:
        return CURRENCY_NAMES[key]
    return key.upper() if _CODE.match(key) else None


def amount_currencies(amounts: np.ndarray) -> np.ndarray:
    """The currency each amount names by a sign or code ("1 500 $" → USD), "" where none."""
    codes, uniques = pd.factorize(amounts)
    found = []
    for value in uniques:
        match = _AFFIX.search(str(value))
        found.append(currency_code(next(g for g in match.groups() if g)) if match else "")
    return np.asarray(found, dtype=object)[codes] if len(found) else np.full(len(amounts), "")


def check_rates(rates: Mapping[str, object], currency: str) -> tuple[dict[str, str], list[str]]:
    """The rates as stored ({"USD": "92.5"}) and what is wrong with them, one line each."""
    errors: list[str] = []
    clean: dict[str, str] = {}
    if len(rates) > MAX_RATES:
        return {}, [gettext("At most %(limit)d rates.") % {"limit": MAX_RATES}]
    for name, value in rates.items():
        code = currency_code(str(name)[:50])
        if not str(value).strip():
            continue
        if not code:
            errors.append(gettext("%(name)s is not a currency.") % {"name": str(name)[:50]})
            continue
        if code == currency:
            errors.append(
                gettext("%(code)s is the organization's own currency: it needs no rate.")
                % {"code": code}
            )
            continue
        text = decimal_text(str(value).strip()[:50])
        try:
            rate = Decimal(text) if text else None
        except InvalidOperation:
            rate = None
        if rate is None or not 0 < rate <= MAX_RATE:
            errors.append(
                gettext("The %(code)s rate must be a number above 0 and at most %(limit)s.")
                % {"code": code, "limit": f"{MAX_RATE:,}".replace(",", " ")}
            )
            continue
        clean[code] = str(rate)
    return clean, errors


def convert(
    amounts: np.ndarray, currencies: np.ndarray, *, currency: str, rates: Mapping[str, str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Amounts (plain decimal text, "" for none) in the organization's `currency`: those in
    another currency times its rate. Returns (amounts, rows with no rate, rows whose currency
    is unknown)."""
    out = amounts.copy()
    unknown = np.zeros(len(amounts), dtype=bool)
    no_rate = np.zeros(len(amounts), dtype=bool)
    for name in pd.unique(currencies):
        code = currency_code(name)
        if code in ("", currency):
            continue
        rows = currencies == name
        if code is None:
            unknown |= rows
        elif code not in rates:
            no_rate |= rows & (amounts != "")
        else:
            rate = Decimal(rates[code])
            for index in np.flatnonzero(rows & (amounts != "")):
                out[index] = str((Decimal(amounts[index]) * rate).quantize(Decimal("0.01")))
    return out, no_rate, unknown

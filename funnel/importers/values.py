"""Parsers for the values CRM exports hold: dates, money, yes/no.

Each takes a numpy object array of stripped str ("" for empty) and returns the parsed values
plus a boolean mask of the rows holding something unparseable; empty cells are never errors
here. Money and flags are parsed once per distinct value; dates column-wise with numpy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

UTC_DTYPE = "datetime64[ns, UTC]"
# A date with a time and an ISO offset with fractions is ~32 characters; anything longer is not
# a date, and is kept out of the fixed-width arrays below (their memory is rows × width).
MAX_DATE_CHARS = 35
# Stored moments must fit datetime64[ns]; the bounds also catch typos like 20224.
EARLIEST = pd.Timestamp("1900-01-01")
LATEST = pd.Timestamp("2200-01-01")
# Day-first formats the fast path below does not cover (one-digit day or month, 2-digit year).
DAY_FIRST_FORMATS = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d.%m.%y %H:%M:%S",
    "%d.%m.%y %H:%M",
    "%d.%m.%y",
)

_DOT, _DASH, _PLUS, _ZULU = (ord(c) for c in ".-+Z")

_CURRENCY = r"(?:₽|руб(?:лей|ля|ль|\.)?|р\.?|rub|rur|\$|€|usd|eur)"
_CURRENCY_AFFIX = re.compile(rf"(?i)^{_CURRENCY}\s*|\s*{_CURRENCY}$")
# Spaces of any kind (and the Swiss apostrophe) group digits: 1 000 000, 1 000 000.
_GROUPING = (" ", "\u00a0", "\u202f", "\u2009", "'")
# 1,000,000.50 and 1.000.000,50: groups of three, then maybe a decimal part.
_GROUPED = re.compile(
    r"(?P<int>[1-9]\d{0,2}(?P<sep>[,.])\d{3}(?:(?P=sep)\d{3})*)(?:[,.](?P<frac>\d+))?"
)

# What CRMs write in a date column for "no date": amoCRM's «Дата закрытия» of an open deal.
NO_DATE_WORDS = frozenset(
    {"не закрыта", "не закрыто", "не закрыт", "не указана", "не указано", "нет", "-", "—", "–"}
)
TRUE_WORDS = frozenset(
    {"да", "д", "yes", "y", "true", "1", "целевой", "целевая", "истина", "+", "x", "✓"}
)
FALSE_WORDS = frozenset(
    {"нет", "н", "no", "n", "false", "0", "нецелевой", "нецелевая", "ложь", "-"}
)


def on_distinct(
    values: np.ndarray, parse: Callable[[np.ndarray], tuple[np.ndarray, ...]]
) -> tuple[np.ndarray, ...]:
    """Apply `parse` once per distinct value and spread its arrays back over the rows."""
    codes, uniques = pd.factorize(values)
    return tuple(part[codes] for part in parse(np.asarray(uniques, dtype=object)))


def decimal_text(text: str) -> str | None:
    """One amount as a plain decimal string ("1000000.50"), or None if it is not a number.

    Accepts spaces (also no-break) between digit groups, a decimal comma or point, English
    (1,000,000.50) and European (1.000.000,50) grouping, a sign, and ₽ / руб. / $ / € around.
    A single comma followed by exactly three digits groups thousands ("12,500" = 12500): money
    has at most two decimals, so that reading is the only sensible one. A single point is always
    the decimal point (xlsx and ISO numbers write "1234.567").
    """
    if text.isascii() and text.isdigit():
        return text  # the common cases first: 1000000, 1 000 000, 1 000 000,50
    if not text:
        return ""
    compact = text.replace(" ", "")
    if compact.isascii():
        if compact.isdigit():
            return compact
        whole, comma, fraction = compact.partition(",")
        if comma and whole.isdigit() and fraction.isdigit() and len(fraction) != 3:
            return f"{whole}.{fraction}"
    if not (text[-1].isdigit() and (text[0].isdigit() or text[0] in "-+−")):
        text = _CURRENCY_AFFIX.sub("", text)
    for char in _GROUPING:
        if char in text:
            text = text.replace(char, "")
    sign = ""
    if text[:1] in ("-", "+", "−"):
        sign = "" if text[0] == "+" else "-"
        text = text[1:]
    commas, points = text.count(","), text.count(".")
    if commas + points == 0:
        number = text
    elif commas + points == 1:
        whole, separator, fraction = text.partition("," if commas else ".")
        if separator == "," and len(fraction) == 3 and 1 <= len(whole) <= 3 and whole[0] != "0":
            number = whole + fraction
        elif whole and fraction:
            number = f"{whole}.{fraction}"
        else:
            return None
    else:
        match = _GROUPED.fullmatch(text)
        if match is None or (match["frac"] and text[-len(match["frac"]) - 1] == match["sep"]):
            return None
        number = match["int"].replace(match["sep"], "")
        if match["frac"]:
            number = f"{number}.{match['frac']}"
    digits = number.replace(".", "", 1)
    if not (digits.isascii() and digits.isdigit()):
        return None
    return sign + number


def parse_decimals(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Amounts → (plain decimal strings, "" for empty or bad; bad mask; negative mask)."""

    def parse(distinct: np.ndarray) -> tuple[np.ndarray, ...]:
        parsed = [decimal_text(value) for value in distinct]
        texts = np.array([text or "" for text in parsed], dtype=object)
        bad = np.array([text is None for text in parsed], dtype=bool)
        negative = np.array([t[:1] == "-" and t.strip("-0.") != "" for t in texts], dtype=bool)
        return texts, bad, negative

    texts, bad, negative = on_distinct(values, parse)
    return texts, bad, negative


def parse_booleans(values: np.ndarray) -> tuple[pd.api.extensions.ExtensionArray, np.ndarray]:
    """да/нет, yes/no, true/false, 1/0, целевой/нецелевой → nullable boolean; bad mask."""

    def parse(distinct: np.ndarray) -> tuple[np.ndarray, ...]:
        words = [value.lower() for value in distinct]
        flags = np.array([word in TRUE_WORDS for word in words], dtype=bool)
        known = np.array([word in TRUE_WORDS or word in FALSE_WORDS for word in words], dtype=bool)
        return flags, known

    flags, known = on_distinct(values, parse)
    empty = values == ""
    return pd.arrays.BooleanArray(flags, ~known), ~known & ~empty


def parse_datetimes(values: np.ndarray, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Dates and times as CRM exports write them → UTC moments (naive datetime64[ns] in UTC).

    Accepted: DD.MM.YYYY, DD.MM.YYYY HH:MM, DD.MM.YYYY HH:MM:SS, ISO YYYY-MM-DD[ HH:MM[:SS]]
    (also with "T" and fractions) — all local times in `tz` — and ISO with an offset or "Z".
    Returns (moments, NaT for empty or bad; bad mask).
    """
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    result = np.full(len(values), np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    candidates = np.flatnonzero((lengths > 0) & (lengths <= MAX_DATE_CHARS))
    if len(candidates):
        result[candidates] = _parse_candidates(values[candidates], tz)
    bad = np.isnat(result) & (lengths > 0)
    if bad.any():  # words that mean "no date" are empty cells, not errors
        rows = np.flatnonzero(bad)
        bad[rows[[normalize_text(value) in NO_DATE_WORDS for value in values[rows]]]] = False
    return result, bad


def _parse_candidates(text: np.ndarray, tz: str) -> np.ndarray:
    """UTC datetime64[ns] for each non-empty string (NaT if it is not a date)."""
    fixed = text.astype("U")  # fixed width: one row of UCS-4 code points per value
    width = fixed.dtype.itemsize // 4
    chars = fixed.view(np.uint32).reshape(len(fixed), width).copy()
    if width >= 10:
        # DD.MM.YYYY… → YYYY-MM-DD…: pandas' ISO parser is ~20× faster than strptime.
        dotted = (chars[:, 2] == _DOT) & (chars[:, 5] == _DOT)
        if dotted.any():
            day_first = chars[dotted]
            iso = day_first.copy()
            iso[:, 0:4] = day_first[:, 6:10]
            iso[:, 4] = _DASH
            iso[:, 5:7] = day_first[:, 3:5]
            iso[:, 7] = _DASH
            iso[:, 8:10] = day_first[:, 0:2]
            chars[dotted] = iso
    iso_text = chars.view(f"U{width}").ravel()
    # An offset (+03:00, -05, Z) can only follow the date part.
    tail = chars[:, 10:]
    aware = ((tail == _PLUS) | (tail == _DASH) | (tail == _ZULU)).any(axis=1)

    result = np.full(len(text), np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    if (~aware).any():
        local = pd.to_datetime(pd.Series(iso_text[~aware]), format="ISO8601", errors="coerce")
        result[~aware] = _to_utc(local, tz)
    if aware.any():
        moments = pd.to_datetime(
            pd.Series(iso_text[aware]), format="ISO8601", errors="coerce", utc=True
        )
        result[aware] = _in_range(moments.dt.tz_localize(None)).to_numpy(dtype="datetime64[ns]")

    # What the fast path missed: one-digit days and months, two-digit years.
    missed = np.flatnonzero(np.isnat(result))
    for fmt in DAY_FIRST_FORMATS:
        if not len(missed):
            break
        local = pd.to_datetime(pd.Series(text[missed], dtype=object), format=fmt, errors="coerce")
        found = local.notna().to_numpy()
        if found.any():
            result[missed[found]] = _to_utc(local[found], tz)
            missed = missed[~found]
    return result


def _to_utc(local: pd.Series, tz: str) -> np.ndarray:
    """Naive local times in `tz` → naive UTC datetime64[ns]. Clock changes: a repeated hour is
    read as standard time, a skipped one is moved forward (Moscow has had neither since 2014)."""
    aware = _in_range(local).dt.tz_localize(
        ZoneInfo(tz), ambiguous=np.zeros(len(local), dtype=bool), nonexistent="shift_forward"
    )
    return aware.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")


def _in_range(moments: pd.Series) -> pd.Series:
    """NaT for moments datetime64[ns] cannot hold or no sales data has."""
    return moments.where((moments >= EARLIEST) & (moments < LATEST))


def as_utc(moment: datetime, tz: str) -> pd.Timestamp:
    """A datetime (naive = local in `tz`) as a UTC Timestamp."""
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(ZoneInfo(tz))
    return stamp.tz_convert("UTC")


def normalize_text(value: str) -> str:
    """How stage names and CRM ids are compared: spacing, case and ё/е do not matter."""
    return " ".join(value.split()).lower().replace("ё", "е")

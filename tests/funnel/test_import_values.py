"""The value parsers: money as exact text, dates to UTC, yes/no."""

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from funnel.importers.values import (
    decimal_text,
    parse_booleans,
    parse_datetimes,
    parse_decimals,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1000000", "1000000"),
        ("1 000 000,50", "1000000.50"),
        ("1\u00a0000\u00a0000,50", "1000000.50"),  # no-break spaces (Excel, amoCRM)
        ("1\u202f000,5", "1000.5"),
        ("1000000.50", "1000000.50"),
        ("1,000,000.50", "1000000.50"),
        ("1.000.000,50", "1000000.50"),
        ("1,000,000", "1000000"),
        ("12,500", "12500"),  # three digits after one comma: thousands (money has two decimals)
        ("12,50", "12.50"),
        ("0,125", "0.125"),
        ("1234,567", "1234.567"),
        ("1.000", "1.000"),  # a single point is the decimal point
        ("15 500,00 ₽", "15500.00"),
        ("15 500 руб.", "15500"),
        ("15500р.", "15500"),
        ("$1,250.00", "1250.00"),
        ("+7", "7"),
        ("-5 000", "-5000"),
        ("−250", "-250"),
        ("", ""),
        ("десять", None),
        ("1,000,00", None),
        ("1.2.3", None),
        ("5.", None),
        (",5", None),
        ("1e6", None),
        ("١٢٣", None),  # Arabic-Indic digits are digits to Python, not to a ledger
    ],
)
def test_decimal_text(text, expected):
    assert decimal_text(text) == expected


def test_parse_decimals_marks_bad_and_negative():
    values = np.array(["1 000,50", "", "x", "-3", "-0,00", "1 000,50"], dtype=object)
    texts, bad, negative = parse_decimals(values)
    assert texts.tolist() == ["1000.50", "", "", "-3", "-0.00", "1000.50"]
    assert bad.tolist() == [False, False, True, False, False, False]
    assert negative.tolist() == [False, False, False, True, False, False]


def group(digits: str, separator: str) -> str:
    head = len(digits) % 3 or 3
    return separator.join(
        [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    )


@given(
    whole=st.integers(min_value=0, max_value=10**15),
    cents=st.one_of(st.none(), st.integers(min_value=0, max_value=99)),
    style=st.sampled_from(["plain", "russian", "russian-nbsp", "english", "european", "rub"]),
)
def test_formatted_amounts_round_trip_exactly(whole, cents, style):
    # given an amount of money written the way some spreadsheet or CRM writes it
    digits = str(whole)
    fraction = "" if cents is None else f"{cents:02d}"
    decimal = {"plain": ".", "english": "."}.get(style, ",")
    grouping = {
        "plain": "",
        "russian": " ",
        "russian-nbsp": "\u00a0",
        "english": ",",
        "european": ".",
        "rub": " ",
    }[style]
    text = group(digits, grouping) if grouping else digits
    if fraction:
        text += decimal + fraction
    if style == "rub":
        text += " ₽"
    # "1.000" alone is one point three zeros: our rule reads a single point as the decimal point
    assume(not (style == "european" and not fraction and text.count(".") == 1))
    # when it is parsed
    parsed = decimal_text(text)
    # then the plain decimal is exactly the amount, digit for digit
    expected = digits + (f".{fraction}" if fraction else "")
    assert parsed == expected
    assert Decimal(parsed) == Decimal(expected)


def test_parse_datetimes_formats_and_zones():
    values = np.array(
        [
            "15.01.2024 10:30:00",
            "15.01.2024 10:30",
            "15.01.2024",
            "5.1.2024",
            "15.01.24",
            "2024-01-15",
            "2024-01-15 10:30",
            "2024-01-15T10:30:00.250",
            "2024-01-15T10:30:00+05:00",
            "2024-01-15T10:30:00Z",
            "",
            "31.02.2024",
            "2024-13-01",
            "31.12.9999",
            "вчера",
            "x" * 100,
        ],
        dtype=object,
    )
    moments, bad = parse_datetimes(values, "Europe/Moscow")
    stamps = pd.DatetimeIndex(moments, tz="UTC")
    assert stamps[:10].tolist() == [
        pd.Timestamp("2024-01-15 07:30", tz="UTC"),
        pd.Timestamp("2024-01-15 07:30", tz="UTC"),
        pd.Timestamp("2024-01-14 21:00", tz="UTC"),
        pd.Timestamp("2024-01-04 21:00", tz="UTC"),
        pd.Timestamp("2024-01-14 21:00", tz="UTC"),
        pd.Timestamp("2024-01-14 21:00", tz="UTC"),
        pd.Timestamp("2024-01-15 07:30", tz="UTC"),
        pd.Timestamp("2024-01-15 07:30:00.250", tz="UTC"),
        pd.Timestamp("2024-01-15 05:30", tz="UTC"),
        pd.Timestamp("2024-01-15 10:30", tz="UTC"),
    ]
    assert stamps[10:].isna().all()
    assert bad.tolist() == [False] * 11 + [True] * 5


def test_parse_datetimes_in_another_zone():
    moments, _ = parse_datetimes(np.array(["01.07.2024 23:30:00"], dtype=object), "Asia/Tokyo")
    assert pd.Timestamp(moments[0]) == pd.Timestamp("2024-07-01 14:30")


def test_parse_booleans():
    values = np.array(["да", "Нет", "yes", "FALSE", "1", "0", "целевой", "Нецелевой", "", "?"])
    flags, bad = parse_booleans(values.astype(object))
    assert flags.tolist() == [True, False, True, False, True, False, True, False, pd.NA, pd.NA]
    assert bad.tolist() == [False] * 9 + [True]

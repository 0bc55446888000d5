"""Exact helpers for the figures findings quote (no floats anywhere)."""

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


def median(values: Sequence[int] | Sequence[Fraction]) -> Fraction:
    """The exact median."""
    ordered = sorted(Fraction(value) for value in values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def one_decimal(value: Fraction) -> str:
    """One decimal place, half up, without a trailing ".0": 38.18 → "38.2", 25 → "25"."""
    rounded = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    whole = rounded.to_integral_value()
    return str(whole) if rounded == whole else str(rounded)


def whole_up(value: Fraction) -> int:
    """Whole units, rounded up (a volume or amount that is needed)."""
    return -(-value.numerator // value.denominator)

"""Whole-number splits that add up exactly (DOMAIN 3: "largest-remainder method")."""

import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction


def largest_remainder(total: int, weights: Sequence[Decimal | int | float]) -> list[int]:
    """Split ``total`` into whole parts proportional to ``weights`` (Hamilton's method).

    Every part gets the floor of its exact quota; the units left over go to the largest
    remainders, ties to the earlier index. Parts add up exactly to ``total``; a zero weight
    gets zero. Arithmetic is exact (weights are turned into integers first).
    """
    if not isinstance(total, int) or isinstance(total, bool):
        raise ValueError(f"The total to split must be an int, got {total!r}.")
    if total < 0:
        raise ValueError(f"The total to split must not be negative, got {total}.")
    int_weights = integer_weights(weights)
    weight_sum = sum(int_weights)
    if total == 0:
        return [0] * len(int_weights)
    if weight_sum == 0:
        raise ValueError(f"Cannot split {total} when every weight is zero (or there is none).")
    parts: list[int] = []
    remainders: list[int] = []
    for weight in int_weights:
        part, remainder = divmod(total * weight, weight_sum)
        parts.append(part)
        remainders.append(remainder)
    left = total - sum(parts)
    if left:
        # Largest remainder first; equal remainders go to the earlier index.
        order = sorted(range(len(parts)), key=lambda i: (-remainders[i], i))
        for index in order[:left]:
            parts[index] += 1
    return parts


def equal_split(total: int, count: int) -> list[int]:
    """Largest remainder with equal weights: the first ``total % count`` parts get one more."""
    if total < 0:
        raise ValueError(f"The total to split must not be negative, got {total}.")
    if count <= 0:
        if total:
            raise ValueError(f"Cannot split {total} into no parts.")
        return []
    base, left = divmod(total, count)
    return [base + 1] * left + [base] * (count - left)


def integer_weights(weights: Sequence[Decimal | int | float]) -> list[int]:
    """Scale weights to integers with the same ratios (exactly), checking they are valid."""
    if all(type(weight) is int for weight in weights):
        ints = list(weights)  # type: ignore[arg-type]
        for weight in ints:
            if weight < 0:
                raise ValueError(f"Weights must not be negative, got {weight}.")
        return ints  # type: ignore[return-value]
    fractions: list[Fraction] = []
    for weight in weights:
        if isinstance(weight, float | Decimal) and not _is_finite(weight):
            raise ValueError(f"Weights must be finite numbers, got {weight!r}.")
        fraction = Fraction(weight)
        if fraction < 0:
            raise ValueError(f"Weights must not be negative, got {weight}.")
        fractions.append(fraction)
    denominator = math.lcm(*(f.denominator for f in fractions)) if fractions else 1
    return [f.numerator * (denominator // f.denominator) for f in fractions]


def _is_finite(value: float | Decimal) -> bool:
    return value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)

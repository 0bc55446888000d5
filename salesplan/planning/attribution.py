"""The revenue gap split into its factors' contributions (DOMAIN 3, last rule).

Revenue = leads × share of target leads × conversion₁ × … × conversionₙ × average check. The
additive logarithmic mean Divisia index (LMDI-I; Ang, "The LMDI approach to decomposition
analysis", Energy Policy 2005) gives factor i the contribution

    Cᵢ = L(V₁, V₀) · ln(xᵢ₁ / xᵢ₀),   L(a, b) = (a − b) / (ln a − ln b),  L(a, a) = a,

where V₀, V₁ are plan and actual revenue and xᵢ₀, xᵢ₁ the factor's plan and actual. Since
Σ ln(xᵢ₁ / xᵢ₀) = ln(V₁ / V₀), the contributions add up to V₁ − V₀ with no residual term, and a
factor that met its plan (xᵢ₁ = xᵢ₀) contributes exactly zero.

Zeros ("no meetings yet"): the logarithm of zero is undefined, so we use the standard
small-value strategy (Ang & Liu, Energy Economics 2007): replace each zero by the same δ > 0
and take the limit δ → 0, which we compute in closed form (no δ is ever chosen, so the result
does not depend on one):

- a factor that is zero in both plan and actual, or zeros on both sides (V₀ = V₁ = 0): the gap
  is 0 and every contribution is 0;
- zeros only in the actual (V₁ = 0 < V₀): the gap −V₀ is shared equally by the factors that are
  zero in the actual; every other factor contributes 0 (L(0, V₀) = 0);
- zeros only in the plan (V₀ = 0 < V₁): the gap V₁ is shared equally by the factors that are
  zero in the plan; every other factor contributes 0.

Rounding (money to the kopeck, half up as everywhere in Salesplan): plan and actual revenue
are each rounded to 0.01 and the gap is their difference, so it matches the figures shown.
Each contribution is computed at ``LN_PRECISION`` significant digits and rounded to 0.01; the
few kopecks of residual (gap − sum of rounded contributions, at most about half a kopeck per
factor plus one) are added to the contribution of the largest magnitude (the first such in
factor order on a tie). Contributions then add up to the gap exactly, a factor that met its plan
stays at exactly 0.00 (the largest contribution is never zero unless all are, and then the gap is
zero too), and no contribution moves by more than the residual.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any, Final

from salesplan.planning.tracking import round_half_up

Number = int | Decimal | Fraction

KOPECK: Final = Decimal("0.01")
LN_PRECISION: Final = 40  # significant digits of the logarithms; far below a kopeck's error


@dataclass(frozen=True, slots=True)
class Attribution:
    """Plan and actual revenue, their gap (actual − plan) and each factor's contribution,
    in factor order, all to the kopeck; ``sum(contributions.values()) == gap`` exactly."""

    plan_revenue: Decimal
    actual_revenue: Decimal
    gap: Decimal
    contributions: Mapping[str, Decimal]


def logarithmic_mean(a: Decimal, b: Decimal) -> Decimal:
    """L(a, b) = (a − b) / (ln a − ln b), L(a, a) = a, L(a, 0) = 0, for a, b ≥ 0 (at
    ``LN_PRECISION`` digits)."""
    if a < 0 or b < 0:
        raise ValueError("The logarithmic mean is defined for non-negative numbers only.")
    if a == b:
        return a
    if a == 0 or b == 0:
        return Decimal(0)
    with localcontext() as context:
        context.prec = LN_PRECISION
        return (a - b) / (a.ln() - b.ln())


def attribute_gap(factors: Mapping[str, tuple[Number, Number]]) -> Attribution:
    """Split actual revenue − plan revenue among ``factors`` (name → (plan, actual), in the
    order of the revenue formula: leads, target share, conversions, average check) by LMDI-I;
    see the module's docstring for the zero and rounding rules. Factors must be ≥ 0."""
    if not factors:
        raise ValueError("At least one factor is needed.")
    plans = {name: Fraction(pair[0]) for name, pair in factors.items()}
    actuals = {name: Fraction(pair[1]) for name, pair in factors.items()}
    negative = [name for name in factors if plans[name] < 0 or actuals[name] < 0]
    if negative:
        raise ValueError(f"Factors cannot be negative: {', '.join(negative)}.")

    plan_revenue, actual_revenue = _product(plans.values()), _product(actuals.values())
    plan_rounded, actual_rounded = round_half_up(plan_revenue, 2), round_half_up(actual_revenue, 2)
    gap = actual_rounded - plan_rounded
    exact = _contributions(plans, actuals, plan_revenue, actual_revenue)
    rounded = {
        name: value.quantize(KOPECK, rounding=ROUND_HALF_UP) for name, value in exact.items()
    }
    residual = gap - sum(rounded.values(), Decimal(0))
    if residual:
        largest = max(exact, key=lambda name: abs(exact[name]))  # max keeps the first on a tie
        rounded[largest] += residual
    return Attribution(plan_rounded, actual_rounded, gap, rounded)


def _contributions(
    plans: Mapping[str, Fraction],
    actuals: Mapping[str, Fraction],
    plan_revenue: Fraction,
    actual_revenue: Fraction,
) -> dict[str, Decimal]:
    """Unrounded contributions: LMDI-I, or the δ → 0 limit when a factor is zero."""
    names = list(plans)
    zero = Decimal(0)
    if plan_revenue == 0 or actual_revenue == 0:
        if plan_revenue == actual_revenue:  # both zero: nothing to split
            return dict.fromkeys(names, zero)
        side = plans if plan_revenue == 0 else actuals
        zeros = [name for name in names if side[name] == 0]
        with localcontext() as context:
            context.prec = LN_PRECISION
            share = _decimal(actual_revenue - plan_revenue) / len(zeros)
        return {name: share if name in zeros else zero for name in names}
    with localcontext() as context:
        context.prec = LN_PRECISION
        weight = logarithmic_mean(_decimal(actual_revenue), _decimal(plan_revenue))
        return {
            name: zero
            if plans[name] == actuals[name]
            else weight * (_decimal(actuals[name]).ln() - _decimal(plans[name]).ln())
            for name in names
        }


def _product(values: Iterable[Fraction]) -> Fraction:
    result = Fraction(1)
    for value in values:
        result *= value
    return result


def _decimal(value: Fraction) -> Decimal:
    """``value`` as a Decimal at the current context's precision."""
    return Decimal(value.numerator) / Decimal(value.denominator)


def split_by_shares(
    amount: Decimal, shares: Sequence[tuple[Any, Number]]
) -> list[tuple[Any, Decimal]]:
    """A contribution (money, to the kopeck) split among owners in proportion to their
    shares, the leftover kopecks going to the largest fractional parts (ties: the earlier
    owner), so the parts add up to `amount` exactly. No shares: one part, owner None."""
    parts_of = [(owner, Fraction(share)) for owner, share in shares]
    total = sum((share for _, share in parts_of), Fraction(0))
    if not parts_of or total == 0:
        return [(None, amount)]
    kopecks = int(amount.scaleb(2))
    sign = -1 if kopecks < 0 else 1
    exact = [Fraction(abs(kopecks)) * share / total for _, share in parts_of]
    parts = [int(value) for value in exact]
    order = sorted(range(len(parts_of)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: abs(kopecks) - sum(parts)]:
        parts[i] += 1
    return [
        (owner, Decimal(sign * part).scaleb(-2))
        for (owner, _), part in zip(parts_of, parts, strict=True)
    ]

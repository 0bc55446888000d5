"""The revenue gap split by LMDI-I into its factors' contributions (DOMAIN 3, last rule)."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesplan.planning import attribute_gap, logarithmic_mean
from salesplan.planning.attribution import split_by_shares

from .builders import D

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)


def test_more_leads_at_the_same_check_is_all_lead_volume():
    # given leads doubled, the check as planned
    # when
    result = attribute_gap({"leads": (100, 200), "average_check": (D("10"), D("10"))})

    # then the whole gap 1,000 is lead volume's; the check met its plan: exactly 0
    assert result.gap == D("1000.00")
    assert result.contributions == {"leads": D("1000.00"), "average_check": D("0.00")}


def test_two_factors_that_cancel_out():
    # given leads doubled, the check halved: revenue unchanged, L(1000, 1000) = 1000
    # when
    result = attribute_gap({"leads": (100, 200), "average_check": (10, 5)})

    # then ±1000 × ln 2 = ±693.147…, and the gap is zero
    assert result.gap == D("0.00")
    assert result.contributions == {"leads": D("693.15"), "average_check": D("-693.15")}


def test_symmetric_growth_is_shared_equally():
    # given leads and check both doubled: 1,000 → 4,000
    # when
    result = attribute_gap({"leads": (100, 200), "average_check": (10, 20)})

    # then L(4000, 1000) × ln 2 = 3000 / ln 4 × ln 2 = 1,500 each
    assert result.contributions == {"leads": D("1500.00"), "average_check": D("1500.00")}


def test_the_rounding_residual_goes_to_the_largest_contribution_first_on_a_tie():
    # given three factors that all double: 1 → 8, each exactly 7 / 3 = 2.333…
    # when
    result = attribute_gap({"a": (1, 2), "b": (1, 2), "c": (1, 2)})

    # then 2.33 × 3 = 6.99; the missing kopeck goes to the first of the equal largest
    assert result.gap == D("7.00")
    assert result.contributions == {"a": D("2.34"), "b": D("2.33"), "c": D("2.33")}


def test_the_worked_example_behind_plan():
    # given the worked example's funnel to date, with fewer leads, a better target share,
    # a worse held→paid conversion and a higher check
    factors = {
        "leads": (D("420"), D("400")),
        "target_lead_share": (D("0.6"), D("0.63")),
        "target_lead_to_scheduled": (D("0.25"), D("0.25")),
        "scheduled_to_held": (D("0.8"), D("0.8")),
        "held_to_paid": (D("0.4"), D("0.3")),
        "average_check": (D("50000"), D("55000")),
    }

    # when
    result = attribute_gap(factors)

    # then plan 420 × 0.6 × 0.25 × 0.8 × 0.4 × 50,000 = 1,008,000; actual 831,600
    assert result.plan_revenue == D("1008000.00")
    assert result.actual_revenue == D("831600.00")
    assert result.gap == D("-176400.00")
    assert sum(result.contributions.values()) == result.gap
    contributions = result.contributions
    # L(831600, 1008000) = −176400 / ln(0.825) ≈ 916,973.88; × ln(400/420), ln(1.05) …
    # (checked in float: −44,739.306, 44,739.306, −263,796.945, 87,396.945)
    assert contributions["leads"] == D("-44739.31")
    assert contributions["target_lead_share"] == D("44739.31")
    assert contributions["held_to_paid"] == D("-263796.94")
    assert contributions["average_check"] == D("87396.94")
    assert contributions["target_lead_to_scheduled"] == D("0.00")
    assert contributions["scheduled_to_held"] == D("0.00")


def test_no_meetings_yet_puts_the_whole_gap_on_the_zero_factor():
    # given no meeting held yet: the scheduled→held conversion is 0, so is revenue
    # when
    result = attribute_gap(
        {
            "leads": (D("200"), D("180")),
            "scheduled_to_held": (D("0.8"), D("0")),
            "average_check": (D("50000"), D("50000")),
        }
    )

    # then (δ → 0 limit) the zero conversion owns the whole gap; the others 0
    assert result.gap == D("-8000000.00")
    assert result.contributions == {
        "leads": D("0.00"),
        "scheduled_to_held": D("-8000000.00"),
        "average_check": D("0.00"),
    }


def test_several_zero_factors_share_the_gap_equally():
    # when two factors fell to zero
    result = attribute_gap({"a": (3, 0), "b": (D("0.5"), 0), "c": (D("0.01"), 0), "d": (2, 3)})

    # then 0.03 is shared by a, b, c: 0.01 each; d contributes 0 (L(0, V₀) = 0)
    assert result.gap == D("-0.03")
    assert result.contributions == {
        "a": D("-0.01"),
        "b": D("-0.01"),
        "c": D("-0.01"),
        "d": D("0.00"),
    }


def test_a_factor_zero_in_plan_owns_the_whole_actual():
    # when a factor planned at 0 is now positive
    result = attribute_gap({"leads": (0, 10), "average_check": (100, 120)})

    # then the whole actual revenue is that factor's
    assert result.contributions == {"leads": D("1200.00"), "average_check": D("0.00")}


def test_zero_revenue_on_both_sides_has_nothing_to_split():
    # when plan and actual revenue are both zero
    result = attribute_gap({"leads": (0, 10), "held_to_paid": (D("0.4"), 0), "check": (1, 2)})

    # then
    assert result.gap == D("0.00")
    assert set(result.contributions.values()) == {D("0.00")}


def test_negative_factors_and_no_factors_are_refused():
    with pytest.raises(ValueError, match="negative: leads"):
        attribute_gap({"leads": (-1, 2)})
    with pytest.raises(ValueError, match="At least one"):
        attribute_gap({})


def test_logarithmic_mean():
    assert logarithmic_mean(D(5), D(5)) == D(5)
    assert logarithmic_mean(D(5), D(0)) == D(0)
    # L(4, 1) = 3 / ln 4 = 2.1640425613334451…
    assert logarithmic_mean(D(4), D(1)).quantize(D("1e-15")) == D("2.164042561333445")


# --- properties ------------------------------------------------------------------------------

values = st.one_of(
    st.just(D(0)),
    st.decimals(min_value=D("0.0001"), max_value=D(1), places=4),
    st.decimals(min_value=D(1), max_value=D(100_000), places=2),
)


@st.composite
def factor_sets(draw: st.DrawFn) -> dict[str, tuple[Decimal, Decimal]]:
    count = draw(st.integers(min_value=1, max_value=8))
    factors = {}
    for index in range(count):
        plan = draw(values)
        actual = plan if draw(st.booleans()) else draw(values)  # often met its plan
        factors[f"factor {index}"] = (plan, actual)
    return factors


@PROPERTY_SETTINGS
@given(factors=factor_sets())
def test_contributions_always_sum_to_the_gap_to_the_kopeck(factors):
    # when
    result = attribute_gap(factors)

    # then exactly, with every figure in kopecks and nothing NaN
    assert sum(result.contributions.values(), D(0)) == result.gap
    assert result.gap == result.actual_revenue - result.plan_revenue
    for value in (*result.contributions.values(), result.gap):
        assert value.is_finite()
        assert value.as_tuple().exponent == -2
    assert list(result.contributions) == list(factors)


@PROPERTY_SETTINGS
@given(factors=factor_sets())
def test_a_factor_that_met_its_plan_contributes_zero(factors):
    # when
    result = attribute_gap(factors)

    # then
    for name, (plan, actual) in factors.items():
        if plan == actual:
            assert result.contributions[name] == D("0.00")


@PROPERTY_SETTINGS
@given(factors=factor_sets())
def test_plan_met_everywhere_gives_all_zeros(factors):
    # given actual equal to plan for every factor
    met = {name: (plan, plan) for name, (plan, _) in factors.items()}

    # when
    result = attribute_gap(met)

    # then
    assert result.gap == D("0.00")
    assert all(value == D("0.00") for value in result.contributions.values())


@PROPERTY_SETTINGS
@given(factors=factor_sets())
def test_swapping_plan_and_actual_negates_the_exact_split(factors):
    # given the same factors with plan and actual swapped
    swapped = {name: (actual, plan) for name, (plan, actual) in factors.items()}

    # when
    forward, backward = attribute_gap(factors), attribute_gap(swapped)

    # then the gap is negated, and each contribution up to the rounding residual
    assert backward.gap == -forward.gap
    residual_bound = D("0.01") * (len(factors) + 3)
    for name in factors:
        assert abs(forward.contributions[name] + backward.contributions[name]) <= residual_bound


@settings(max_examples=200, deadline=None)
@given(
    kopecks=st.integers(min_value=-(10**12), max_value=10**12),
    shares=st.lists(
        st.fractions(min_value=0, max_value=1, max_denominator=10**6), min_size=1, max_size=40
    ),
)
def test_a_contribution_split_by_shares_adds_up_to_the_kopeck(kopecks, shares):
    amount = Decimal(kopecks).scaleb(-2)
    parts = split_by_shares(amount, list(enumerate(shares)))
    assert sum((part for _, part in parts), Decimal(0)) == amount
    if sum(shares) == 0:
        assert parts == [(None, amount)]
        return
    total = sum(shares)
    for (owner, part), share in zip(parts, shares, strict=True):
        assert owner is not None
        # each part is its exact share rounded to within one kopeck
        exact = Fraction(kopecks, 100) * share / total
        assert abs(Fraction(part) - exact) < Fraction(1, 100)


def test_a_split_gives_leftover_kopecks_to_the_largest_remainders():
    # 1.00 ₽ in three equal shares: 0.34 + 0.33 + 0.33, the first on a tie
    parts = split_by_shares(Decimal("1.00"), [("a", 1), ("b", 1), ("c", 1)])
    assert parts == [("a", Decimal("0.34")), ("b", Decimal("0.33")), ("c", Decimal("0.33"))]
    # a loss splits the same way, negated
    parts = split_by_shares(Decimal("-1.00"), [("a", 1), ("b", 1), ("c", 1)])
    assert [part for _, part in parts] == [Decimal("-0.34"), Decimal("-0.33"), Decimal("-0.33")]

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesplan.planning import equal_split, largest_remainder


def test_largest_remainder_example():
    # given 10 split 1 : 1 : 1
    # when / then the leftover unit goes to the earliest of equal remainders
    assert largest_remainder(10, [1, 1, 1]) == [4, 3, 3]


def test_largest_remainder_gives_leftovers_to_largest_remainders():
    # given quotas 3.5, 2.1, 1.4 → floors 3, 2, 1, one unit left
    # when / then it goes to the largest remainder (0.5)
    assert largest_remainder(7, [Decimal("0.5"), Decimal("0.3"), Decimal("0.2")]) == [4, 2, 1]


def test_zero_weight_gets_zero():
    assert largest_remainder(5, [0, 1, 0, 1]) == [0, 3, 0, 2]


def test_float_and_decimal_weights_are_exact():
    assert largest_remainder(3, [0.5, Decimal("0.25"), 1]) == [1, 0, 2]


def test_zero_total():
    assert largest_remainder(0, [0, 0]) == [0, 0]
    assert largest_remainder(0, []) == []


@pytest.mark.parametrize(
    ("total", "weights", "message"),
    [
        (-1, [1], "must not be negative"),
        (3, [1, -1], "must not be negative"),
        (3, [0, 0], "every weight is zero"),
        (3, [], "every weight is zero"),
        (3, [float("nan")], "finite"),
        (3, [Decimal("Infinity")], "finite"),
    ],
)
def test_invalid_splits_raise_a_clear_error(total, weights, message):
    with pytest.raises(ValueError, match=message):
        largest_remainder(total, weights)


def test_equal_split():
    assert equal_split(7, 3) == [3, 2, 2]
    assert equal_split(0, 0) == []
    with pytest.raises(ValueError):
        equal_split(1, 0)


weights_strategy = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=10_000),
        st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=40,
).filter(lambda weights: sum(weights) > 0)


@given(total=st.integers(min_value=0, max_value=10**9), weights=weights_strategy)
def test_largest_remainder_adds_up_exactly_and_is_non_negative(total, weights):
    # when
    parts = largest_remainder(total, weights)

    # then
    assert sum(parts) == total
    assert all(part >= 0 for part in parts)
    assert all(part == 0 for part, weight in zip(parts, weights, strict=True) if weight == 0)
    # every part is its exact quota rounded down or up
    weight_sum = sum(Decimal(w) for w in weights)
    for part, weight in zip(parts, weights, strict=True):
        quota = Decimal(total) * Decimal(weight) / weight_sum
        assert quota - 1 < part < quota + 1


@given(total=st.integers(min_value=0, max_value=10**6), count=st.integers(1, 31))
def test_equal_split_adds_up(total, count):
    parts = equal_split(total, count)
    assert sum(parts) == total and len(parts) == count
    assert max(parts) - min(parts) <= 1


def test_largest_remainder_is_not_house_monotone():
    # given the method DOMAIN 3 prescribes (Hamilton's), a known limitation, pinned here so
    # nobody relies on the opposite: a larger total can give one part less (Alabama paradox)
    weights = [Decimal("0.43"), Decimal("0.42"), Decimal("0.15")]

    # when
    before, after = largest_remainder(96, weights), largest_remainder(97, weights)

    # then the third part drops although the total grew; totals and stages never do
    assert before == [41, 40, 15]
    assert after == [42, 41, 14]

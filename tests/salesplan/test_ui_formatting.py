"""Figures as people read them (issue 12, "Defects a new user found"): Russian groups digits
and glues units with a no-break space and writes a decimal comma; English keeps `₽1,000,000`
and `2.8`; the plan's findings print formatted money and rates, never `10656000`."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from salesplan.formatting import NBSP, format_decimal, format_money, format_number, no_break
from salesplan.planning import Finding
from salesplan.plans.presentation import finding_text, findings_view

REVENUE_BEST = Finding(
    "revenue_above_history_best",
    "error",
    "Revenue of {planned} a month needed in {month}, more than the best month on record ({best}).",
    {"month": "2026-11", "planned": 10656000, "best": 9381915, "median": 8000000},
)
CALLS = Finding(
    "calls_near_capacity",
    "warning",
    "{person} would need {load} calls per working day in {month}, close to the norm of {limit}.",
    {"person": "Анна 2", "load": "2.8", "month": "2026-12", "limit": 3},
)


@pytest.mark.parametrize(
    ("value", "language", "places", "expected"),
    [
        (Decimal("10656000"), "ru", 0, f"10{NBSP}656{NBSP}000"),
        (Decimal("10656000"), "en", 0, "10,656,000"),
        (Decimal("2.8"), "ru", 1, "2,8"),
        (Decimal("2.8"), "en", 1, "2.8"),
        (Decimal("-1234.5"), "ru", 2, f"-1{NBSP}234,50"),
        (999, "ru", 0, "999"),
    ],
)
def test_numbers_are_grouped_with_a_no_break_space_in_russian(value, language, places, expected):
    assert format_number(value, language, places) == expected


def test_money_never_breaks_between_its_figures_and_the_sign():
    # given 10 656 000 ₽ (the figure a new user saw broken as "10 656 / 000 ₽")
    # then the Russian text has no breakable space at all; English is unchanged
    russian = format_money(Decimal("10656000"), "RUB", "ru")
    assert russian == f"10{NBSP}656{NBSP}000{NBSP}₽"
    assert " " not in russian
    assert format_money(Decimal("10656000"), "RUB", "en") == "₽10,656,000"


def test_a_rate_drops_its_trailing_zeros():
    assert format_decimal(Decimal("2.80"), "ru", 2) == "2,8"
    assert format_decimal(Decimal("3.00"), "ru", 2) == "3"
    assert format_decimal(Decimal("1234.5"), "en", 1) == "1,234.5"


def test_the_filters_follow_the_language_and_survive_bad_values():
    template = Template(
        "{% load salesplan_tags %}"
        "{{ m|money:'RUB' }}|{{ n|number:1 }}|{{ p|percent }}|{{ bad|number }}"
    )
    context = Context({"m": Decimal("1000000"), "n": Decimal("2.84"), "p": "0.25", "bad": "n/a"})
    with translation.override("ru"):
        assert template.render(context) == (f"1{NBSP}000{NBSP}000{NBSP}₽|2,8|25,0{NBSP}%|n/a")
    with translation.override("en"):
        assert template.render(context) == "₽1,000,000|2.8|25.0%|n/a"


def test_no_break_glues_units_and_groups_in_a_translated_sentence():
    assert no_break("планируется 40 %, обычно 12 000 ₽") == (
        f"планируется 40{NBSP}%, обычно 12{NBSP}000{NBSP}₽"
    )
    # a year and a count are not one number: only a group of exactly three digits is glued
    assert no_break("в 2026 1234 лида") == "в 2026 1234 лида"


def test_a_revenue_finding_prints_money_not_raw_digits():
    # when the finding "more than the best month on record" is shown in Russian and English
    with translation.override("ru"):
        russian = finding_text(REVENUE_BEST)
    with translation.override("en"):
        english = finding_text(REVENUE_BEST, currency="USD")
    # then the figures are money in each language's format, never "10656000" or "(9381915)"
    assert f"10{NBSP}656{NBSP}000{NBSP}₽" in russian
    assert f"(9{NBSP}381{NBSP}915{NBSP}₽)" in russian
    assert "10656000" not in russian and "9381915" not in russian
    assert "$10,656,000" in english and "($9,381,915)" in english
    assert "November 2026" in english


def test_a_capacity_finding_prints_a_decimal_comma_in_russian():
    with translation.override("ru"):
        [item] = findings_view([CALLS])
    with translation.override("en"):
        english = finding_text(CALLS)
    assert "2,8" in item["text"] and "2.8" not in item["text"]
    assert item["css"] == "warn"
    assert "Анна 2" in item["text"]  # a name is never reformatted
    assert "2.8 calls" in english and "norm of 3." in english


@pytest.mark.django_db
def test_a_count_in_a_plural_sentence_is_grouped_too(client_for, make_member, organization):
    # given a plan of 100 000 000 ₽ at 50 000 ₽ a deal: 2 000 deals
    from tests.factories import FunnelFactory, PlanFactory

    PlanFactory(
        organization=organization,
        funnel=FunnelFactory(organization=organization),
        revenue_target=Decimal("100000000"),
    )
    page = client_for(make_member("owner"))
    # when the plans' list is read in Russian and in English
    russian = page.get("/plans/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    english = page.get("/plans/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # then the count is grouped the reader's way, inside its plural sentence
    assert f"2{NBSP}000 сделок" in russian
    assert "2,000 deals" in english

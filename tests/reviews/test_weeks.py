"""The organization's local ISO weeks: parsing, bounds, and the week of a moment."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from salesplan.models import Organization
from salesplan.reviews.weeks import Week, parse_week, week_at

MOSCOW = Organization(name="M", time_zone="Europe/Moscow")
VLADIVOSTOK = Organization(name="V", time_zone="Asia/Vladivostok")


def test_a_week_runs_monday_to_sunday_and_reads_back():
    week = parse_week("2026-W49")
    assert (week.start, week.end) == (date(2026, 11, 30), date(2026, 12, 6))
    assert week.label == "2026-W49"
    assert week.previous().label == "2026-W48"
    assert week.next().start == date(2026, 12, 7)
    # the first ISO week of 2027 starts in 2026's December
    assert parse_week("2027-W01").start == date(2027, 1, 4)
    assert Week(date(2026, 12, 28)).label == "2026-W53"


def test_sunday_2330_in_moscow_is_still_that_week():
    # given Sunday 6 December 23:30 in Moscow (20:30 UTC) and Monday 00:30 (Sunday 21:30 UTC)
    sunday_night = datetime(2026, 12, 6, 20, 30, tzinfo=UTC)
    monday_morning = datetime(2026, 12, 6, 21, 30, tzinfo=UTC)
    # then the first is week 49, the second week 50, though UTC says Sunday for both
    assert week_at(sunday_night, MOSCOW).label == "2026-W49"
    assert week_at(monday_morning, MOSCOW).label == "2026-W50"
    # and in Vladivostok (UTC+10) Sunday 20:30 UTC is already Monday
    assert week_at(sunday_night, VLADIVOSTOK).label == "2026-W50"


def test_bounds_are_local_midnights():
    start, end = parse_week("2026-W49").bounds(ZoneInfo("Europe/Moscow"))
    assert start.astimezone(UTC) == datetime(2026, 11, 29, 21, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 12, 6, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2026-49", "YYYY-Www"),
        ("", "YYYY-Www"),
        ("2026-W7", "YYYY-Www"),
        ("2026-W54", "no week 54"),
        ("2025-W53", "no week 53"),  # 2025 has 52 weeks
        ("1800-W01", "between 1900 and 2100"),
    ],
)
def test_a_bad_week_names_the_field(value, words):
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        parse_week(value)
    assert list(raised.value.message_dict) == ["week"]
    assert words in raised.value.message_dict["week"][0]


def test_the_field_name_is_the_callers():
    with pytest.raises(ValidationError) as raised:
        parse_week("soon", field="until")
    assert list(raised.value.message_dict) == ["until"]

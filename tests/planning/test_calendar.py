from datetime import date

import holidays

from salesplan.planning import WorkingCalendar

RUSSIA = WorkingCalendar()


def test_31_december_2026_is_a_transferred_day_off():
    # given the Russian production calendar (the day off moved from Sunday 4 January)
    # when / then Thursday 31 December 2026 is not a working day
    assert date(2026, 12, 31).weekday() == 3
    assert not RUSSIA.is_working_day(date(2026, 12, 31))
    assert RUSSIA.is_working_day(date(2026, 12, 30))


def test_december_2026_has_22_working_days():
    # given December 2026: 23 weekdays, one of them (the 31st) a day off
    # when
    days = RUSSIA.working_days(date(2026, 12, 1), date(2026, 12, 31))

    # then 22, the same as the holidays package's own count
    assert len(days) == 22
    russia = holidays.country_holidays("RU", years=2026)
    assert russia.get_working_days_count(date(2026, 12, 1), date(2026, 12, 31)) == 22


def test_2026_has_247_working_days_and_new_year_holidays_are_off():
    # when
    days = RUSSIA.working_days(date(2026, 1, 1), date(2026, 12, 31))

    # then the year matches the official production calendar; 1–11 January are off
    assert len(days) == 247
    assert days[0] == date(2026, 1, 12)


def test_transferred_working_saturday_is_a_working_day():
    # given Saturday 2 November 2024, worked instead of 30 December 2024
    # when / then
    assert RUSSIA.is_working_day(date(2024, 11, 2))
    assert not RUSSIA.is_working_day(date(2024, 12, 30))
    assert not RUSSIA.is_working_day(date(2024, 11, 9))


def test_organization_extra_day_off_and_extra_working_day():
    # given an organization that rests on Monday 7 December and works Saturday 12 December
    calendar = WorkingCalendar(
        extra_working_days=frozenset({date(2026, 12, 12)}),
        extra_days_off=frozenset({date(2026, 12, 7)}),
    )

    # when
    days = calendar.working_days(date(2026, 12, 1), date(2026, 12, 31))

    # then
    assert not calendar.is_working_day(date(2026, 12, 7))
    assert calendar.is_working_day(date(2026, 12, 12))
    assert len(days) == 22
    assert date(2026, 12, 12) in days and date(2026, 12, 7) not in days


def test_organization_can_work_on_a_public_holiday():
    # given an organization that works on 31 December 2026
    calendar = WorkingCalendar(extra_working_days=frozenset({date(2026, 12, 31)}))

    # when / then
    assert calendar.is_working_day(date(2026, 12, 31))


def test_working_days_across_the_new_year():
    # given the last week of 2026 and the first fortnight of 2027
    # when
    days = RUSSIA.working_days(date(2026, 12, 28), date(2027, 1, 15))

    # then 28–30 December and 11–15 January (1–8 January are the New Year holidays)
    assert days[:3] == [date(2026, 12, 28), date(2026, 12, 29), date(2026, 12, 30)]
    assert date(2027, 1, 1) not in days
    assert date(2027, 1, 15) in days


def test_empty_range():
    assert RUSSIA.working_days(date(2026, 12, 2), date(2026, 12, 1)) == []

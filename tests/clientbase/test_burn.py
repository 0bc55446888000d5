"""The client base's pure maths (salesplan/clientbase/burn.py), no database: the company key,
permanent reasons, cooling-off windows across month ends and time zones, refusal rates and
the runway, each worked by hand."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesplan.clientbase import burn

MOSCOW = ZoneInfo("Europe/Moscow")
VLADIVOSTOK = ZoneInfo("Asia/Vladivostok")
PERMANENT = burn.DEFAULT_PERMANENT_REASONS


@pytest.mark.parametrize(
    "written",
    [
        'ООО "Ромашка"',
        "ООО «Ромашка»",
        "Ромашка, ООО",
        "  ромашка  ",
        "Общество с ограниченной ответственностью «Ромашка»",
        "РОМАШКА ооо",
        "„Ромашка“ АО",
    ],
)
def test_one_company_however_it_is_written(written):
    # given the same company written seven ways; then one key
    assert burn.company_key(written) == "ромашка"


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("Acme LLC", "acme"),
        ("ACME, Ltd.", "acme"),
        ("Acme Inc.", "acme"),
        ("ИП Иванов  Иван", "иванов иван"),
        ("Ёлка ЗАО", "елка"),
        ("Рога и   копыта", "рога и копыта"),
        ("Аокс", "аокс"),  # a legal form inside a word is the word's
        ("ООО", "ооо"),  # only a legal form: kept, not emptied
        ("", ""),
        ('"  "', ""),
    ],
)
def test_company_key(written, key):
    assert burn.company_key(written) == key


def test_different_companies_stay_apart():
    assert burn.company_key("ООО Ромашка") != burn.company_key("ООО Ромашка-2")
    assert burn.lead_key(7) != burn.lead_key(8)


@given(st.text(max_size=60))
def test_the_key_is_stable(text):
    # normalizing twice changes nothing (a key of a key is the key), and there is no edge space
    key = burn.company_key(text)
    assert burn.company_key(key) == key
    assert key == key.strip()


@pytest.mark.parametrize(
    ("reason", "permanent"),
    [
        ("ЛПР умер", True),
        ("  лпр УМЕР ", True),
        ("Бизнес   закрылся", True),
        ("бизнес закрылся.", False),  # a different text: not guessed
        ("Дорого", False),
        ("", False),
    ],
)
def test_permanent_reasons(reason, permanent):
    assert burn.is_permanent(reason, PERMANENT) is permanent


def test_a_refusal_at_2330_moscow_on_31_january_is_a_january_refusal():
    # given a refusal at 23:30 Moscow on 31 January (20:30 UTC)
    moment = datetime(2027, 1, 31, 20, 30, tzinfo=UTC)
    # then its local day is 31 January and its month January
    assert burn.local_day(moment, MOSCOW) == date(2027, 1, 31)
    assert burn.month_of(burn.local_day(moment, MOSCOW)) == date(2027, 1, 1)
    # while in Vladivostok (UTC+10) the same moment is already 1 February
    assert burn.local_day(moment, VLADIVOSTOK) == date(2027, 2, 1)


@pytest.mark.parametrize(
    ("refused_on", "days", "again"),
    [
        # 31 Jan + 90 days: Feb 28 (28), Mar 31 (+31 = 59), Apr 30 (+30 = 89), May 1 (90)
        (date(2027, 1, 31), 90, date(2027, 5, 1)),
        # across February, 2027 (28 days): 31 Jan + 30 = 2 March
        (date(2027, 1, 31), 30, date(2027, 3, 2)),
        # and in a leap year (2028, 29 days): 31 Jan + 30 = 1 March
        (date(2028, 1, 31), 30, date(2028, 3, 1)),
        # month end to month end: 30 Nov + 31 = 31 Dec; across the year: 15 Dec + 20 = 4 Jan
        (date(2026, 11, 30), 31, date(2026, 12, 31)),
        (date(2026, 12, 15), 20, date(2027, 1, 4)),
    ],
)
def test_contact_again_on(refused_on, days, again):
    assert burn.contact_again_on(refused_on, days) == again


def test_cooling_until_the_day_before_contact_again():
    # given a refusal on 31 January with 30 days: contact again on 2 March 2027
    kwargs = {"reason": "Дорого", "refused_on": date(2027, 1, 31), "cooling_days": 30}
    state = lambda today: burn.company_state(today=today, permanent=PERMANENT, **kwargs)  # noqa: E731
    # then it cools on the refusal day, over the end of February, up to 1 March
    assert state(date(2027, 1, 31)) == burn.State.COOLING
    assert state(date(2027, 2, 28)) == burn.State.COOLING
    assert state(date(2027, 3, 1)) == burn.State.COOLING
    # and is available from 2 March
    assert state(date(2027, 3, 2)) == burn.State.AVAILABLE


def test_permanent_closes_for_good_and_never_refused_is_available():
    closed = burn.company_state(
        reason="ЛПР умер",
        refused_on=date(2020, 1, 1),
        cooling_days=1,
        today=date(2027, 1, 1),
        permanent=PERMANENT,
    )
    assert closed == burn.State.CLOSED
    never = burn.company_state(
        reason="", refused_on=None, cooling_days=90, today=date(2027, 1, 1), permanent=PERMANENT
    )
    assert never == burn.State.AVAILABLE


def test_refusal_rate_by_hand():
    assert burn.refusal_rate(lost=3, won=1) == Decimal("0.7500")
    assert burn.refusal_rate(lost=1, won=2) == Decimal("0.3333")
    assert burn.refusal_rate(lost=0, won=5) == Decimal("0")
    assert burn.refusal_rate(lost=0, won=0) is None


def test_months_back_across_the_year():
    assert burn.months_back(date(2027, 2, 1), 2) == date(2026, 12, 1)
    assert burn.months_back(date(2027, 1, 1), 0) == date(2027, 1, 1)
    assert burn.months_back(date(2027, 1, 1), 13) == date(2025, 12, 1)


def test_runway_with_a_plan_by_hand():
    # given 30 lost and 10 won in 3 months (75 %) and a plan of 20 deals a month: each won
    # deal costs 30 ÷ 10 = 3 refused companies, so the plan burns 20 × 3 = 60 a month
    runway = burn.base_runway(available=1000, lost=30, won=10, plan_deals=20)
    # then 1000 ÷ 60 = 16.66… → 16.6 months (rounded down: never promise more base)
    assert runway == burn.BaseRunway(burn.Runway.RUNS_OUT, Decimal("60.0"), Decimal("16.6"))


def test_runway_without_a_plan_is_the_refusals_own_pace():
    # 7 lost in 3 months: 2.33… a month → 2.3; 100 ÷ (7/3) = 42.857… → 42.8
    runway = burn.base_runway(available=100, lost=7, won=3, plan_deals=None)
    assert runway == burn.BaseRunway(burn.Runway.RUNS_OUT, Decimal("2.3"), Decimal("42.8"))


def test_runway_zero_rates():
    # no refusals: the base does not run out
    assert burn.base_runway(available=10, lost=0, won=4, plan_deals=20).status == burn.Runway.NEVER
    # nothing closed: no pace at all
    assert burn.base_runway(available=10, lost=0, won=0, plan_deals=20) == burn.BaseRunway(
        burn.Runway.NO_DATA, None, None
    )
    # a plan with no deals this month burns nothing
    assert burn.base_runway(available=10, lost=5, won=5, plan_deals=0).status == burn.Runway.NEVER
    # refusals and no wins while the plan needs deals: it cannot be won at this rate
    assert burn.base_runway(available=10, lost=5, won=0, plan_deals=3) == burn.BaseRunway(
        burn.Runway.NO_WINS, None, Decimal(0)
    )
    # an empty base at a burning pace: 0 months
    assert burn.base_runway(available=0, lost=1, won=1, plan_deals=1).months == Decimal("0.0")


def test_no_company_name_is_a_lead_key():
    # a company named like a lead's key is still a company of its own
    assert burn.company_key(burn.lead_key(5)) != burn.lead_key(5)

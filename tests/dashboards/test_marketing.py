"""The marketer's page and the summary it reads (salesplan/dashboards/marketing*.py).

The data set, by hand (Moscow time, UTC+3; the December plan of DOMAIN section 1: 420 leads,
252 target leads, a 210 000 ₽ budget):

week 1 (1–6 December)
  Яндекс: a target lead on the 2nd (a connected call), a target lead on the 3rd, a non-target
          one («Спам») on the 5th (a missed call); spend 1 000,50 ₽ on the 2nd
  Сайт:   a target lead at 00:30 on the 1st (30 November in UTC), a non-target one («Не тот
          регион») at 23:30 on the 6th; spend 300 ₽ on the 1st
week 2 (7–13 December)
  Яндекс: a target lead at 00:10 on the 7th (the 6th in UTC), a lead not qualified yet on
          the 8th; spend 2 000 ₽ on the 8th
  Сайт:   a non-target lead («Спам») on the 9th (a missed call); spend 700,25 ₽ on the 13th
  no channel: a missed call of no lead on the 10th
outside: a lead at 23:30 on 30 November and 999 ₽ of spend that day; another organization's
lead, spend and call in the same week.

Recomputed on 10 December (the spend of the 13th not reached yet), the totals: 8 leads, 4
target (50 %), 3 non-target, 1 not qualified; spend 3 300,50 ₽; 4 calls, 3 missed. Cost per
lead 3 300,50 / 8 = 412,56 ₽ (412,5625); per target lead 825,13 ₽ (825,125, half up). Owed if
paid for target leads only: 210 000 / 252 × 4 = 3 333,33 ₽; split by target leads 3 : 1
between Яндекс and Сайт: 2 500,00 ₽ and 833,33 ₽ (the leftover kopeck to the larger
remainder); the target leads earn 32,83 ₽ more than was spent.
"""

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import plotly.graph_objects as go
import pytest
from django.test import TestCase
from openpyxl import load_workbook

from funnel.models import Call, Lead, Spend
from salesplan.dashboards.marketing_data import (
    MAX_REASONS,
    marketing_summary_refresh,
    plan_rows,
)
from salesplan.dashboards.models import MarketingDay
from salesplan.models import Role
from salesplan.plans.performance import plan_performance_refresh
from salesplan.plans.selectors import decompose_plan
from tests.factories import FunnelFactory, LeadFactory, OrganizationFactory, PlanFactory

pytestmark = pytest.mark.django_db

MSK = timedelta(hours=3)
TODAY = date(2026, 12, 10)
WEEK_1, WEEK_2 = date(2026, 12, 1), date(2026, 12, 7)
YANDEX, SITE = "Яндекс", "Сайт"


def recompute(**kwargs):
    """The plan vs fact recompute and, once it commits, the marketing summary job it queues
    (run inline here, as the tests run every job)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return plan_performance_refresh(**kwargs)


def moscow(day: int, hour: int = 12, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - MSK


def make_lead(funnel, when: datetime, channel: str, target: bool | None, reason: str = ""):
    return LeadFactory(
        funnel=funnel,
        organization=funnel.organization,
        created_at=when,
        channel=channel,
        is_target=target,
        non_target_reason=reason,
    )


def make_call(organization, lead, when: datetime, connected: bool, n: list[int] = [0]):  # noqa: B006
    n[0] += 1
    return Call.objects.create(
        organization=organization,
        source="api",
        external_id=f"C{n[0]}",
        lead=lead,
        at=when,
        connected=connected,
    )


def spend(organization, day: date, channel: str, amount: str) -> None:
    Spend.objects.create(organization=organization, date=day, channel=channel, amount=amount)


@pytest.fixture
def plan(organization, funnel):
    return PlanFactory(organization=organization, funnel=funnel)


@pytest.fixture
def actuals(organization, funnel):
    """The data set of the module's docstring."""
    first = make_lead(funnel, moscow(2), YANDEX, True)
    make_lead(funnel, moscow(3), YANDEX, True)
    spam = make_lead(funnel, moscow(5), YANDEX, False, "Спам")
    make_lead(funnel, moscow(1, 0, 30), SITE, True)
    make_lead(funnel, moscow(6, 23, 30), SITE, False, "Не тот регион")
    make_lead(funnel, moscow(7, 0, 10), YANDEX, True)
    make_lead(funnel, moscow(8), YANDEX, None)
    late = make_lead(funnel, moscow(9), SITE, False, "Спам")
    make_lead(funnel, moscow(30, 23, 30, month=11), SITE, True)
    make_call(organization, first, moscow(2, 13), True)
    make_call(organization, spam, moscow(5, 13), False)
    make_call(organization, late, moscow(9, 13), False)
    make_call(organization, None, moscow(10, 9), False)
    spend(organization, date(2026, 12, 2), YANDEX, "1000.50")
    spend(organization, date(2026, 12, 1), SITE, "300")
    spend(organization, date(2026, 12, 8), YANDEX, "2000")
    spend(organization, date(2026, 12, 13), SITE, "700.25")
    spend(organization, date(2026, 11, 30), SITE, "999")
    # Another organization's actuals in the same days: never counted here.
    other = OrganizationFactory(name="Other")
    other_funnel = FunnelFactory(organization=other, name="B2B")
    stranger = make_lead(other_funnel, moscow(2), YANDEX, True)
    make_call(other, stranger, moscow(2, 14), False)
    spend(other, date(2026, 12, 2), YANDEX, "5000")


def stored(plan, *, quiet: bool = False) -> dict[tuple[date, str], tuple]:
    """The plan's rows by (day, channel); the quiet days' zero rows left out unless asked."""
    return {
        (row.day, row.channel): (
            row.leads,
            row.target_leads,
            row.non_target_leads,
            row.spend,
            row.calls,
            row.missed_calls,
            row.reasons,
        )
        for row in plan_rows(plan)
        if quiet or row.channel or row.calls
    }


def dec(day: int) -> date:
    return date(2026, 12, day)


ZERO = Decimal(0)
EXPECTED = {
    (dec(1), SITE): (1, 1, 0, Decimal("300"), 0, 0, {}),
    (dec(2), YANDEX): (1, 1, 0, Decimal("1000.50"), 1, 0, {}),
    (dec(3), YANDEX): (1, 1, 0, ZERO, 0, 0, {}),
    (dec(5), YANDEX): (1, 0, 1, ZERO, 1, 1, {"Спам": 1}),
    (dec(6), SITE): (1, 0, 1, ZERO, 0, 0, {"Не тот регион": 1}),
    (dec(7), YANDEX): (1, 1, 0, ZERO, 0, 0, {}),
    (dec(8), YANDEX): (1, 0, 0, Decimal("2000"), 0, 0, {}),
    (dec(9), SITE): (1, 0, 1, ZERO, 1, 1, {"Спам": 1}),
    (dec(10), ""): (0, 0, 0, ZERO, 1, 1, {}),
    # Spend of the 13th is counted once the recompute reaches it: through the 10th, none yet.
}


def test_the_recompute_stores_the_summary_per_day_and_channel(plan, actuals):
    # Given the data set; when the plan vs fact is recomputed on 10 December
    recompute(plan_id=plan.pk, today=TODAY)

    # Then each day and channel holds the hand-counted figures (local days, this organization
    # only, nothing before the period), and every day from the 1st to the 10th has a row
    assert stored(plan) == EXPECTED
    assert sorted({row.day for row in plan_rows(plan)}) == [dec(n) for n in range(1, 11)]


def test_the_summary_is_a_job_of_its_own_queued_after_the_recompute_commits(plan, actuals):
    # Given a recompute whose transaction has not committed yet
    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        plan_performance_refresh(plan_id=plan.pk, today=TODAY)
        # Then it stored no marketing rows itself
        assert not plan_rows(plan).exists()
    # When it commits: the marketing job queued for its days runs
    assert len(queued) >= 1
    for callback in queued:
        callback()
    # Then the days it recomputed are summarised
    assert stored(plan) == EXPECTED


def test_a_later_recompute_replaces_only_its_days(plan, actuals, funnel):
    # Given a stored summary through the 10th
    recompute(plan_id=plan.pk, today=TODAY)
    before = {(row.day, row.channel): row.computed_at for row in plan_rows(plan)}
    # and two leads written behind the recompute's back (no mark on the plan)
    make_lead(funnel, moscow(4), YANDEX, True)
    make_lead(funnel, moscow(10, 15), YANDEX, True)

    # When the next (incremental) recompute runs the same day: it starts at the 10th
    recompute(plan_id=plan.pk, today=TODAY)

    # Then the 10th is replaced (its new lead counted), the days before are as they were
    rows = stored(plan)
    assert rows[(dec(10), YANDEX)][:2] == (1, 1)
    assert (dec(4), YANDEX) not in rows
    after = {(row.day, row.channel): row.computed_at for row in plan_rows(plan)}
    assert {key: at for key, at in after.items() if key[0] < TODAY} == {
        key: at for key, at in before.items() if key[0] < TODAY
    }
    assert after[(TODAY, "")] > before[(TODAY, "")]


def test_a_range_is_replaced_and_days_after_the_last_are_dropped(plan, actuals):
    # Given a summary through the 13th (spend of the 13th counted)
    marketing_summary_refresh(plan=plan, since=plan.period_start, last=dec(13))
    assert stored(plan)[(dec(13), SITE)][3] == Decimal("700.25")

    # When the range from the 8th to the 10th is refreshed
    written = marketing_summary_refresh(plan=plan, since=dec(8), last=TODAY)

    # Then those days are recomputed and the days after the 10th dropped
    assert written == 5  # a row a day (the call of no lead in the 10th's), Яндекс, Сайт
    assert stored(plan) == EXPECTED


def test_many_non_target_reasons_keep_the_most_frequent(plan, funnel):
    # Given more distinct reasons in a day than a row keeps, the last of them three times
    for n in range(MAX_REASONS + 5):
        make_lead(funnel, moscow(2), YANDEX, False, f"reason {n:02d}")
    make_lead(funnel, moscow(2, 15), YANDEX, False, "reason 24")
    make_lead(funnel, moscow(2, 16), YANDEX, False, "reason 24")

    # When the summary is refreshed
    marketing_summary_refresh(plan=plan, since=plan.period_start, last=TODAY)

    # Then the row keeps MAX_REASONS of them: the most frequent, then the first by text; the
    # leads are all counted (the rest are "other reasons" on the page)
    row = plan_rows(plan).get(day=dec(2), channel=YANDEX)
    assert row.reasons == {"reason 24": 3} | {f"reason {n:02d}": 1 for n in range(MAX_REASONS - 1)}
    assert row.non_target_leads == MAX_REASONS + 7


# --- the page ---------------------------------------------------------------------------------


@pytest.fixture
def marketer(make_member):
    return make_member(Role.MARKETER)


@pytest.fixture
def computed(plan, actuals):
    recompute(plan_id=plan.pk, today=TODAY)
    return plan


def page(client, **params):
    params = {"month": "2026-12", "period": "month", **params}
    return client.get("/marketing/", params)


def test_the_page_shows_the_hand_computed_figures(client_for, marketer, computed):
    # Given the computed summary; when the marketer opens December
    response = page(client_for(marketer))

    # Then the totals are the hand-computed ones
    assert response.status_code == 200
    figures = response.context["figures"]
    totals = figures.totals
    assert (totals["leads"], totals["target_leads"], totals["non_target_leads"]) == (8, 4, 3)
    assert totals["not_qualified"] == 1
    assert totals["spend"] == Decimal("3300.50")
    assert totals["target_share"] == Decimal("0.5")
    assert totals["cost_per_lead"] == Decimal("412.56")
    assert totals["cost_per_target_lead"] == Decimal("825.13")
    assert (totals["calls"], totals["missed_calls"]) == (4, 3)
    assert totals["owed"] == Decimal("3333.33")
    assert totals["underpaid"] == Decimal("32.83")
    # the plan's side: 420 leads, 252 target leads, 210 000 ₽ (DOMAIN section 1)
    planned = figures.plan
    assert (planned.leads, planned.target_leads, planned.budget) == (420, 252, Decimal("210000"))
    assert planned.cost_per_lead == Decimal("500")
    assert planned.cost_per_target_lead == Decimal("833.33")
    assert planned.target_share == Decimal("0.6")
    # and the figures are on the page
    html = response.content.decode()
    assert 'data-kpi="leads">8<' in html
    text = html.replace("\xa0", " ").replace("\u202f", " ")
    assert 'data-kpi="owed">3 333,33 ₽<' in text
    assert 'data-kpi="overpaid">32,83 ₽<' in text
    assert 'data-kpi="spend">3 300,5 ₽<' in text or 'data-kpi="spend">3 300,50 ₽<' in text


def test_by_channel_and_by_week(client_for, marketer, computed):
    # When the marketer opens December
    figures = page(client_for(marketer)).context["figures"]

    # Then by channel (most leads first; the call of no lead under "no channel")
    channels = {row["channel"]: row for row in figures.channels}
    assert list(channels) == [YANDEX, SITE, ""]
    yandex, site = channels[YANDEX], channels[SITE]
    assert (yandex["leads"], yandex["target_leads"], yandex["spend"]) == (5, 3, Decimal("3000.50"))
    assert yandex["cost_per_lead"] == Decimal("600.10")
    assert yandex["cost_per_target_lead"] == Decimal("1000.17")
    assert (yandex["owed"], site["owed"], channels[""]["owed"]) == (
        Decimal("2500.00"),
        Decimal("833.33"),
        Decimal("0"),
    )
    assert (site["missed_calls"], channels[""]["missed_calls"]) == (1, 1)
    # by week: the plan's weeks from the decomposition, the budget following the leads at
    # 500 ₽ a lead
    decomposition = decompose_plan(computed).decomposition
    weeks = figures.weeks
    assert [row["week"] for row in weeks] == [week.start for week in decomposition.by_week]
    assert [row["planned_leads"] for row in weeks] == [
        week.stages["Lead"] for week in decomposition.by_week
    ]
    assert [row["budget"] for row in weeks] == [
        week.stages["Lead"] * Decimal(500) for week in decomposition.by_week
    ]
    assert [(row["leads"], row["target_leads"]) for row in weeks[:3]] == [(5, 3), (3, 1), (0, 0)]
    assert weeks[0]["owed"] + weeks[1]["owed"] == Decimal("3333.33")
    assert weeks[1]["cumulative_spend"] == Decimal("3300.50")
    # the plan to date: the working days of 1–10 December
    through = [day for day in decomposition.by_day if day.date <= TODAY]
    assert figures.plan.leads_to_date == sum(day.stages["Lead"] for day in through)
    # reasons: «Спам» twice, «Не тот регион» once
    assert [(row["reason"], row["leads"]) for row in figures.reasons] == [
        ("Спам", 2),
        ("Не тот регион", 1),
    ]


def test_export_of_a_table(client_for, marketer, computed):
    client = client_for(marketer)
    # When the channel table is asked as CSV and as XLSX
    response = page(client, export="csv", table="channels")

    # Then the file holds the rows with their values
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][:3] == [YANDEX, "5", "3"]
    assert rows[1][5] == "3000.50"
    workbook = load_workbook(io.BytesIO(page(client, export="xlsx", table="weeks").content))
    sheet = workbook.active
    assert sheet.cell(row=2, column=1).value.date() == WEEK_1
    assert sheet.cell(row=2, column=4).value == 5


@pytest.mark.parametrize(
    ("params", "note"),
    [
        ({"period": "fortnight"}, "There is no period"),
        ({"month": "2026-13"}, "is not a month"),
        ({"month": "12/2026"}, "is not a month"),
        ({"month": "99999-01"}, "is not a month"),
        ({"plan": "abc"}, "There is no plan"),
        ({"plan": "99999999999999999999999"}, "There is no plan"),
        ({"plan": "-1"}, "There is no plan"),
    ],
)
def test_bad_parameters_fall_back_with_a_note(client_for, marketer, params, note):
    # Given the marketer, on an English page
    client = client_for(marketer)

    # When a parameter cannot be used
    response = client.get("/marketing/", params, HTTP_ACCEPT_LANGUAGE="en")

    # Then the page still renders, saying what it did instead
    assert response.status_code == 200
    assert note in " ".join(response.context["notes"])


def test_another_organizations_plan_is_not_shown(client_for, marketer, computed):
    # Given a plan of another organization
    other_plan = PlanFactory(organization=OrganizationFactory(name="Other"))

    # When the marketer asks for it
    response = client_for(marketer).get(
        "/marketing/", {"plan": other_plan.pk, "month": "2026-12"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    # Then their own default plan is shown, with a note
    assert response.status_code == 200
    assert response.context["plan"] == computed
    assert response.context["notes"]


def test_the_period_picks_the_plan_and_no_plan_is_said(client_for, marketer, computed):
    client = client_for(marketer)
    # When a month no plan covers is asked
    response = page(client, month="2026-10")

    # Then the page says so
    assert response.status_code == 200
    assert response.context["plan"] is None
    assert 'id="marketing-empty"' in response.content.decode()
    # and December opens the December plan
    assert page(client).context["plan"] == computed


def test_before_the_first_recompute_the_page_says_so(client_for, marketer, plan):
    response = page(client_for(marketer))
    assert response.status_code == 200
    assert 'id="marketing-not-computed"' in response.content.decode()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.MARKETER, 200),
        (Role.OWNER, 200),
        (Role.HEAD_OF_SALES, 200),
        (Role.VIEWER, 403),
        (Role.SALESPERSON, 403),
    ],
)
def test_who_sees_the_page(client_for, make_member, computed, role, status):
    response = page(client_for(make_member(role)))
    assert response.status_code == status


def test_a_stranger_is_sent_to_sign_in(client):
    response = client.get("/marketing/")
    assert response.status_code == 302


def test_the_query_count_does_not_grow_with_the_data(
    client_for, marketer, computed, funnel, organization, django_assert_max_num_queries
):
    client = client_for(marketer)
    # Given the page's queries on the small data set
    with django_assert_max_num_queries(30) as captured:
        page(client)
    small = len(captured.captured_queries)
    # and then many more leads, channels, reasons and spend, recomputed
    for n in range(60):
        make_lead(funnel, moscow(1 + n % 9), f"channel {n % 12}", n % 2 == 0, f"reason {n % 7}")
        spend(organization, date(2026, 12, 1) + timedelta(days=n % 9), f"channel {n}", "10")
    recompute(plan_id=computed.pk, today=TODAY, full=True)

    # When the page is opened again: then it asks no more queries
    with django_assert_max_num_queries(small):
        response = page(client)
    assert response.context["figures"].totals["leads"] == 68
    assert Lead.objects.count() > 60
    assert MarketingDay.objects.filter(plan=computed).count() > 20


def test_a_plan_without_a_budget_says_so(client_for, marketer, organization, funnel, actuals):
    # Given a plan with no cost per lead (so no marketing budget), recomputed
    plan = PlanFactory(organization=organization, funnel=funnel, cost_per_lead=None)
    recompute(plan_id=plan.pk, today=TODAY)

    # When the marketer opens it
    response = page(client_for(marketer), plan=plan.pk)

    # Then the actuals are there, and nothing is owed or budgeted
    assert response.status_code == 200
    figures = response.context["figures"]
    assert figures.totals["leads"] == 8
    assert figures.plan.budget is None
    assert figures.totals["owed"] is None
    assert all(row["owed"] is None for row in figures.channels)
    assert 'data-kpi="owed"' not in response.content.decode()


def test_the_charts_are_valid_plotly_figures(client_for, marketer, computed):
    # When the page is opened
    charts = page(client_for(marketer)).context["charts"]

    # Then each of its four charts is a figure Plotly accepts (it validates every property),
    # in plain JSON
    assert set(charts) == {"weeks", "channels", "spend", "reasons"}
    for chart in charts.values():
        go.Figure(chart)
        json.dumps(chart)
    assert charts["weeks"]["data"][1]["y"][:2] == [5, 3]
    assert charts["spend"]["data"][1]["y"][:2] == [1300.5, 3300.5]

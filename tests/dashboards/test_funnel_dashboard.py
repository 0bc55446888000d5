# ruff: noqa: F811 — the fixtures are imported into the module and named as arguments
"""The funnel dashboard (/dashboard/, issue 12) and the leads behind its cells
(/dashboard/leads/): it shows what the recompute job stored for the December team of the
plan-vs-fact tests (the same figures as GET /api/v1/plans/{id}/performance/), falls back on bad
filters with a note, drills down to exactly the leads behind a cell and to nothing of another
organization, keeps a salesperson to their own row and leads, exports its tables, and costs
the same number of queries for 1 and 5 salespeople.

Hand-computed figures (tests/dashboards/funnel_fixtures.py): December 2026 has 22 working days,
11 of them by 15 December; revenue 1,000,000 ₽ → plan to date 1,000,000 × 11 / 22 = 500,000 ₽;
12 deals of 50,000 ₽ by then → 600,000 ₽ actual; forecast 600,000 / 11 × 22 = 1,200,000 ₽.
Deals per day: Anna 2–8 December, Boris 4, 6, 8, 10, the head of sales 14 → revenue to date
50,000 ₽ on the 2nd, 200,000 ₽ on the 4th, 500,000 ₽ on the 8th, 550,000 ₽ on the 10th."""

import csv
import html
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from metrics.models import PerformanceSnapshot
from salesplan.formatting import format_money
from salesplan.models import Role, Team
from salesplan.plans.performance import plan_performance_refresh
from tests.dashboards.funnel_fixtures import (  # noqa: F401
    _today_is_15_december,
    actuals,
    block,
    computed,
    lead_ids,
    text_of,
)
from tests.factories import FunnelFactory, MembershipFactory, OrganizationFactory, PlanFactory
from tests.salesplan.plan_vs_fact import DAY, _no_queued_marks, load, plan, team, won  # noqa: F401

pytestmark = pytest.mark.django_db

DASHBOARD = "/dashboard/"
LEADS = "/dashboard/leads/"
STAGES = ["Lead", "Target lead", "Meeting scheduled", "Meeting held", "Paid"]
ANNAS = [f"W{n}" for n in range(1, 8)]
BORIS = [f"W{n}" for n in range(11, 15)]
HEADS = ["W20"]
# What the dashboard costs: session, user, membership, the led teams and the teams' list, the
# plans, the day, the stages, the stage metrics, the day's snapshots, the burn-up, then the
# attribution's (stages, gap shares, the pie's top and the split below it, revenue); a change
# that adds one must raise it here, on purpose. Then CRM discipline's card: the people the
# head of sales sees, and the last day's stored counts (two, whatever the team).
DASHBOARD_QUERIES = 18
# The drill-down: session, user, membership, the plan, the stages, the metrics, the count and
# the page.
LEADS_QUERIES = 8


def _get(client, url: str, **headers):
    response = client.get(url, **headers)
    return response, response.content.decode()


def _english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- the figures ----------------------------------------------------------------------------


def test_the_url_names():
    assert reverse("dashboard") == DASHBOARD
    assert reverse("dashboard_leads") == LEADS


def test_the_head_of_sales_sees_revenue_as_computed_by_hand(client_for, computed, team):
    # given plan vs fact stored up to 15 December, "today"
    # when the head of sales opens the dashboard (this month by default)
    response, page = _get(client_for(team["head"]), DASHBOARD)
    # then it shows the December plan on 15 December
    assert response.status_code == 200
    assert response.context["plan"] == computed
    assert response.context["day"] == DAY
    # and revenue's plan to date, actual and forecast worked out by hand
    kpis = html.unescape(block(page, "funnel-kpis"))
    for amount in ("500000", "600000", "1200000"):
        assert format_money(Decimal(amount), "RUB", "ru") in kpis
    assert 'class="badge perf-on_track"' in kpis  # on track: 20 % ahead
    assert "20,0\xa0%" in kpis  # the stored gap, 20.00 %


def test_the_funnel_equals_the_performance_api(client_for, api_for, computed, team):
    # given the performance API's figures for 15 December
    api = api_for(team["head"]).get(f"/api/v1/plans/{computed.pk}/performance/?date={DAY}")
    assert api.status_code == 200
    department = {m["key"]: m for m in api.json()["metrics"] if m["owner"] is None}
    # when the head of sales opens the dashboard
    response, page = _get(client_for(team["head"]), DASHBOARD)
    rows = response.context["stages"].rows
    # then each stage of the funnel, top first, holds the API's department figures
    assert [row["name"] for row in rows] == STAGES
    assert [row["key"] for row in rows] == [
        "leads",
        "target_leads",
        "stage_volume:2",
        "stage_volume:3",
        "stage_volume:4",
    ]
    for row in rows:
        expected = department[row["key"]]
        for field in ("plan_to_date", "actual_to_date", "forecast"):
            assert row[field] == Decimal(str(expected[field])), (row["key"], field)
        assert row["status"] == expected["status"]
    # every stage was reached by the 12 paid deals (stages above a stage are implied)
    assert [row["actual_to_date"] for row in rows] == [12] * 5
    # and the Plotly funnel draws the same numbers: plan to date, then actual
    figure = response.context["funnel_chart"]
    assert [trace["type"] for trace in figure["data"]] == ["funnel", "funnel"]
    assert figure["data"][0]["x"] == [float(department[r["key"]]["plan_to_date"]) for r in rows]
    assert figure["data"][1]["x"] == [12.0] * 5
    assert figure["data"][1]["y"] == STAGES
    assert 'data-plotly="chart-funnel-fact"' in page and "js/charts.js" in page


def test_the_burn_up_is_the_stored_revenue_per_day(client_for, computed, team):
    response, page = _get(client_for(team["head"]), DASHBOARD)
    points = {point["day"]: point for point in response.context["burn_up"].rows}
    # then one point per stored day from 1 to 15 December
    assert sorted(points) == [date(2026, 12, d) for d in range(1, 16)]
    # with the actual revenue to date worked out by hand
    expected = {1: 0, 2: 50_000, 4: 200_000, 8: 500_000, 10: 550_000, 13: 550_000, 15: 600_000}
    for day, amount in expected.items():
        assert points[date(2026, 12, day)]["actual_to_date"] == Decimal(amount), day
    # and the plan to date of each day as stored (the department's revenue row)
    stored = dict(
        PerformanceSnapshot.objects.filter(
            plan=computed, owner=None, metric__key="revenue"
        ).values_list("day", "plan_to_date")
    )
    assert {day: p["plan_to_date"] for day, p in points.items()} == stored
    assert points[DAY]["plan_to_date"] == Decimal(500_000)
    # the chart: plan (to the target at the month's end), actual, and the forecast line
    figure = response.context["burn_up_chart"]
    plan_line, actual, forecast = figure["data"]
    assert plan_line["x"][-1] == "2026-12-31" and plan_line["y"][-1] == 1_000_000.0
    assert actual["y"][-1] == 600_000.0 and len(actual["x"]) == 15
    assert forecast["x"] == ["2026-12-15", "2026-12-31"]
    assert forecast["y"] == [600_000.0, 1_200_000.0]
    # the table beside it is the text alternative
    assert 'data-day="2026-12-08"' in page


def test_the_salespeople_table_holds_their_personal_rows(client_for, computed, team):
    anna, boris, head = team["anna"], team["boris"], team["head"]
    response, page = _get(client_for(head), DASHBOARD)
    rows = response.context["people"].rows
    # then Anna's and Boris's stored personal rows, not the head of sales (no personal plan)
    assert {row["person_id"] for row in rows} == {anna.pk, boris.pk}
    paid = {row["person_id"]: row for row in rows if row["key"] == "stage_volume:4"}
    assert paid[anna.pk]["actual_to_date"] == 7 and paid[boris.pk]["actual_to_date"] == 4
    # Anna's share 60 %: 11 paid deals planned to date × 0.6 = 6.6
    assert paid[anna.pk]["plan_to_date"] == Decimal("6.6")
    stored = PerformanceSnapshot.objects.get(
        plan=computed, owner=anna, metric__key="stage_volume:4", day=DAY
    )
    assert (paid[anna.pk]["forecast"], paid[anna.pk]["status"]) == (stored.forecast, stored.status)
    # and each row carries its status colour and a link to the leads behind it
    row = re.search(
        rf'<tr data-person="{anna.pk}" data-metric="stage_volume:4"[^>]*>(.*?)</tr>', page, re.S
    ).group(1)
    assert f'class="badge perf-{stored.status}"' in row
    assert f"member={anna.pk}" in row and "metric=stage_volume%3A4" in row
    assert head.display_name not in block(page, "funnel-people")


def test_the_salespeople_table_exports_as_csv_and_xlsx(client_for, computed, team):
    from openpyxl import load_workbook

    client = client_for(team["head"])
    rows = client.get(DASHBOARD).context["people"].rows
    # when the head of sales downloads the table
    response = client.get(f"{DASHBOARD}?export=csv&table=people")
    # then a CSV with a row per person and metric, numbers as numbers
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(lines) == 1 + len(rows)
    paid = next(r for r in rows if r["person_id"] == team["anna"].pk and r["key"].endswith(":4"))
    annas_paid = next(
        line for line in lines if line[0] == team["anna"].display_name and line[1] == paid["name"]
    )
    assert Decimal(annas_paid[2]) == Decimal("6.6") and Decimal(annas_paid[3]) == 7
    # and the same as XLSX
    response = client.get(f"{DASHBOARD}?export=xlsx&table=people")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 1 + len(rows)
    # and the page carries the links
    page = client.get(DASHBOARD).content.decode()
    assert "export=xlsx&amp;table=people" in page and "export=csv&amp;table=people" in page


def test_the_gap_waterfall_names_each_bars_owner(client_for, computed, team):
    response, page = _get(client_for(team["head"]), DASHBOARD)
    attribution = response.context["attribution"]
    parts = response.context["gap_table"].rows
    # then a bar per factor and owner, then the gap, adding up to it to the kopeck
    waterfall = response.context["gap_chart"]["data"][0]
    assert waterfall["type"] == "waterfall"
    assert len(waterfall["y"]) == len(parts) + 1
    assert sum(part["contribution"] for part in parts) == attribution["gap"]
    assert waterfall["x"][-1] == float(attribution["gap"])
    # the conversions are the head of sales' on the default pie: their name is on the bar
    owned = [label for label in waterfall["y"] if team["head"].display_name in label]
    assert owned, waterfall["y"]
    assert any("Leads" in label or "Лиды" in label for label in waterfall["y"])
    assert 'data-plotly="chart-gap-owners"' in page


# --- the filters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, note",
    [
        ("period=yesterday", "is not a period"),
        ("period=month&month=2026-13", "is not a month"),
        ("period=month&month=soon", "is not a month"),
        ("team=999999", "not one you may see"),
        ("team=abc", "not one you may see"),
        ("plan=abc", "is not a plan"),
    ],
)
def test_a_bad_filter_falls_back_with_a_note(client_for, computed, team, settings, query, note):
    client = _english(client_for(team["head"]), settings)
    # when the address carries a value that is not one
    response, page = _get(client, f"{DASHBOARD}?{query}")
    # then the page falls back to this month's plan and says why
    assert response.status_code == 200
    assert note in text_of(block(page, "funnel-notes"))
    assert response.context["plan"] == computed
    assert response.context["day"] == DAY


def test_the_periods(client_for, computed, team, settings):
    client = _english(client_for(team["head"]), settings)
    # a chosen month: December
    response, _ = _get(client, f"{DASHBOARD}?period=month&month=2026-12")
    assert response.context["day"] == DAY and not response.context["notes"]
    # this quarter (October–December): the December plan, up to today
    response, _ = _get(client, f"{DASHBOARD}?period=quarter")
    period = response.context["period"]
    assert (period.start, period.end) == (date(2026, 10, 1), date(2026, 12, 31))
    assert response.context["plan"] == computed and response.context["day"] == DAY
    # last month: November has no plan, and the page says so with a link to create one
    response, page = _get(client, f"{DASHBOARD}?period=last_month")
    assert response.context["period"].start == date(2026, 11, 1)
    assert response.context["plan"] is None
    empty = text_of(block(page, "funnel-empty"))
    assert "No plan covers this period" in empty
    assert 'href="/plans/new/"' in block(page, "funnel-empty")


def test_a_month_with_nothing_computed_yet_says_so(client_for, plan, team, settings):
    client = _english(client_for(team["head"]), settings)
    response, page = _get(client, DASHBOARD)
    assert response.status_code == 200
    assert response.context["plan"] == plan and response.context["day"] is None
    assert "not computed for this period yet" in text_of(block(page, "funnel-empty"))


def test_the_team_filter_offers_the_teams_a_head_of_sales_leads(
    client_for, organization, funnel, computed, team, make_member, settings
):
    head = team["head"]
    # given a team the head of sales leads with its own December plan, and another's team
    east = Team.objects.create(organization=organization, name="East", head=head)
    west = Team.objects.create(
        organization=organization, name="West", head=make_member(Role.HEAD_OF_SALES)
    )
    seller = make_member(Role.SALESPERSON, team=east)
    east_plan = PlanFactory(
        organization=organization,
        funnel=FunnelFactory(organization=organization, name="East funnel"),
        name="East December",
        sales_team=east,
        team=[(seller, 1)],
    )
    PlanFactory(
        organization=organization,
        funnel=FunnelFactory(organization=organization, name="West funnel"),
        name="West December",
        sales_team=west,
        team=[(make_member(Role.SALESPERSON, team=west), 1)],
    )
    client = _english(client_for(head), settings)
    # when the head of sales opens the dashboard
    response, page = _get(client, DASHBOARD)
    # then the filter offers East only, and the plans are theirs and the department's
    assert [t.name for t in response.context["teams"]] == ["East"]
    assert {p.name for p in response.context["plans"]} == {"December", "East December"}
    # East chosen: its plan
    response, _ = _get(client, f"{DASHBOARD}?team={east.pk}")
    assert response.context["team"] == east and response.context["plan"] == east_plan
    # West is not theirs: a note, and all their teams
    response, page = _get(client, f"{DASHBOARD}?team={west.pk}")
    assert response.context["team"] is None
    assert "not one you may see" in text_of(block(page, "funnel-notes"))
    # the owner sees every team
    response, _ = _get(_english(client_for(make_member(Role.OWNER)), settings), DASHBOARD)
    assert [t.name for t in response.context["teams"]] == ["East", "West"]


def test_htmx_swaps_the_body_only(client_for, computed, team):
    client = client_for(team["head"])
    response, page = _get(client, f"{DASHBOARD}?period=month&month=2026-12", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="funnel-body"') and "<html" not in page
    assert "HX-Request" in response["Vary"]  # a cache keeps the fragment apart from the page
    assert 'data-plotly="chart-burn-up"' in page
    # the full page holds the same body and the form that works without JavaScript
    full = client.get(DASHBOARD).content.decode()
    assert '<form method="get" action="/dashboard/"' in full and 'hx-target="#funnel-body"' in full
    for field in ("funnel-team", "funnel-period", "funnel-month"):
        assert f'<label for="{field}">' in full


# --- who sees what --------------------------------------------------------------------------


def test_a_salesperson_sees_only_their_own_row(client_for, computed, team):
    anna = team["anna"]
    response, page = _get(client_for(anna), DASHBOARD)
    assert response.status_code == 200
    # the department's figures, as on the plan's page
    assert response.context["revenue"]["actual_to_date"] == Decimal(600_000)
    # and of the salespeople only herself
    assert {row["person_id"] for row in response.context["people"].rows} == {anna.pk}
    assert team["boris"].display_name not in block(page, "funnel-people")


def test_a_marketer_may_view(client_for, computed, make_member):
    response, _ = _get(client_for(make_member(Role.MARKETER)), DASHBOARD)
    assert response.status_code == 200 and response.context["plan"] == computed


def test_another_organizations_plan_is_never_shown(client_for, computed, team):
    stranger = MembershipFactory(organization=OrganizationFactory(name="Rival"), role=Role.OWNER)
    response, _ = _get(client_for(stranger), f"{DASHBOARD}?plan={computed.pk}")
    assert response.status_code == 200 and response.context["plan"] is None
    assert (
        _get(client_for(stranger), f"{LEADS}?plan={computed.pk}&metric=leads")[0].status_code == 404
    )


# --- the drill-down -------------------------------------------------------------------------


def _leads(client, plan, query: str) -> tuple[int, str]:
    response = client.get(f"{LEADS}?plan={plan.pk}&{query}")
    return response.status_code, response.content.decode()


def test_the_stage_cell_lists_exactly_its_leads(client_for, computed, team):
    client = client_for(team["head"])
    # the paid stage's department cell: the 12 paid deals
    status, page = _leads(client, computed, f"metric=stage_volume:4&day={DAY}")
    assert status == 200
    assert sorted(lead_ids(page)) == sorted(ANNAS + BORIS + HEADS)
    # Anna's cell: her 7, not the head of sales' deal
    status, page = _leads(client, computed, f"metric=stage_volume:4&member={team['anna'].pk}")
    assert sorted(lead_ids(page)) == sorted(ANNAS)
    # up to 5 December: Anna's deals of 2–5 December and Boris's of the 4th
    status, page = _leads(client, computed, "metric=stage_volume:4&day=2026-12-05")
    assert sorted(lead_ids(page)) == ["W1", "W11", "W2", "W3", "W4"]
    # a stage by position: the first (leads), same 12
    status, page = _leads(client, computed, "stage=0")
    assert len(lead_ids(page)) == 12
    # the dashboard's links lead here
    dashboard = client.get(DASHBOARD).content.decode()
    assert (
        f"/dashboard/leads/?plan={computed.pk}&amp;metric=stage_volume%3A4&amp;day=2026-12-15"
        in (dashboard)
    )


def test_the_revenue_drills_down_to_its_payments(client_for, computed, team):
    client = client_for(team["head"])
    # the revenue actual on the dashboard links to its payments
    dashboard = client.get(DASHBOARD).content.decode()
    link = f"/dashboard/leads/?plan={computed.pk}&amp;metric=revenue&amp;day=2026-12-15"
    assert link in block(dashboard, "funnel-kpis")
    # the department's: the 12 payments, 600,000 ₽ in all (the revenue actual to date)
    response = client.get(f"{LEADS}?plan={computed.pk}&metric=revenue&day={DAY}")
    assert response.status_code == 200
    rows = response.context["table"].rows
    assert sorted(row["external_id"] for row in rows) == sorted(ANNAS + BORIS + HEADS)
    assert sum(row["amount"] for row in rows) == Decimal(600_000)
    # Boris's personal slice: his 4 payments, 200,000 ₽
    response = client.get(
        f"{LEADS}?plan={computed.pk}&metric=revenue&member={team['boris'].pk}&day={DAY}"
    )
    rows = response.context["table"].rows
    assert sorted(row["external_id"] for row in rows) == sorted(BORIS)
    assert sum(row["amount"] for row in rows) == Decimal(200_000)
    # and Anna, a salesperson, sees only her own
    response = client_for(team["anna"]).get(f"{LEADS}?plan={computed.pk}&metric=revenue")
    assert sorted(row["external_id"] for row in response.context["table"].rows) == sorted(ANNAS)


def test_the_drill_down_shows_nothing_of_another_organization(
    client_for, computed, team, make_member
):
    # given a rival organization with its own funnel and a paid deal of the same day
    rival = OrganizationFactory(name="Rival")
    rival_funnel = FunnelFactory(organization=rival)
    seller = MembershipFactory(organization=rival, role=Role.SALESPERSON)
    load(rival, rival_funnel, [won(1, seller.user.email, 3)], announce=False)
    # when the head of sales lists the paid stage
    _, page = _leads(client_for(team["head"]), computed, "metric=stage_volume:4")
    # then only their organization's 12 (the rival's lead has the same external id W1)
    assert len(lead_ids(page)) == 12
    assert seller.display_name not in page


def test_a_salesperson_drills_down_to_their_own_leads_only(client_for, computed, team):
    anna = client_for(team["anna"])
    _, page = _leads(anna, computed, "metric=stage_volume:4")
    assert sorted(lead_ids(page)) == sorted(ANNAS)
    _, page = _leads(anna, computed, f"metric=stage_volume:4&member={team['boris'].pk}")
    assert lead_ids(page) == []


def test_the_drill_down_pages_by_50_and_exports(client_for, organization, funnel, plan, team):
    # given 60 leads of Anna's reaching the paid stage on 3 December
    email = team["anna"].user.email
    load(organization, funnel, [won(100 + n, email, 3) for n in range(60)], announce=False)
    client = client_for(team["head"])
    _, first = _leads(client, plan, "metric=stage_volume:4&day=2026-12-05")
    _, second = _leads(client, plan, "metric=stage_volume:4&day=2026-12-05&page=2")
    assert len(lead_ids(first)) == 50 and len(lead_ids(second)) == 10
    assert not set(lead_ids(first)) & set(lead_ids(second))
    assert 'rel="next"' in first and "page=2" in first
    # the export writes them all
    response = client.get(
        f"{LEADS}?plan={plan.pk}&metric=stage_volume:4&day=2026-12-05&export=csv&table=leads"
    )
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(lines) == 61
    # a page that is not one falls back to the last
    status, page = _leads(client, plan, "metric=stage_volume:4&day=2026-12-05&page=zzz")
    assert status == 200 and len(lead_ids(page)) == 50


@pytest.mark.parametrize(
    "query, status, words",
    [
        ("metric=new_clients", 400, "Pick a stage"),
        ("metric=nonsense", 400, "Pick a stage"),
        ("stage=99", 400, "Pick a stage"),
        ("metric=leads&day=yesterday", 200, "is not a date"),
        ("metric=leads&day=2027-02-01", 200, "outside the plan's period"),
        ("metric=leads&member=abc", 200, "not in your organization"),
    ],
)
def test_bad_drill_down_parameters_are_a_message(
    client_for, computed, team, settings, query, status, words
):
    client = _english(client_for(team["head"]), settings)
    code, page = _leads(client, computed, query)
    assert code == status
    assert words in text_of(page)


def test_a_drill_down_without_a_plan_is_404(client_for, team, computed):
    assert client_for(team["head"]).get(f"{LEADS}?metric=leads").status_code == 404
    assert client_for(team["head"]).get(f"{LEADS}?plan=abc").status_code == 404


# --- the cost -------------------------------------------------------------------------------


def _plan_with(organization, sellers, name: str):
    funnel = FunnelFactory(organization=organization, name=f"{name} funnel")
    share = Decimal(1) / len(sellers)
    shares = [share.quantize(Decimal("0.0001"))] * len(sellers)
    shares[-1] = Decimal(1) - sum(shares[:-1])
    plan = PlanFactory(
        organization=organization,
        funnel=funnel,
        name=name,
        team=list(zip(sellers, shares, strict=True)),
    )
    rows = [won(n + 1, sellers[n % len(sellers)].user.email, 1 + n % 14) for n in range(15)]
    load(organization, funnel, rows, announce=False)
    plan_performance_refresh(plan_id=plan.pk, today=DAY)
    return plan


def test_the_dashboard_costs_the_same_for_1_and_5_salespeople(
    client_for, organization, make_member, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    head = make_member(Role.HEAD_OF_SALES)
    one = _plan_with(organization, [make_member(Role.SALESPERSON)], "One")
    five = _plan_with(organization, [make_member(Role.SALESPERSON) for _ in range(5)], "Five")
    client = client_for(head)
    counts = []
    for chosen, people in ((one, 1), (five, 5)):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{DASHBOARD}?plan={chosen.pk}")
        assert response.context["plan"] == chosen
        assert len({row["person_id"] for row in response.context["people"].rows}) == people
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        client.get(f"{DASHBOARD}?plan={five.pk}")
    # and a drill-down page is a count and a page, whatever the leads
    with django_assert_max_num_queries(LEADS_QUERIES):
        client.get(f"{LEADS}?plan={five.pk}&metric=stage_volume:4")


# --- in Chromium ----------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_chromium_the_filters_swap_the_body_and_a_cell_drills_down(
    page, live_server, computed, team
):
    from tests.factories import PASSWORD

    # given the head of sales signed in, plan vs fact stored up to 15 December ("today")
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", team["head"].user.email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}{DASHBOARD}")
    # then the funnel, the burn-up and the waterfall are drawn (Plotly's SVG)
    for card in ("#funnel-stages", "#funnel-burn-up", "#funnel-gap"):
        page.wait_for_selector(f"{card} .main-svg")
    # with revenue to date as computed by hand: 12 deals of 50,000 ₽
    actual = page.locator("#funnel-kpis .kpi").nth(1).locator(".value").inner_text()
    assert re.sub(r"\D", "", actual) == "600000"
    # when they pick last month: the body is swapped in place (no plan for November)
    page.select_option("#funnel-period", "last_month")
    page.wait_for_selector("#funnel-empty")
    assert "period=last_month" in page.url
    # and back to December: the charts come back with the swapped body
    page.select_option("#funnel-period", "month")
    page.wait_for_url("**period=month**")
    page.fill("#funnel-month", "2026-12")
    page.locator("#funnel-month").dispatch_event("change")  # as leaving the field does
    page.wait_for_selector("#funnel-stages .main-svg")
    assert page.url.endswith("month=2026-12")
    _screenshot(page, "dashboard-funnel-filtered")
    # when they follow the paid stage's actual
    with page.expect_navigation():
        page.click('#funnel-stages tr[data-stage="stage_volume:4"] td a')
    # then the 12 paid deals are listed
    assert page.locator("tr[data-lead]").count() == 12
    _screenshot(page, "dashboard-leads")
    # and at a phone's width neither page scrolls sideways
    page.set_viewport_size({"width": 390, "height": 844})
    _screenshot(page, "dashboard-leads-390")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    # (Back returns the whole dashboard, not the fragment htmx fetched at that address)
    page.go_back()
    page.wait_for_selector("#funnel-stages .main-svg")
    _screenshot(page, "dashboard-funnel-390")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def _screenshot(page, name: str) -> None:
    """The page as it is now, under VAR_DIR/screenshots/ for a person to look at."""
    from pathlib import Path

    from django.conf import settings

    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

"""The plan's page, tab "Plan vs fact" (/plans/{id}/?tab=fact&date=): it shows what the
recompute job stored (PerformanceSnapshot, GapShare, Slip), never a figure recomputed in the
request; a bad ?date= is a message, not a 500; another organization's plan is a 404; and the
number of queries does not grow with the metrics or the people."""

import html
import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from funnel.ingest.loader import load_frames
from metrics.models import GapShare, PerformanceSnapshot, Slip
from salesplan.formatting import format_money, format_number
from salesplan.models import Role
from salesplan.plans.performance import plan_performance_refresh
from tests.factories import FunnelFactory, MembershipFactory, OrganizationFactory, PlanFactory
from tests.funnel.frames import frame, lead
from tests.salesplan.plan_vs_fact import DAY, _no_queued_marks, load, won  # noqa: F401

pytestmark = pytest.mark.django_db

# A day that has passed by any clock these tests run under: the page's default day is the
# latest day stored up to today.
EARLY_DAY = date(2026, 12, 2)

# What the tab costs today: session, user, membership, the plan with its inputs (4), then the
# stored rows (snapshots, slips, the pie's top, stages, gap shares, the pie twice, revenue);
# a change that adds a query must raise it here, on purpose.
FACT_TAB_QUERIES = 15


@pytest.fixture
def actuals(organization, funnel, team):
    """By 15 December: Anna won 7 deals of 50,000 ₽, Boris 4, the head of sales 1."""
    anna, boris, head = (team[k].user.email for k in ("anna", "boris", "head"))
    rows = [won(n, anna, 1 + n) for n in range(1, 8)]
    rows += [won(10 + n, boris, 2 + 2 * n) for n in range(1, 5)]
    rows += [won(20, head, 14)]
    load(organization, funnel, rows, announce=False)


@pytest.fixture
def computed(plan, actuals):
    """Plan vs fact stored up to 15 December, as the background job would."""
    assert plan_performance_refresh(plan_id=plan.pk, today=DAY) > 0
    return plan


def _page(client, plan, query: str = "tab=fact") -> tuple[int, str]:
    response = client.get(f"/plans/{plan.pk}/?{query}")
    return response.status_code, response.content.decode()


def _text(page: str) -> str:
    """The page's text with the tags dropped and whitespace folded (for phrases across tags);
    no-break spaces are kept: a figure and its unit must not come apart."""
    return re.sub(r"[^\S\xa0]+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _row(page: str, attribute: str, value: str) -> str:
    """The text of the table row marked data-<attribute>="<value>"."""
    match = re.search(rf'<tr data-{attribute}="{re.escape(value)}">(.*?)</tr>', page, re.S)
    assert match, f"no row {attribute}={value}"
    return _text(match.group(1))


def test_the_head_of_sales_sees_the_stored_figures(client_for, computed, team):
    # given plan vs fact stored up to 15 December
    plan = computed
    revenue = PerformanceSnapshot.objects.get(plan=plan, metric__key="revenue", owner=None, day=DAY)
    leads = PerformanceSnapshot.objects.get(plan=plan, metric__key="leads", owner=None, day=DAY)
    # when the head of sales opens the tab on that day
    status, page = _page(client_for(team["head"]), plan, f"tab=fact&date={DAY}")
    # then the day and when it was computed are shown
    assert status == 200
    text = _text(page)
    assert "15.12.2026" in text
    assert revenue.computed_at is not None
    # and the revenue row holds the stored figures formatted as money, with its owner on the
    # pie (the head of sales owns the department's revenue) and its status
    row = _row(page, "metric", "revenue")
    assert revenue.actual_to_date == Decimal("600000")
    assert format_money(revenue.actual_to_date, "RUB", "ru") in row  # 600 000 ₽
    assert format_money(revenue.plan_to_date, "RUB", "ru") in row  # 500 000 ₽
    assert format_money(revenue.forecast, "RUB", "ru") in row  # 1 200 000 ₽
    assert "20,0\u00a0%" in row  # the stored gap_pct, 20.00
    assert team["head"].display_name in row
    assert "В графике" in row  # on track
    assert 'class="badge perf-on_track"' in page
    # and the slipped leads carry the slipped badge
    assert leads.status == "slipped"
    assert "perf-slipped" in re.search(r'<tr data-metric="leads">.*?</tr>', page, re.S).group(0)


def test_the_salespeople_table_holds_each_persons_stored_rows(client_for, computed, team):
    plan = computed
    anna = team["anna"]
    paid = PerformanceSnapshot.objects.get(
        plan=plan, metric__key="stage_volume:4", owner=anna, day=DAY
    )
    # when the head of sales opens the tab
    _, page = _page(client_for(team["head"]), plan, f"tab=fact&date={DAY}")
    # then the salespeople sit in a collapsed <details>, one row each, Anna's 7 paid deals
    # against her share of the plan to date
    people = re.search(r'<div class="card" id="fact-people">(.*?)</details>', page, re.S)
    assert people and "<details" in people.group(1) and "<details open" not in people.group(1)
    anna_row = next(
        _text(row)
        for row in re.findall(r"<tr>(.*?)</tr>", people.group(1), re.S)
        if anna.display_name in row
    )
    assert paid.actual_to_date == Decimal(7)
    assert f"7 / {format_number(paid.plan_to_date, 'ru')}" in anna_row
    assert team["boris"].display_name in people.group(1)
    # the head of sales has no personal slice
    assert team["head"].display_name not in people.group(1)


def test_the_attribution_and_the_open_slips_are_shown(client_for, computed, team):
    plan = computed
    shares = GapShare.objects.filter(plan=plan, day=DAY)
    assert shares.exists()
    slips = Slip.objects.filter(plan=plan, closed_on__isnull=True).select_related("metric")
    assert slips.exists()
    # when the head of sales opens the tab
    _, page = _page(client_for(team["head"]), plan, f"tab=fact&date={DAY}")
    # then each stored factor has a row with its contribution (summed over its owners)
    for factor in set(shares.values_list("factor", flat=True)):
        total = sum(s.contribution for s in shares.filter(factor=factor))
        assert format_money(total, "RUB", "ru") in _row(page, "factor", factor)
    # the gap is their sum, shown under the table, and the waterfall chart is on the page
    gap = sum(s.contribution for s in shares)
    assert format_money(gap, "RUB", "ru") in _text(
        re.search(r"<tfoot>(.*?)</tfoot>", page, re.S).group(1)
    )
    assert 'id="chart-gap"' in page and '"type": "waterfall"' in page
    assert "vendor/plotly-4.1.1-salesplan.min.js" in page
    # and every open slip has a row: its metric, since and attributed revenue
    for slip in slips:
        row = _row(page, "slip", str(slip.pk))
        assert slip.metric.display_name in row
        assert slip.since.strftime("%d.%m.%Y") in row
        assert format_money(slip.attributed_revenue, "RUB", "ru") in row


def test_a_salesperson_sees_the_figures_and_their_own_slips(client_for, computed, team):
    plan = computed
    anna = team["anna"]
    # when Anna opens the tab
    status, page = _page(client_for(anna), plan, f"tab=fact&date={DAY}")
    # then she sees the department's stored revenue, as the performance API shows it
    assert status == 200
    assert format_money(Decimal("600000"), "RUB", "ru") in _row(page, "metric", "revenue")
    # and of the open slips only those of the metrics she holds (as the slips API)
    shown = set(map(int, re.findall(r'data-slip="(\d+)"', page)))
    hers = set(
        Slip.objects.filter(
            plan=plan, closed_on__isnull=True, metric__responsibilities__owner=anna
        ).values_list("pk", flat=True)
    )
    assert shown == hers
    others = set(
        Slip.objects.filter(plan=plan, closed_on__isnull=True).values_list("pk", flat=True)
    )
    assert others - hers, "the plan should have slips of metrics Anna does not hold"


def test_the_default_day_is_the_latest_computed(client_for, plan, actuals, team):
    # given plan vs fact stored up to 2 December
    plan_performance_refresh(plan_id=plan.pk, today=EARLY_DAY)
    revenue = PerformanceSnapshot.objects.get(
        plan=plan, metric__key="revenue", owner=None, day=EARLY_DAY
    )
    # when the tab is opened without a date
    status, page = _page(client_for(team["head"]), plan)
    # then it shows 2 December and its stored revenue (Anna's deal of that day)
    assert status == 200
    assert "02.12.2026" in _text(re.search(r'id="fact-day">(.*?)</p>', page, re.S).group(1))
    assert format_money(revenue.actual_to_date, "RUB", "ru") in _row(page, "metric", "revenue")
    assert revenue.actual_to_date == Decimal("50000")


def test_the_plan_tab_is_the_default_and_links_to_plan_vs_fact(client_for, computed, team):
    status, page = _page(client_for(team["head"]), computed, "")
    assert status == 200
    assert f'href="/plans/{computed.pk}/?tab=fact"' in page
    assert 'id="fact-department"' not in page
    assert 'data-plotly="chart-funnel"' in page


@pytest.mark.parametrize(
    "value, words",
    [
        ("yesterday", "is not a date"),
        ("2026-13-45", "is not a date"),
        ("2027-01-10", "outside the plan's period"),
        ("2026-11-30", "outside the plan's period"),
    ],
)
def test_a_bad_date_is_a_message_not_a_500(client_for, computed, team, settings, value, words):
    # given the English interface
    client = client_for(team["head"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    # when the tab is asked for a day that is not one, or not in the plan's period
    status, page = _page(client, computed, f"tab=fact&date={value}")
    # then a 400 page says what is wrong, and the latest day is shown below it
    assert status == 400
    message = _text(re.search(r'id="fact-date-error">(.*?)</li>', page, re.S).group(1))
    assert words in message
    assert 'id="fact-department"' in page


def test_a_bad_date_in_russian(client_for, computed, team):
    status, page = _page(client_for(team["head"]), computed, "tab=fact&date=2027-01-10")
    assert status == 400
    assert "10.01.2027" in _text(re.search(r'id="fact-date-error">(.*?)</li>', page, re.S).group(1))


def test_nothing_stored_says_it_is_not_computed_yet(client_for, plan, team, settings):
    client = client_for(team["head"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    # given a plan nothing was computed for yet
    assert not PerformanceSnapshot.objects.filter(plan=plan).exists()
    # when the tab is opened
    status, page = _page(client, plan)
    # then it says so, and when to come back
    assert status == 200
    assert "not computed yet" in _text(page) and "within a few minutes" in _text(page)
    assert 'id="fact-department"' not in page
    # and a day of the period with nothing stored says the same of that day
    status, page = _page(client, plan, "tab=fact&date=2026-12-20")
    assert status == 200
    assert "Nothing is computed for 20.12.2026 yet" in _text(page)


def test_another_organizations_plan_is_404(client_for, computed, team):
    rival = OrganizationFactory(name="Rival")
    stranger = MembershipFactory(organization=rival, role=Role.OWNER)
    for query in ("tab=fact", f"tab=fact&date={DAY}", "date=bad"):
        assert _page(client_for(stranger), computed, query)[0] == 404


def _count(client, plan, query: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/plans/{plan.pk}/?{query}")
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_the_tab_runs_a_constant_number_of_queries(
    client_for, organization, computed, team, make_member
):
    # given a second plan in the same organization with six salespeople (more personal rows,
    # more slips and more split owners) and its own actuals, both computed
    six = [make_member(Role.SALESPERSON) for _ in range(6)]
    funnel = FunnelFactory(organization=organization, name="Second")
    shares = [Decimal("0.16")] * 5 + [Decimal("0.2")]
    big = PlanFactory(
        organization=organization,
        funnel=funnel,
        name="December, six people",
        team=list(zip(six, shares, strict=True)),
    )
    load(
        organization,
        funnel,
        [won(100 + n, six[n % 6].user.email, 1 + n % 14) for n in range(30)],
        announce=False,
    )
    plan_performance_refresh(plan_id=big.pk, today=DAY)
    small_rows = PerformanceSnapshot.objects.filter(plan=computed, day=DAY).count()
    big_rows = PerformanceSnapshot.objects.filter(plan=big, day=DAY).count()
    assert big_rows > small_rows
    # when the head of sales opens the tab of each
    client = client_for(team["head"])
    # (on the day asked for, and on the latest day: one more query finds it)
    for query, ceiling in ((f"tab=fact&date={DAY}", FACT_TAB_QUERIES), ("tab=fact", 16)):
        small, many = _count(client, computed, query), _count(client, big, query)
        # then both cost the same number of queries, within the ceiling
        assert small == many, (query, small, many)
        assert many <= ceiling, (query, many)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_chromium_the_waterfall_draws_and_the_salespeople_unfold(
    page, live_server, computed, team
):
    from tests.test_browser_plans import sign_in

    # given the head of sales signed in, plan vs fact stored
    sign_in(page, live_server.url, team["head"].user.email)
    # when they open the tab on 15 December
    page.goto(f"{live_server.url}/plans/{computed.pk}/?tab=fact&date={DAY}")
    # then the vendored Plotly draws the waterfall beside the table
    bars = "#fact-attribution .js-plotly-plot .waterfalllayer .point"
    page.wait_for_selector(bars)
    factors = GapShare.objects.filter(plan=computed, day=DAY).values("factor").distinct()
    assert page.locator(bars).count() == factors.count() + 1  # and the gap itself
    # and the salespeople's grid is folded until its summary is clicked
    grid = page.locator("#fact-people table")
    assert not grid.is_visible()
    page.click("#fact-people summary")
    assert grid.is_visible()
    assert team["anna"].display_name in grid.inner_text()


def test_the_page_says_when_the_factors_do_not_explain_the_revenue_gap(client, make_member):
    # given a December plan whose money so far comes from a deal of November's leads: on
    # 2 December no lead of the month has reached a meeting, so the funnel explains nothing
    head = make_member(Role.HEAD_OF_SALES)
    organization = head.organization
    funnel = FunnelFactory(organization=organization)
    plan = PlanFactory(
        organization=organization, funnel=funnel, team=[(make_member(Role.SALESPERSON), 1)]
    )
    rows = [
        lead(
            1,
            "OLD1",
            4,
            created_at="2026-11-10 09:00+03:00",
            stage_at="2026-11-20 12:00+03:00",
            is_target=True,
            won=True,
            amount="90000.00",
            paid_at="2026-12-01 12:00+03:00",
        ),
        lead(2, "NEW2", 0, created_at="2026-12-01 10:00+03:00"),
    ]
    with transaction.atomic():
        assert (
            load_frames(
                organization=organization,
                funnel=funnel,
                source="api",
                frames={"leads": frame("leads", rows)},
            ).errors
            == []
        )
    plan_performance_refresh(plan_id=plan.pk, today=date(2026, 12, 2), full=True)
    # when the head of sales opens the plan vs fact
    client.force_login(head.user)
    with translation.override("en"):
        page = client.get(f"/plans/{plan.pk}/?tab=fact", HTTP_ACCEPT_LANGUAGE="en")
    # then the page says the factors split less than the revenue gap, not that they add up to it
    text = page.content.decode()
    assert page.status_code == 200
    assert "is not split by factor" in text
    assert "together they add up to the gap" not in text

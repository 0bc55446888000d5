"""The owner's roll-up (/overview/): every team's current plan with its revenue as the
recompute stored it, its pie's health and the month's forecast; a table with its export and
a bar chart beside it; a head of sales sees their own teams' plans and the department's;
another organization's plans never; the same number of queries for one plan or several.

The oracle is the README's worked example on the December team of
tests/salesplan/plan_vs_fact.py: on 15 December 11 of 22 working days have passed and twelve
deals of 50 000 ₽ are paid, so plan to date = 1 000 000 × 11 / 22 = 500 000 ₽, actual
600 000 ₽, forecast 600 000 × 22 / 11 = 1 200 000 ₽, on track (+20 %)."""

import csv
import io
import random
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics.models import PerformanceSnapshot
from responsibility.models import Responsibility
from responsibility.rules import Assignment, MetricView, OwnerView, Pie
from responsibility.selectors import pie_tree
from salesplan.models import Role, Team
from salesplan.plans.performance import plan_performance_refresh
from tests.factories import FunnelFactory, MembershipFactory, OrganizationFactory, PlanFactory
from tests.salesplan.plan_vs_fact import DAY, _no_queued_marks, load, plan, team, won  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(organization, funnel, plan, team):  # noqa: F811
    """By 15 December: Anna won 7 deals of 50 000 ₽, Boris 4, the head of sales 1."""
    anna, boris, head = (team[k].user.email for k in ("anna", "boris", "head"))
    rows = [won(n, anna, 1 + n) for n in range(1, 8)]
    rows += [won(10 + n, boris, 2 + 2 * n) for n in range(1, 5)]
    rows += [won(20, head, 14)]
    load(organization, funnel, rows, announce=False)
    assert plan_performance_refresh(plan_id=plan.pk, today=DAY) > 0
    return plan


def _get(client, query: str = ""):
    with mock.patch("django.utils.timezone.localdate", return_value=DAY):
        return client.get(f"/overview/{query}", HTTP_ACCEPT_LANGUAGE="en")


def test_the_roll_up_holds_the_stored_revenue_row(client_for, computed, owner):
    # when the owner opens the roll-up on 15 December
    response = _get(client_for(owner))
    assert response.status_code == 200
    (row,) = response.context["rows"]
    # then the plan's figures are the hand-computed ones, equal to the stored row
    stored = PerformanceSnapshot.objects.get(
        plan=computed, metric__key="revenue", owner=None, day=DAY
    )
    assert (row.plan_to_date, row.actual_to_date, row.forecast) == (
        Decimal(500000),
        Decimal(600000),
        Decimal(1200000),
    )
    assert (row.plan_to_date, row.actual_to_date, row.forecast, row.status) == (
        stored.plan_to_date,
        stored.actual_to_date,
        stored.forecast,
        stored.status,
    )
    assert row.status == "on_track" and row.day == DAY
    # and the month's forecast is that plan's (the only one of December)
    total = response.context["total"]
    assert (total.forecast, total.planned, total.plans) == (Decimal(1200000), Decimal(1000000), 1)
    # and the page shows them, with the chart and its table
    page = response.content.decode()
    assert f'data-plan="{computed.pk}"' in page
    assert "₽600,000" in page or "600 000" in page or "600,000" in page
    assert 'data-plotly="chart-overview"' in page and '"type": "bar"' in page
    assert "?export=xlsx&amp;table=plans" in page and "?export=csv&amp;table=plans" in page


def test_the_pies_health_is_what_the_pie_page_finds(client_for, computed, owner):
    # given the pie page's own findings and unowned metrics
    tree = pie_tree(computed)
    (row,) = _get(client_for(owner)).context["rows"]
    assert row.health.findings == len(tree["findings"])
    assert row.health.unowned == len(tree["unowned"])
    # when the head of sales' revenue loses its owner
    Responsibility.objects.filter(plan=computed, metric__key="revenue", parent=None).delete()
    (after,) = _get(client_for(owner)).context["rows"]
    # then one more metric has no owner, and one more finding says so (an error)
    assert after.health.unowned == row.health.unowned + 1
    assert after.health.findings == row.health.findings + 1
    assert after.health.errors == row.health.errors + 1


def test_the_export_has_the_tables_figures(client_for, computed, owner):
    response = _get(client_for(owner), "?export=csv&table=plans")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Plan", "Team", "To date", "Revenue plan"]
    assert rows[1][0] == "December"
    assert [Decimal(value) for value in rows[1][4:7]] == [500000, 600000, 1200000]


def test_a_head_of_sales_sees_their_teams_and_the_department(
    client_for,
    computed,
    organization,
    funnel,
    make_member,
    owner,
    team,  # noqa: F811
):
    # given a team of another head with its own plan
    other_head = make_member(Role.HEAD_OF_SALES)
    north = Team.objects.create(organization=organization, name="North", head=other_head)
    seller = make_member(Role.SALESPERSON, team=north)
    theirs = PlanFactory(
        organization=organization,
        funnel=funnel,
        name="North",
        sales_team=north,
        team=[(seller, 1)],
    )
    # then the owner sees both plans, the head of sales the department's only
    assert {r.plan for r in _get(client_for(owner)).context["rows"]} == {computed, theirs}
    assert [r.plan for r in _get(client_for(team["head"])).context["rows"]] == [computed]
    assert [r.plan for r in _get(client_for(other_head)).context["rows"]] == [computed, theirs]


def test_salespeople_and_marketers_may_not_open_it(client_for, computed, team, make_member):  # noqa: F811
    assert _get(client_for(team["anna"])).status_code == 403
    assert _get(client_for(make_member(Role.MARKETER))).status_code == 403


def test_another_organizations_plans_are_never_shown(client_for, computed, owner):
    other = OrganizationFactory(name="Other")
    stranger = MembershipFactory(organization=other, role=Role.OWNER)
    PlanFactory(organization=other, funnel=FunnelFactory(organization=other))
    (row,) = _get(client_for(stranger)).context["rows"]
    assert row.plan.organization == other and row.actual_to_date is None
    assert [r.plan for r in _get(client_for(owner)).context["rows"]] == [computed]


def test_the_queries_do_not_grow_with_the_plans(
    client_for,
    computed,
    owner,
    organization,
    funnel,
    team,  # noqa: F811
    django_assert_max_num_queries,
    settings,
):
    # The page's own build is counted (the cache's answers: tests/salesplan/test_page_cache.py).
    settings.PAGE_CACHE_SECONDS = 0
    client = client_for(owner)
    _get(client)  # the session warmed up
    with CaptureQueriesContext(connection) as one:
        _get(client)
    for name in ("Second", "Third"):
        extra = PlanFactory(
            organization=organization,
            funnel=funnel,
            name=name,
            team=[(team["anna"], 0.5), (team["boris"], 0.5)],
        )
        plan_performance_refresh(plan_id=extra.pk, today=DAY)
    with django_assert_max_num_queries(10):
        response = _get(client)
    assert len(response.context["rows"]) == 3
    with CaptureQueriesContext(connection) as three:
        _get(client)
    assert len(three.captured_queries) == len(one.captured_queries)


@pytest.mark.parametrize("seed", range(20))
def test_the_pies_lookups_answer_what_a_scan_answers(seed):
    # given a random pie: owners of every role, metrics of every category, split and unsplit,
    # some metrics with two owners, some with none, splits that do not add up
    pick = random.Random(seed)
    kinds = ["stage_volume", "leads", "revenue", "new_clients", "cost_per_lead", "average_check"]
    metrics = tuple(
        MetricView(
            key=f"m{i}",
            name=f"metric {i}",
            kind=pick.choice(kinds),
            category=pick.choice(["sales", "marketing", "management"]),
            controllable=pick.random() < 0.9,
        )
        for i in range(12)
    )
    roles = ["salesperson", "head_of_sales", "marketer", "owner"]
    owners = tuple(
        OwnerView(
            key=f"o{j}",
            name=f"person {j}",
            role=pick.choice(roles),
            salesperson_kind=pick.choice(["hunter", "farmer", ""]),
        )
        for j in range(15)
    )
    assignments = []
    for metric in metrics[:10]:
        for top in range(pick.choice([1, 1, 2])):
            key = f"{metric.key}/{top}"
            assignments.append(Assignment(key, metric.key, pick.choice(owners).key))
            for child in range(pick.randrange(4)):
                share = Decimal(pick.choice(["0.25", "0.5", "0.3"]))
                assignments.append(
                    Assignment(f"{key}/{child}", metric.key, owners[child].key, share, key)
                )
    fields = {"metrics": metrics, "owners": owners, "assignments": tuple(assignments)}
    # then the pie's indexed lookups answer exactly what scanning its tuples answers
    pie = Pie(**fields)
    for metric in metrics:
        assert pie.top_level(metric.key) == [
            a for a in assignments if a.metric == metric.key and a.parent is None
        ]
        assert pie.metric(metric.key) == next(m for m in metrics if m.key == metric.key)
    for assignment in assignments:
        assert pie.children(assignment.key) == [
            a for a in assignments if a.parent == assignment.key
        ]
    for owner in owners:
        assert pie.owner(owner.key) == next(o for o in owners if o.key == owner.key)

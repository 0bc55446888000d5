"""A salesperson's day (/today/): the numbers the plan asks of them today and this week, what
it takes to be on plan, what they have done (their own stored snapshots) and their open slips.

The oracle is worked out by hand here. The December plan of DOMAIN section 1 (1 000 000 ₽,
20 deals, 50 meetings held, 63 scheduled, 252 target leads, 420 leads), Anna 60 % and Boris
40 %; December 2026 has 22 working days (31 December is a day off), Monday 14 December is the
10th and Tuesday 15 December the 11th. Anna's part (largest remainder): paid 12, meetings held
30, scheduled 38 (37.8 + the one left over), target leads 151, leads 252; each split equally
over the working days, the first days taking the units left over:
- paid 12 / 22: 1 on each of the first 12 working days → 15 Dec: 1; the week 14–18 Dec: 3;
  to date on 15 Dec 11; by the week's end 12;
- held 30 / 22: 2 on the first 8 days, then 1 → 15 Dec: 1; the week 5; to date 8 × 2 + 3 =
  19; by the week's end 16 + 6 = 22;
- leads 252 / 22: 12 on the first 10 days, then 11 → 15 Dec: 11 leads, × 1.5 calls per lead
  = 16.5 → 17 calls.
Anna's deals: 7 paid on 2–8 December, one on 14 and one on 15 December (each reached every
stage above at the same moment)."""

from datetime import date
from decimal import Decimal
from unittest import mock

import pytest

from metrics.models import PerformanceSnapshot, Slip
from salesplan.models import Role
from salesplan.plans.performance import plan_performance_refresh
from tests.factories import FunnelFactory, MembershipFactory, OrganizationFactory, PlanFactory
from tests.salesplan.plan_vs_fact import DAY, _no_queued_marks, load, won  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(make_member):
    return {
        "anna": make_member(Role.SALESPERSON, salesperson_kind="hunter"),
        "boris": make_member(Role.SALESPERSON, salesperson_kind="farmer"),
        "head": make_member(Role.HEAD_OF_SALES),
        "maria": make_member(Role.MARKETER),
    }


@pytest.fixture
def plan(organization, funnel, team):
    return PlanFactory(
        organization=organization,
        funnel=funnel,
        calls_per_lead=Decimal("1.5"),
        team=[(team["anna"], 0.6), (team["boris"], 0.4)],
    )


@pytest.fixture
def computed(organization, funnel, plan, team):
    anna = team["anna"].user.email
    rows = [won(n, anna, 1 + n) for n in range(1, 8)]  # 2–8 December
    rows += [won(20, anna, 14), won(21, anna, 15)]
    load(organization, funnel, rows, announce=False)
    assert plan_performance_refresh(plan_id=plan.pk, today=DAY) > 0
    return plan


def _today(client, day: date = DAY):
    with mock.patch("django.utils.timezone.localdate", return_value=day):
        return client.get("/today/", HTTP_ACCEPT_LANGUAGE="en")


def _lines(response) -> dict:
    (item,) = response.context["today_plans"]
    return {line.key: line for line in item.lines}


def test_todays_numbers_are_the_hand_computed_ones(client_for, computed, team):
    # when Anna opens her day on 15 December
    response = _today(client_for(team["anna"]))
    assert response.status_code == 200
    lines = _lines(response)
    paid, held = lines["stage_volume:4"], lines["stage_volume:3"]
    # then the plan's own figures for the day and the week, and to date
    assert (paid.quota_today, paid.quota_week, paid.plan_to_date) == (1, 3, 11)
    assert (held.quota_today, held.quota_week, held.plan_to_date) == (1, 5, 19)
    assert lines["calls"].quota_today == 17
    # and what she has done: 1 deal today, 2 this week, 9 in all (her stored actual to date)
    stored = PerformanceSnapshot.objects.get(
        plan=computed, metric__key="stage_volume:4", owner=team["anna"], day=DAY
    )
    assert stored.actual_to_date == 9
    assert (paid.done_today, paid.done_week, paid.actual_to_date) == (1, 2, 9)
    assert (held.done_today, held.done_week) == (1, 2)
    # and what it takes to be on plan: tonight 11 − 8 done before today = 3 deals and
    # 19 − 8 = 11 meetings; by Friday 12 − 7 done before the week = 5 deals, 22 − 7 = 15
    assert (paid.needed_today, paid.needed_week) == (3, 5)
    assert (held.needed_today, held.needed_week) == (11, 15)
    # and the page shows them
    page = response.content.decode()
    assert 'data-line="stage_volume:4"' in page and 'data-kpi="calls"' in page


def test_a_hunters_new_clients_are_their_paid_deals(client_for, computed, team):
    # given Anna, a hunter with 60 % of the plan, and Boris a farmer: the pie gives the new
    # clients to the hunters only (Anna holds all of them below the head of sales)
    response = _today(client_for(team["anna"]))
    slices = {item["key"]: item for item in response.context["slices"]}
    # then her new clients are her 12 paid deals (60 % of 20), the same figure and share as
    # her part of the paid stage, not 20 (100 %) beside 12 (60 %)
    assert slices["stage_volume:4"]["planned_value"] == 12
    assert slices["new_clients"]["planned_value"] == 12
    assert slices["new_clients"]["share"] == slices["stage_volume:4"]["share"] == Decimal("0.6")


def test_her_open_slips_link_to_the_metrics_history(client_for, computed, team):
    # given Anna's open slips as the recompute stored them
    slips = list(Slip.objects.filter(plan=computed, owner=team["anna"], closed_on=None))
    assert slips
    response = _today(client_for(team["anna"]))
    page = response.content.decode()
    # then each is listed, a personal one with a link to her own history of the metric
    for slip in slips:
        assert f'data-slip="{slip.pk}"' in page
        history = f"/plans/{computed.pk}/metrics/{slip.metric_id}/history/"
        assert history + (f"?owner={team['anna'].pk}" if slip.personal else '"') in page
    # and nobody else's slips are hers
    others = Slip.objects.filter(plan=computed, closed_on=None).exclude(owner=team["anna"])
    for other in others:
        assert f'data-slip="{other.pk}"' not in page


def test_a_head_of_sales_has_no_day_of_their_own(client_for, computed, team):
    response = _today(client_for(team["head"]))
    assert response.status_code == 200
    assert response.context["today_plans"] == []
    assert 'id="today-empty"' in response.content.decode()


def test_another_organizations_plan_is_never_shown(client_for, computed, team):
    # given another organization with its own December plan for its own salesperson
    other = OrganizationFactory(name="Other")
    seller = MembershipFactory(organization=other, role=Role.SALESPERSON)
    PlanFactory(organization=other, funnel=FunnelFactory(organization=other), team=[(seller, 1)])
    # then Anna sees only her organization's plan, and the other salesperson only theirs
    (mine,) = _today(client_for(team["anna"])).context["today_plans"]
    assert mine.plan == computed
    (theirs,) = _today(client_for(seller)).context["today_plans"]
    assert theirs.plan.organization == other
    assert all(line.done_today is None for line in theirs.lines)


def test_the_page_costs_the_same_queries_with_more_plans(
    client_for, computed, team, organization, funnel, django_assert_max_num_queries
):
    client = client_for(team["anna"])
    with django_assert_max_num_queries(14) as one:
        _today(client)
    PlanFactory(organization=organization, funnel=funnel, name="Second", team=[(team["anna"], 1)])
    PlanFactory(organization=organization, funnel=funnel, name="Third", team=[(team["anna"], 1)])
    with django_assert_max_num_queries(14) as three:
        response = _today(client)
    assert len(response.context["today_plans"]) == 3
    assert len(three.captured_queries) == len(one.captured_queries)

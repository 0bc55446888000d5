"""A metric's history (/plans/<plan>/metrics/<metric>/history/): the stored plan to date and
actual to date of every day so far, for the department or one owner, as a chart and a table
with its export; access as the plan's page (another organization's plan or metric is 404, a
salesperson reads only the metrics they hold and only their own rows); constant queries."""

import csv
import io
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics.models import PerformanceSnapshot, PlanMetric
from salesplan.models import Role
from salesplan.plans.performance import plan_performance_refresh
from tests.factories import FunnelFactory, MembershipFactory, OrganizationFactory, PlanFactory
from tests.salesplan.plan_vs_fact import DAY, _no_queued_marks, load, plan, team, won  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(organization, funnel, plan, team):  # noqa: F811
    """By 15 December: Anna won 7 deals of 50 000 ₽ (2–8 December), Boris 4."""
    anna, boris = (team[k].user.email for k in ("anna", "boris"))
    rows = [won(n, anna, 1 + n) for n in range(1, 8)]
    rows += [won(10 + n, boris, 2 + 2 * n) for n in range(1, 5)]
    load(organization, funnel, rows, announce=False)
    assert plan_performance_refresh(plan_id=plan.pk, today=DAY) > 0
    return plan


def _url(sales_plan, metric, query: str = "") -> str:
    return f"/plans/{sales_plan.pk}/metrics/{metric.pk}/history/{query}"


def _get(client, url: str):
    with mock.patch("django.utils.timezone.localdate", return_value=DAY):
        return client.get(url, HTTP_ACCEPT_LANGUAGE="en")


def test_the_departments_history_is_the_stored_rows(client_for, computed, team):  # noqa: F811
    revenue = PlanMetric.objects.get(plan=computed, key="revenue")
    response = _get(client_for(team["head"]), _url(computed, revenue))
    assert response.status_code == 200
    rows = response.context["rows"]
    # then one row per day from 1 to 15 December, each the stored department row
    assert [row.day for row in rows] == [DAY.replace(day=d) for d in range(1, 16)]
    stored = PerformanceSnapshot.objects.filter(plan=computed, metric=revenue, owner=None)
    expected = {r.day: (r.plan_to_date, r.actual_to_date) for r in stored}
    assert all((row.plan_to_date, row.actual_to_date) == expected[row.day] for row in rows)
    # worked by hand: by 8 December Anna's 7 and Boris' 3 deals (4, 6 and 8 December) =
    # 500 000 ₽; on 15 December 11 deals = 550 000 ₽ against 11 / 22 of 1 000 000 ₽
    by_day = {row.day: row for row in rows}
    assert by_day[DAY.replace(day=8)].actual_to_date == Decimal(500000)
    assert (by_day[DAY].plan_to_date, by_day[DAY].actual_to_date) == (500000, 550000)
    page = response.content.decode()
    assert 'data-plotly="chart-history"' in page and '"type": "scatter"' in page
    assert 'data-day="2026-12-15"' in page


def test_an_owners_own_rows_and_their_export(client_for, computed, team):  # noqa: F811
    paid = PlanMetric.objects.get(plan=computed, key="stage_volume:4")
    anna = team["anna"]
    url = _url(computed, paid, f"?owner={anna.pk}")
    response = _get(client_for(team["head"]), url)
    rows = response.context["rows"]
    assert response.context["owner"] == anna
    assert rows[-1].actual_to_date == 7 and rows[-1].owner_id == anna.pk
    exported = _get(client_for(team["head"]), url + "&export=csv&table=history")
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["Day", "Plan to date", "Actual to date"]
    assert lines[-1][0] == "2026-12-15" and Decimal(lines[-1][2]) == 7


def test_a_salesperson_reads_only_their_own_rows(client_for, computed, team):  # noqa: F811
    paid = PlanMetric.objects.get(plan=computed, key="stage_volume:4")
    client = client_for(team["anna"])
    # without ?owner= she gets her own rows, not the department's
    response = _get(client, _url(computed, paid))
    assert response.status_code == 200
    assert response.context["owner"] == team["anna"]
    assert {row.owner_id for row in response.context["rows"]} == {team["anna"].pk}
    # Boris' rows are not hers to read
    assert _get(client, _url(computed, paid, f"?owner={team['boris'].pk}")).status_code == 404
    # nor a metric she does not hold (the marketer's leads)
    leads = PlanMetric.objects.get(plan=computed, key="leads")
    assert _get(client, _url(computed, leads)).status_code == 404


def test_a_bad_owner_is_a_message_not_a_500(client_for, computed, team):  # noqa: F811
    revenue = PlanMetric.objects.get(plan=computed, key="revenue")
    response = _get(client_for(team["head"]), _url(computed, revenue, "?owner=nobody"))
    assert response.status_code == 400
    assert response.context["owner"] is None
    assert "is nobody in this organization" in response.content.decode()


def test_another_organizations_plan_and_people_are_404(client_for, computed, team):  # noqa: F811
    other = OrganizationFactory(name="Other")
    stranger = MembershipFactory(organization=other, role=Role.OWNER)
    revenue = PlanMetric.objects.get(plan=computed, key="revenue")
    assert _get(client_for(stranger), _url(computed, revenue)).status_code == 404
    theirs = PlanFactory(organization=other, funnel=FunnelFactory(organization=other))
    their_revenue = PlanMetric.objects.get(plan=theirs, key="revenue")
    client = client_for(team["head"])
    assert _get(client, _url(theirs, their_revenue)).status_code == 404
    # a metric of their plan under our plan's address is 404 too
    assert _get(client, _url(computed, their_revenue)).status_code == 404
    # and their owner's id shows the department, with a message
    response = _get(client, _url(computed, revenue, f"?owner={stranger.pk}"))
    assert response.status_code == 400 and response.context["owner"] is None


def test_the_queries_do_not_grow_with_the_days(client_for, computed, team):  # noqa: F811
    revenue = PlanMetric.objects.get(plan=computed, key="revenue")
    client = client_for(team["head"])
    _get(client, _url(computed, revenue))
    with CaptureQueriesContext(connection) as late:
        _get(client, _url(computed, revenue))
    with (
        mock.patch("django.utils.timezone.localdate", return_value=DAY - timedelta(days=12)),
        CaptureQueriesContext(connection) as early,
    ):
        response = client.get(_url(computed, revenue))
    assert len(response.context["rows"]) == 3
    assert len(early.captured_queries) == len(late.captured_queries) <= 10

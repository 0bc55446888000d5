"""The plans' home (a viewer's home: the current plans, one's slice of the pie) and a
salesperson's numbers for today (/today/, the salesperson's home since issue 12).

The oracle is worked out here, not by the code under test: the worked example's totals split
in half and over the working days of this month (weekdays that the `holidays` package does not
list as Russian days off, plus its transferred working Saturdays).
"""

from datetime import date, timedelta

import holidays
import pytest
from django.urls import reverse
from django.utils import timezone

from salesplan.models import Role, SalesPlan, Team
from tests.factories import PlanFactory
from tests.worked_example import REQUIRED

pytestmark = pytest.mark.django_db


def _month_of(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _working_days(start: date, end: date) -> list[date]:
    russia = holidays.country_holidays("RU", years=start.year)
    extra = set(getattr(russia, "weekend_workdays", ()) or ())
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return [d for d in days if (d.weekday() < 5 and d not in russia) or d in extra]


@pytest.fixture
def this_month_plan(organization, funnel, make_member):
    head = make_member(Role.HEAD_OF_SALES)
    marketer = make_member(Role.MARKETER)
    team = Team.objects.create(organization=organization, name="East", head=head)
    sellers = [make_member(Role.SALESPERSON, team=team) for _ in range(2)]
    today = timezone.localdate()
    start, end = _month_of(today)
    plan = PlanFactory(
        organization=organization,
        funnel=funnel,
        name="This month",
        status="active",
        sales_team=team,
        period_start=start,
        period_end=end,
        team=[(seller, "0.5") for seller in sellers],
    )
    return {"plan": plan, "head": head, "marketer": marketer, "sellers": sellers, "today": today}


def test_salesperson_sees_their_numbers_for_today(client_for, this_month_plan):
    # given a salesperson with half of this month's plan
    seller, today = this_month_plan["sellers"][0], this_month_plan["today"]
    start, end = _month_of(today)
    working = _working_days(start, end)
    # when they open their home, they land on their day
    response = client_for(seller).get(reverse("home"), follow=True)
    # then on a working day each stage they answer for (the target leads and below) is their
    # half split evenly over the working days: whole numbers, each the floor or the ceiling
    # of (half the total) / (working days)
    assert response.status_code == 200
    assert response.redirect_chain == [(reverse("today"), 302)]
    (plan,) = response.context["today_plans"]
    numbers = {line.name: line.quota_today for line in plan.lines if line.key != "calls"}
    assert set(numbers) == set(REQUIRED) - {"Lead"}
    for stage, total in REQUIRED.items():
        if stage not in numbers:
            continue
        if today not in working:
            assert numbers[stage] == 0
            continue
        halves = {total // 2, (total + 1) // 2}
        allowed = {part // len(working) for part in halves} | {
            -(-part // len(working)) for part in halves
        }
        assert numbers[stage] in allowed, (stage, numbers[stage], allowed)
    assert [line.name for line in plan.lines if line.is_key_stage] == ["Meeting held"]


def test_a_team_plan_is_not_anyone_elses_plan_for_today(client_for, this_month_plan, make_member):
    # given a salesperson outside the plan's team
    outsider = make_member(Role.SALESPERSON)
    # then the plan is not their plan for today
    page = client_for(outsider).get(reverse("today"))
    assert page.context["today_plans"] == []


def test_a_viewer_sees_current_plans_and_the_marketer_their_slice(
    client_for, this_month_plan, make_member
):
    viewer = make_member(Role.VIEWER)
    viewer_page = client_for(viewer).get(reverse("home"))
    assert [c["plan"].name for c in viewer_page.context["plans"]] == ["This month"]
    assert viewer_page.context["plans"][0]["decomposition"].deals == 20
    client_for(viewer).logout()
    marketer_page = client_for(this_month_plan["marketer"]).get(
        reverse("today"), HTTP_ACCEPT_LANGUAGE="en"
    )
    names = {item["name"] for item in marketer_page.context["slices"]}
    assert {"Leads", "Cost per lead", "Share of target leads"} <= names
    assert "Revenue" not in names
    assert marketer_page.context["today_plans"] == []


def test_a_closed_or_past_plan_is_not_current(client_for, this_month_plan, make_member):
    viewer = make_member(Role.VIEWER)
    plan = this_month_plan["plan"]
    SalesPlan.objects.filter(pk=plan.pk).update(status="closed")
    page = client_for(viewer).get(reverse("home"))
    assert page.context["plans"] == []
    SalesPlan.objects.filter(pk=plan.pk).update(
        status="active", period_start=date(2020, 1, 1), period_end=date(2020, 1, 31)
    )
    assert client_for(viewer).get(reverse("home")).context["plans"] == []

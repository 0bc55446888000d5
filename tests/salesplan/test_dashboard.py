"""The dashboard: current plans, a salesperson's numbers for today, one's slice of the pie."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from salesplan.models import Role, SalesPlan
from salesplan.plan_engine import decomposition_for
from salesplan.planning import person_daily
from tests.salesplan.test_plans_api import WORKED_STAGES

pytestmark = pytest.mark.django_db


@pytest.fixture
def this_month_plan(api_for, make_member):
    head = make_member(Role.HEAD_OF_SALES)
    marketer = make_member(Role.MARKETER)
    sellers = [make_member(Role.SALESPERSON), make_member(Role.SALESPERSON)]
    api = api_for(head)
    funnel = api.post("/api/v1/funnels/", {"name": "B2B", "stages": WORKED_STAGES}, format="json")
    today = timezone.localdate()
    start = today.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    response = api.post(
        "/api/v1/plans/",
        {
            "funnel": funnel.json()["id"],
            "name": "This month",
            "status": "active",
            "revenue_target": "1000000",
            "average_check": "50000",
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "cost_per_lead": "500",
            "team": [{"membership": s.pk, "share": "0.5"} for s in sellers],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    plan = SalesPlan.objects.get(pk=response.json()["id"])
    return {"plan": plan, "head": head, "marketer": marketer, "sellers": sellers, "today": today}


def test_salesperson_sees_their_numbers_for_today(client_for, this_month_plan):
    seller = this_month_plan["sellers"][0]
    response = client_for(seller).get(reverse("home"))
    assert response.status_code == 200
    days = person_daily(decomposition_for(this_month_plan["plan"]), str(seller.pk))
    expected = next((d.stages for d in days if d.date == this_month_plan["today"]), None)
    today_plans = response.context["today_plans"]
    if expected is None:  # today is a day off: nothing is planned for it
        assert today_plans == []
    else:
        assert today_plans[0]["stages"] == dict(expected)


def test_the_head_sees_current_plans_and_the_marketer_their_slice(client_for, this_month_plan):
    head_page = client_for(this_month_plan["head"]).get(reverse("home"))
    assert [c["plan"].name for c in head_page.context["plans"]] == ["This month"]
    assert head_page.context["plans"][0]["decomposition"].deals == 20
    client_for(this_month_plan["head"]).logout()
    marketer_page = client_for(this_month_plan["marketer"]).get(
        reverse("home"), HTTP_ACCEPT_LANGUAGE="en"
    )
    names = {item["name"] for item in marketer_page.context["slices"]}
    assert {"Leads", "Cost per lead", "Share of target leads"} <= names
    assert "Revenue" not in names
    assert marketer_page.context["today_plans"] == []


def test_a_closed_or_past_plan_is_not_current(client_for, this_month_plan):
    plan = this_month_plan["plan"]
    SalesPlan.objects.filter(pk=plan.pk).update(status="closed")
    page = client_for(this_month_plan["head"]).get(reverse("home"))
    assert page.context["plans"] == []
    SalesPlan.objects.filter(pk=plan.pk).update(
        status="active", period_start=date(2020, 1, 1), period_end=date(2020, 1, 31)
    )
    assert client_for(this_month_plan["head"]).get(reverse("home")).context["plans"] == []

"""Real Chromium against the live server: the head of sales plans a month with a live preview."""

import re
from decimal import Decimal

import pytest

from funnel.services.funnels import funnel_create
from salesplan.models import Role, SalesPlan, Team
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORKED_STAGES = [
    {"name": "Лид", "conversion": Decimal("0.6")},
    {"name": "Целевой лид", "conversion": Decimal("0.25"), "is_target_lead": True},
    {"name": "Встреча назначена", "conversion": Decimal("0.8")},
    {"name": "Встреча проведена", "conversion": Decimal("0.4"), "is_key_stage": True},
    {"name": "Оплата", "conversion": None},
]


def sign_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)  # each role has its own home


def test_live_preview_then_save_shows_the_charts(page, live_server, make_member, organization):
    # given a head of sales, two salespeople and the worked-example funnel
    head = make_member(Role.HEAD_OF_SALES)
    make_member(Role.SALESPERSON)
    make_member(Role.SALESPERSON)
    funnel = funnel_create(organization=organization, name="B2B", stages=WORKED_STAGES)
    sign_in(page, live_server.url, head.user.email)

    # when they open the new plan and type the numbers
    page.goto(f"{live_server.url}/plans/new/")
    page.evaluate("window.__samePage = true")
    page.select_option("select[name=funnel]", str(funnel.pk))
    page.fill("input[name=name]", "Декабрь")
    page.fill("input[name=period_start]", "2026-12-01")
    page.fill("input[name=average_check]", "50 000")
    page.fill("input[name=cost_per_lead]", "500")
    page.fill("input[name=revenue_target]", "1 000 000")

    # then the preview shows 20 deals and the 210 000 ₽ budget, without a page reload
    deals = page.locator("#preview-deals")
    deals.wait_for()
    page.wait_for_function("document.querySelector('#preview-deals').textContent.trim() === '20'")
    assert "210\u00a0000\u00a0₽" in page.locator("#preview-body").inner_text()
    # and it follows the revenue target as it changes
    page.fill("input[name=revenue_target]", "2 000 000")
    page.wait_for_function("document.querySelector('#preview-deals').textContent.trim() === '40'")
    assert page.evaluate("window.__samePage") is True

    # when they save
    page.fill("input[name=revenue_target]", "1 000 000")
    page.click("form#plan-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/plans/\d+/$"))

    # then the plan page draws the Plotly charts
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    assert page.locator(".js-plotly-plot").count() == 2
    plan = SalesPlan.objects.get()
    assert plan.revenue_target == Decimal("1000000")
    assert page.locator("[data-kpi=deals]").first.inner_text().strip() == "20"


def test_choosing_a_team_splits_the_plan_among_its_salespeople(
    page, live_server, make_member, organization
):
    # given a head of sales leading "East" with two salespeople, and one salesperson outside it
    head = make_member(Role.HEAD_OF_SALES)
    east = Team.objects.create(organization=organization, name="East", head=head)
    anna = make_member(Role.SALESPERSON, team=east)
    boris = make_member(Role.SALESPERSON, team=east)
    other = make_member(Role.SALESPERSON)
    funnel = funnel_create(organization=organization, name="B2B", stages=WORKED_STAGES)
    sign_in(page, live_server.url, head.user.email)
    page.goto(f"{live_server.url}/plans/new/")
    # at first the department's plan is shared by all three
    assert page.locator(f"input[name=share_{other.pk}]").is_visible()

    # when they choose the team and fill in the plan
    page.select_option("select[name=funnel]", str(funnel.pk))
    page.select_option("select[name=sales_team]", str(east.pk))
    page.fill("input[name=name]", "Восток, декабрь")
    page.fill("input[name=period_start]", "2026-12-01")
    page.fill("input[name=average_check]", "50 000")
    page.fill("input[name=revenue_target]", "1 000 000")

    # then only the team's people are listed, half each, and the outsider has no share
    assert not page.locator(f"input[name=share_{other.pk}]").is_visible()
    assert page.input_value(f"input[name=share_{other.pk}]") == ""
    assert page.input_value(f"input[name=share_{anna.pk}]") == "50"
    assert page.input_value(f"input[name=share_{boris.pk}]") == "50"
    assert page.locator("#team-total").inner_text().strip() == "100 %"

    # and the saved plan is split between the two of them only
    page.click("form#plan-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/plans/\d+/$"))
    plan = SalesPlan.objects.get()
    assert plan.sales_team == east
    assert set(plan.members.values_list("membership_id", flat=True)) == {anna.pk, boris.pk}

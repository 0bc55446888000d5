"""Real Chromium against the live server: the head of sales plans a month with a live preview."""

import re
from decimal import Decimal

import pytest

from funnel.services.funnels import funnel_create
from salesplan.models import Role, SalesPlan
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
    page.wait_for_url(f"{base_url}/")


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
    assert "210 000 ₽" in page.locator("#preview-body").inner_text()
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

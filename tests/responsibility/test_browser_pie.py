"""Real Chromium: the head of sales opens the pie, sees the sunburst and reassigns an owner."""

import pytest

from responsibility.models import Responsibility
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pie_page_draws_the_sunburst_and_reassigns(page, live_server, team, plan_id):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", team["head"].user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)  # the role's home, wherever it is
    page.goto(f"{live_server.url}/plans/{plan_id}/pie/")
    # Plotly drew the sunburst from the vendored bundle (no network here)
    page.wait_for_selector("#pie-chart .sunburstlayer path", timeout=15_000)
    assert page.locator(".findings").count() == 0  # the default pie has no findings
    # when the head of sales takes cost per lead, htmx swaps in the finding
    row = page.locator("tr[data-metric=cost_per_lead] select[name=owner]")
    row.select_option(str(team["head"].pk))
    page.wait_for_selector("li[data-code=role_mismatch]")
    # and the swapped-in pie is drawn again (static/js/charts.js after the htmx swap)
    page.wait_for_selector("#pie-chart .sunburstlayer path")
    owner_id = Responsibility.objects.get(plan_id=plan_id, metric__key="cost_per_lead").owner_id
    assert owner_id == team["head"].pk

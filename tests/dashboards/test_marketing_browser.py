"""The marketer's page in real Chromium: the charts drawn, readable at 1366 px and at a
phone's 390 px without a sideways scroll; screenshots under VAR_DIR/screenshots/."""

import pytest
from django.conf import settings

from salesplan.models import Role
from salesplan.plans.performance import plan_performance_refresh
from tests.dashboards.test_marketing import TODAY, actuals, plan  # noqa: F401
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1366, 390])
def test_the_page_draws_its_charts_and_fits(page, live_server, make_member, plan, actuals, width):  # noqa: F811
    # Given the December summary and a marketer signed in
    # (whole: in a transactional test the plan's save already ran an eager recompute of the
    # days to the real today, before the leads were written behind its back)
    marketer = make_member(Role.MARKETER)
    plan_performance_refresh(plan_id=plan.pk, today=TODAY, full=True)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", marketer.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()

    # When they open December's marketing page
    page.goto(f"{live_server.url}/marketing/?month=2026-12")

    # Then the four charts are drawn (Plotly's SVG), each beside its table
    page.wait_for_selector("#marketing-reasons .main-svg")
    for card in ("weeks", "channels", "spend", "reasons"):
        assert page.locator(f"#marketing-{card} .chart .main-svg").count() >= 1
        assert page.locator(f"#marketing-{card} table").count() == 1
    assert page.locator('[data-kpi="leads"]').inner_text() == "8"
    # and nothing makes the page scroll sideways
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    shots = settings.VAR_DIR / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"marketing-{width}.png"), full_page=True)

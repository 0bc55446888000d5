"""Real Chromium against the live server, the morning pages of issue 12: each role lands on its
home (and a phone-width screenshot of it), the worked plan read off the page, the Maven data
set imported with the progress bar reaching 100 %, the funnel dashboard's charts drawn with the
API's figures, the pie's findings, the inbox counter after a slip, the language switch.

Every page visited is saved under VAR_DIR/screenshots/ for a person to look at. The server's
"today" is 15 December 2026 (Django's clock moved to it), the day the December plan of
tests/salesplan/plan_vs_fact.py is computed to, whatever the real date."""

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from funnel.services.funnels import funnel_create
from salesplan.models import Notification, Role
from salesplan.plans.demo import DATA_DIR
from salesplan.plans.performance import plan_performance_refresh
from tests.factories import PASSWORD
from tests.funnel.jobs import STAGES as RU_STAGES
from tests.salesplan.plan_vs_fact import DAY, _no_queued_marks, load, plan, team, won  # noqa: F401
from tests.test_browser_plans import WORKED_STAGES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
# Each role's home (issue 12, "Home by role"); a viewer keeps the plans' home.
HOMES = {
    Role.HEAD_OF_SALES: "/dashboard/",
    Role.OWNER: "/overview/",
    Role.MARKETER: "/marketing/",
    Role.SALESPERSON: "/today/",
    Role.VIEWER: "/",
}


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _today_is_15_december(monkeypatch):
    """Django's clock moved back (or on) to 15 December 2026, 09:00 Moscow time, and running:
    every page's "today" and "this month" are the December plan's, whatever the real date."""
    real_now = timezone.now
    offset = real_now() - datetime(2026, 12, 15, 9, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    monkeypatch.setattr(timezone, "now", lambda: real_now() - offset)


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """The page as it is now, under VAR_DIR/screenshots/<name>.png."""
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def sign_in(page: Any, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_load_state()


def digits(text: str) -> int:
    """A figure as the page shows it ("550 000 ₽", "12") as an integer of its digits."""
    return int(re.sub(r"\D", "", text) or 0)


def sideways_overflow(page: Any) -> tuple[int, list[str]]:
    """How far the page scrolls sideways, and the first elements reaching past the window."""
    return page.evaluate(
        """() => [
            document.documentElement.scrollWidth - window.innerWidth,
            [...document.querySelectorAll("body *")]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
                    + (typeof e.className === "string" && e.className
                        ? "." + e.className.trim().split(/\\s+/).join(".") : ""))
                .slice(0, 5),
        ]"""
    )


@pytest.fixture
def everyone(make_member, team):  # noqa: F811
    """The plan's team (Anna and Boris, salespeople; the head of sales) and one member of each
    other role."""
    return {
        Role.HEAD_OF_SALES: team["head"],
        Role.SALESPERSON: team["anna"],
        Role.OWNER: make_member(Role.OWNER),
        Role.MARKETER: make_member(Role.MARKETER),
        Role.VIEWER: make_member(Role.VIEWER),
    }


@pytest.fixture
def computed(organization, funnel, plan, team, everyone):  # noqa: F811
    """By 15 December Anna won 7 deals of 50,000 ₽, Boris 4; plan vs fact stored up to then,
    as the background job would."""
    anna, boris = team["anna"].user.email, team["boris"].user.email
    rows = [won(n, anna, 1 + n) for n in range(1, 8)]
    rows += [won(10 + n, boris, 2 + 2 * n) for n in range(1, 5)]
    load(organization, funnel, rows, announce=False)
    # whole: the plan's save already stored its days with no actuals (the loads here are not
    # announced, so nothing marks the plan for a recompute)
    assert plan_performance_refresh(plan_id=plan.pk, today=DAY, full=True) > 0
    return plan


# --- each role's home ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(HOMES), ids=[str(role) for role in HOMES])
def test_each_role_lands_on_its_home(page, live_server, computed, everyone, role):
    # given the December plan computed to 15 December, and a member of the role
    member = everyone[role]
    page.set_viewport_size(DESKTOP)

    # when they sign in
    sign_in(page, live_server.url, member.user.email)

    # then they land on their role's home, which answers without an error page
    assert page.url == f"{live_server.url}{HOMES[role]}"
    assert page.locator("h1").count() >= 1
    assert page.locator("text=Server Error").count() == 0
    screenshot(page, f"home-{role}")

    # and at a phone's width the same page has no sideways scroll
    page.set_viewport_size(PHONE)
    page.reload()
    page.wait_for_load_state()
    screenshot(page, f"home-{role}-390")
    overflow, wide = sideways_overflow(page)
    assert overflow <= 0, wide

    # and the English page, for the README (docs/screenshots/ are copies of these)
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}]
    )
    page.set_viewport_size(DESKTOP)
    page.reload()
    page.wait_for_load_state()
    assert page.locator("text=Sign out").count() == 1
    screenshot(page, f"home-{role}-en", full_page=False)


# --- the worked plan ----------------------------------------------------------------------------


def test_the_worked_plan_reads_420_leads_and_a_210_000_budget(
    page, live_server, make_member, organization
):
    # given a head of sales, a salesperson and the worked example's funnel (DOMAIN section 1)
    head = make_member(Role.HEAD_OF_SALES)
    make_member(Role.SALESPERSON)
    funnel = funnel_create(organization=organization, name="B2B", stages=WORKED_STAGES)
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, head.user.email)

    # when they plan 1,000,000 ₽ at an average check of 50,000 ₽ and 500 ₽ a lead
    page.goto(f"{live_server.url}/plans/new/")
    page.select_option("select[name=funnel]", str(funnel.pk))
    page.fill("input[name=name]", "Декабрь")
    page.fill("input[name=period_start]", "2026-12-01")
    page.fill("input[name=average_check]", "50 000")
    page.fill("input[name=cost_per_lead]", "500")
    page.fill("input[name=revenue_target]", "1 000 000")
    page.wait_for_function("document.querySelector('#preview-deals')?.textContent.trim() === '20'")
    screenshot(page, "plan-new-worked-example")
    with page.expect_navigation():
        page.click("form#plan-form button[type=submit]")

    # then the saved plan's page reads 420 leads and a marketing budget of 210 000 ₽
    assert re.search(r"/plans/\d+/$", page.url)
    assert digits(page.locator('strong[data-stage="Лид"]').inner_text()) == 420
    budget = page.locator('[data-kpi="marketing-budget"]').first.inner_text()
    assert digits(budget) == 210_000 and "₽" in budget
    assert digits(page.locator('[data-kpi="deals"]').first.inner_text()) == 20
    screenshot(page, "plan-worked-example")


# --- the Maven import ---------------------------------------------------------------------------


@pytest.fixture
def in_background(settings, tmp_path):
    """Jobs in a background thread of the server (the embedded default without Redis), so
    the page shows the import running; uploads under a temporary media folder."""
    settings.TASKS_IN_THREAD = True
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_maven_import_shows_its_progress_bar_reaching_100(
    page, live_server, make_member, organization, in_background
):
    # given a head of sales and a funnel the Maven stages map onto
    head = make_member(Role.HEAD_OF_SALES)
    funnel = funnel_create(organization=organization, name="B2B", stages=RU_STAGES)
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, head.user.email)
    fragments: list[tuple[int, bool]] = []

    def progress_of(route: Any) -> None:
        # Each progress fragment htmx fetches while the job runs, the last one (which asks
        # for the whole page, done) included: its bar's value, and whether it is that last one
        response = route.fetch()
        for value in re.findall(r'aria-valuenow="(\d+)"', response.text()):
            fragments.append((int(value), "hx-refresh" in response.headers))
        route.fulfill(response=response)

    page.route(re.compile(r".*/imports/\d+/progress/$"), progress_of)

    # when they upload the Maven pipeline and import it as previewed
    page.goto(f"{live_server.url}/imports/")
    page.select_option("select[name=funnel]", str(funnel.pk))
    page.set_input_files("input[type=file]", str(DATA_DIR / "sales_pipeline.csv"))
    with page.expect_navigation():
        page.click("form.stack button[type=submit]")
    page.locator("table.sample").wait_for()
    screenshot(page, "import-maven-preview")
    with page.expect_navigation():
        page.click("form[action$='/confirm/'] button[type=submit]:not([name=check])")

    # then the page polls the progress bar until the job is done, the bar reaching 100 %
    page.wait_for_function("!document.querySelector('#import-progress')", timeout=120_000)
    assert fragments, "the import ended before its page showed a progress bar"
    percents = [percent for percent, _last in fragments]
    assert percents == sorted(percents)  # it never goes back
    assert fragments[-1] == (100, True)
    # and the page, reloaded, says the 8,800 opportunities are imported
    assert page.locator(".badge.ok").count() >= 1  # "done"
    assert "8\u00a0800" in page.locator("h1 + p").inner_text()  # no-break space
    screenshot(page, "import-maven-done")


# --- the funnel dashboard -----------------------------------------------------------------------


def test_the_funnel_dashboard_draws_its_charts_with_the_apis_figures(
    page, live_server, computed, everyone, api_for
):
    # given the December plan computed to 15 December, and what the API says of it
    body = api_for(everyone[Role.HEAD_OF_SALES]).get(f"/api/v1/plans/{computed.pk}/performance/")
    assert body.status_code == 200
    performance = body.json()
    department = {row["key"]: row for row in performance["metrics"] if row["owner"] is None}
    page.set_viewport_size(DESKTOP)

    # when the head of sales opens their home
    sign_in(page, live_server.url, everyone[Role.HEAD_OF_SALES].user.email)
    assert page.url.endswith("/dashboard/")

    # then the funnel and the burn-up are drawn (Plotly's SVG)
    page.wait_for_selector("#funnel-stages .main-svg", timeout=30_000)
    page.wait_for_selector("#funnel-burn-up .main-svg", timeout=30_000)
    # and every stage's actual beside the chart is the API's, for the same day
    assert performance["day"] == DAY.isoformat()
    rows = page.locator("#funnel-stages tr[data-stage]")
    assert rows.count() >= 2
    for index in range(rows.count()):
        row = rows.nth(index)
        key = row.get_attribute("data-stage")
        actual = row.locator("td").nth(1).inner_text()
        assert digits(actual) == int(Decimal(department[key]["actual_to_date"])), key
    # and the revenue actual is the API's: 11 deals of 50,000 ₽
    revenue = Decimal(department["revenue"]["actual_to_date"])
    assert revenue == Decimal(550_000)
    kpi = page.locator("#funnel-kpis .kpi").nth(1).locator(".value").inner_text()
    assert digits(kpi) == 550_000
    screenshot(page, "dashboard-funnel")


# --- the pie's findings --------------------------------------------------------------------------


def test_the_pie_shows_the_findings_the_api_gives(page, live_server, computed, everyone, api_for):
    # given the December plan's pie and its findings as the API gives them
    head = everyone[Role.HEAD_OF_SALES]
    pie = api_for(head).get(f"/api/v1/plans/{computed.pk}/pie/").json()
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, head.user.email)

    # when the head of sales opens the pie page
    page.goto(f"{live_server.url}/plans/{computed.pk}/pie/")

    # then the pie is drawn and the page lists the same findings, code for code
    page.wait_for_selector("#pie-chart .main-svg", timeout=30_000)
    codes = page.locator("#pie-findings li.finding").evaluate_all(
        "items => items.map(item => item.dataset.code)"
    )
    assert sorted(codes) == sorted(finding["code"] for finding in pie["findings"])
    screenshot(page, "pie")


# --- the inbox after a slip ----------------------------------------------------------------------


def test_the_inbox_counter_shows_a_slip_and_clears_once_read(
    page,
    live_server,
    organization,
    plan,  # noqa: F811
    team,  # noqa: F811
):
    # given the December plan with no actuals at all, recomputed to 15 December: its
    # metrics slipped, each owner notified once
    head = team["head"]
    plan_performance_refresh(plan_id=plan.pk, today=DAY, full=True)
    unread = Notification.objects.filter(recipient=head, read_at__isnull=True).count()
    assert unread >= 1
    page.set_viewport_size(DESKTOP)

    # when the head of sales signs in
    sign_in(page, live_server.url, head.user.email)

    # then the navigation's inbox counter shows the unread notifications
    badge = page.locator("a[href='/inbox/'] .badge")
    badge.wait_for()
    assert badge.inner_text().strip() == str(unread)
    page.goto(f"{live_server.url}/inbox/")
    screenshot(page, "inbox")

    # and once they mark everything read the counter is gone
    with page.expect_navigation():
        page.click("form[action='/inbox/read-all/'] button")
    page.wait_for_load_state("networkidle")
    assert page.locator("a[href='/inbox/'] .badge").count() == 0
    assert not Notification.objects.filter(recipient=head, read_at__isnull=True).exists()


# --- the language switch -------------------------------------------------------------------------


def test_the_dashboard_switches_to_english_and_back(page, live_server, computed, everyone):
    # given the head of sales on their dashboard, in Russian by default
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, everyone[Role.HEAD_OF_SALES].user.email)
    assert page.locator("text=Выйти").count() == 1

    # when they choose English
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")

    # then the same page speaks English
    assert page.url.endswith("/dashboard/")
    assert page.locator("text=Sign out").count() == 1
    assert page.locator("#funnel-stages h2").inner_text().strip() == "Funnel: plan vs fact"
    screenshot(page, "dashboard-funnel-en")

    # and back to Russian
    with page.expect_navigation():
        page.select_option("select[name=language]", "ru")
    assert page.locator("text=Выйти").count() == 1

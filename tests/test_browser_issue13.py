"""Real Chromium against the live server, the pages of issue 13 as their users meet them:

- KPI: the owner sets a salesperson's base bonus on the schemes page and reads it on that
  person's scorecard; a scheme whose weights add up to 90 % is refused, the error on the page
  in the browser's language (Russian, and English for an English browser);
- the client base: a salesperson searches the "do not touch" list and htmx swaps in the one
  matching company with the day it may be contacted again;
- CRM discipline: the head of sales finds the counts on their funnel dashboard, clicks one and
  lands on the discipline page listing the leads behind it.

Every page looked at is saved under VAR_DIR/screenshots/ for a person to look at."""

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from funnel.models import Task
from metrics.discipline import discipline_refresh
from salesplan.clientbase.services import client_base_refresh
from salesplan.kpis.models import BaseBonus, KpiItem
from salesplan.models import Role, Team
from tests.conftest import clear_own_cache
from tests.factories import PASSWORD, LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def _no_cached_pages():
    """The cached pages and the recomputes' debounce marks live in the cache, which outlives
    each test's database."""
    clear_own_cache()
    yield
    clear_own_cache()


def screenshot(page: Any, name: str) -> Path:
    """The page as it is now, under VAR_DIR/screenshots/<name>.png."""
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, base_url: str, email: str) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_load_state()


def person(make_member, role: str, first_name: str, **kwargs: Any):
    return make_member(role, user__first_name=first_name, user__last_name="Test", **kwargs)


# --- KPI: the base bonus and a scheme's weights ---------------------------------------------------


def test_the_owner_sets_a_base_bonus_and_sees_it_on_the_scorecard(page, live_server, make_member):
    # given the owner and Anna, a salesperson with no base bonus yet
    owner = person(make_member, Role.OWNER, "Olga")
    anna = person(make_member, Role.SALESPERSON, "Anna")
    sign_in(page, live_server.url, owner.user.email)
    page.goto(f"{live_server.url}/kpi/?member={anna.pk}")
    assert page.locator("h1").inner_text() == "KPI и премия: Anna Test"
    assert page.locator("#base-bonus").inner_text() == f"0{NBSP}₽"

    # when the owner types 60 000 as Anna's base bonus on the schemes page and saves it
    page.goto(f"{live_server.url}/kpi/schemes/")
    row = page.locator(f"#bonuses tr[data-member='{anna.pk}']")
    row.locator("input[name=amount]").fill("60 000")
    with page.expect_navigation():
        row.locator("button[type=submit]").click()

    # then the page says it is saved and Anna's row shows 60 000 ₽
    assert page.url == f"{live_server.url}/kpi/schemes/#bonuses"
    assert "Базовая премия сохранена." in page.locator(".messages").inner_text()
    row = page.locator(f"#bonuses tr[data-member='{anna.pk}']")
    assert row.locator("td.num").inner_text() == f"60{NBSP}000{NBSP}₽"
    screenshot(page, "kpi-schemes-base-bonus")

    # and following her name to her scorecard, the base bonus there is 60 000 ₽
    with page.expect_navigation():
        row.locator("th a").click()
    assert page.url == f"{live_server.url}/kpi/?member={anna.pk}"
    assert page.locator("h1").inner_text() == "KPI и премия: Anna Test"
    assert page.locator("#base-bonus").inner_text() == f"60{NBSP}000{NBSP}₽"
    assert BaseBonus.objects.get(member=anna).amount == 60_000
    screenshot(page, "kpi-scorecard-base-bonus")


def _hunter_weights() -> list[int]:
    return [
        int(weight)
        for weight in KpiItem.objects.filter(scheme__role="hunter")
        .order_by("position")
        .values_list("weight", flat=True)
    ]


def _lower_the_first_hunter_weight(page: Any, base_url: str) -> Any:
    """On the schemes page, the hunter's first KPI (new clients, 40 %) set to 30 %, saved."""
    page.goto(f"{base_url}/kpi/schemes/")
    scheme = page.locator("#scheme-hunter")
    assert scheme.locator("input[name=weight_0]").input_value() == "40"
    scheme.locator("input[name=weight_0]").fill("30")
    with page.expect_navigation() as navigation:
        scheme.locator("button[type=submit]").click()
    return navigation.value


def test_a_scheme_whose_weights_miss_100_is_refused_in_the_browsers_language(
    page, browser, live_server, make_member
):
    # given the head of sales and the hunter's default scheme: 40 + 40 + 20 = 100 %
    head = person(make_member, Role.HEAD_OF_SALES, "Hanna")
    sign_in(page, live_server.url, head.user.email)

    # when, in a Russian browser, they lower new clients' weight to 30 % and save
    response = _lower_the_first_hunter_weight(page, live_server.url)

    # then the page is refused (400) and says, in Russian, that 90 % is not 100 %
    assert response.status == 400
    errors = page.locator("#scheme-hunter ul.errorlist")
    assert "Сумма весов — 90 %, а должна быть 100 %." in errors.inner_text()
    # and the form keeps what they typed, while the stored scheme is unchanged
    assert page.locator("#scheme-hunter input[name=weight_0]").input_value() == "30"
    assert _hunter_weights() == [40, 40, 20]
    assert page.locator(".messages").count() == 0  # no "saved"
    screenshot(page, "kpi-schemes-weights-refused-ru")

    # and the same mistake in an English browser is refused in English
    context = browser.new_context(locale="en-US")
    try:
        english = context.new_page()
        english.set_default_timeout(15_000)
        sign_in(english, live_server.url, head.user.email)
        response = _lower_the_first_hunter_weight(english, live_server.url)
        assert response.status == 400
        text = english.locator("#scheme-hunter ul.errorlist").inner_text()
        assert "The weights add up to 90 %; they must add up to 100 %." in text
        screenshot(english, "kpi-schemes-weights-refused-en")
    finally:
        context.close()
    assert _hunter_weights() == [40, 40, 20]


# --- the client base: "do not touch" ------------------------------------------------------------


def test_a_salesperson_finds_a_cooling_company_in_do_not_touch(
    page, live_server, organization, funnel, make_member
):
    # given three companies that refused (cooling off for the default 90 days) and one closed
    # for good, the base recomputed
    seller = person(make_member, Role.SALESPERSON, "Anna")
    now = timezone.now()
    refused = {
        "ООО «Ромашка»": (now - timedelta(days=1), "Дорого"),
        "Вектор": (now - timedelta(days=10), "Не сейчас"),
        "Гамма": (now - timedelta(days=5), "Дорого"),
        "Acme": (now - timedelta(days=2), "ЛПР умер"),  # a permanent reason: closed for good
    }
    for company, (lost_at, reason) in refused.items():
        LeadFactory(
            funnel=funnel, company=company, lost_at=lost_at, lost_reason=reason, responsible=seller
        )
    client_base_refresh(organization_id=organization.pk)
    # Ромашка refused yesterday (the organization's local day): back in 90 days from it
    zone = ZoneInfo(organization.time_zone)
    refused_on = timezone.localtime(refused["ООО «Ромашка»"][0], zone).date()
    again = refused_on + timedelta(days=90)

    # when the salesperson opens the client base
    sign_in(page, live_server.url, seller.user.email)
    page.goto(f"{live_server.url}/client-base/")
    listed = page.locator("#do-not-touch-list tbody tr th")
    # then the three cooling companies are listed, the soonest back first; not Acme
    assert listed.all_inner_texts() == ["Вектор", "Гамма", "ООО «Ромашка»"]
    page.evaluate("window.notReloaded = true")

    # and when they type part of a name into the search
    with page.expect_response(
        lambda r: "/client-base/?" in r.url and r.request.headers.get("hx-request") == "true"
    ) as answer:
        page.locator("#do-not-touch-search").press_sequentially("ромаш")
    assert answer.value.status == 200

    # then htmx swaps the list alone (the page is not reloaded) and only Ромашка is left, with
    # the day it may be contacted again
    page.wait_for_function("document.querySelectorAll('#do-not-touch-list tbody tr').length === 1")
    assert page.evaluate("window.notReloaded") is True
    assert listed.all_inner_texts() == ["ООО «Ромашка»"]
    row = page.locator("#do-not-touch-list tbody tr")
    day = row.locator("td[data-contact-again]")
    assert day.get_attribute("data-contact-again") == again.isoformat()
    assert day.inner_text() == again.strftime("%d.%m.%Y")
    assert "Дорого" in row.inner_text()
    assert page.locator("#do-not-touch-count").inner_text() == "1 компания на охлаждении"
    screenshot(page, "client-base-do-not-touch-search")

    # and a search nothing matches says so
    with page.expect_response(lambda r: "q=" in r.url):
        page.locator("#do-not-touch-search").fill("Омега")
    page.locator("#do-not-touch-empty").wait_for()
    assert page.locator("#do-not-touch-list tbody tr").count() == 0
    assert page.evaluate("window.notReloaded") is True


# --- CRM discipline -----------------------------------------------------------------------------


def test_the_head_of_sales_clicks_a_discipline_count_through_to_its_leads(
    page, live_server, organization, funnel, make_member
):
    # given the head of sales leading Anna and Boris; Vera is in another head's team
    head = person(make_member, Role.HEAD_OF_SALES, "Hanna")
    other_head = person(make_member, Role.HEAD_OF_SALES, "Oleg")
    south = Team.objects.create(organization=organization, name="South", head=head)
    north = Team.objects.create(organization=organization, name="North", head=other_head)
    anna = person(make_member, Role.SALESPERSON, "Anna", team=south)
    boris = person(make_member, Role.SALESPERSON, "Boris", team=south)
    vera = person(make_member, Role.SALESPERSON, "Vera", team=north)
    now = timezone.now()
    # Anna: A1 and A2 have no next task; A3's next task is tomorrow, with a goal
    for external_id in ("A1", "A2"):
        LeadFactory(funnel=funnel, external_id=external_id, responsible=anna)
    a3 = LeadFactory(funnel=funnel, external_id="A3", responsible=anna)
    Task.objects.create(
        organization=organization,
        source="api",
        external_id="T-A3",
        lead=a3,
        member=anna,
        due_at=now + timedelta(days=1),
        text="Согласовать КП с финансовым директором",
    )
    # Boris: B1's task was due yesterday and only says "Позвонить" (overdue, no goal)
    b1 = LeadFactory(funnel=funnel, external_id="B1", responsible=boris)
    Task.objects.create(
        organization=organization,
        source="api",
        external_id="T-B1",
        lead=b1,
        member=boris,
        due_at=now - timedelta(days=1),
        text="Позвонить",
    )
    # Vera (not the head's): V1 has no next task
    LeadFactory(funnel=funnel, external_id="V1", responsible=vera)
    discipline_refresh(organization_id=organization.pk, now=now)

    # when the head of sales signs in: their home is the funnel dashboard
    sign_in(page, live_server.url, head.user.email)
    assert page.url == f"{live_server.url}/dashboard/"

    # then its CRM discipline card has their two people, Anna's 2 leads without a next task
    # and Boris's overdue task and task without a goal; not Vera
    card = page.locator("#discipline-table")
    card.wait_for()
    assert card.locator("h2").inner_text() == "Дисциплина в CRM"
    rows = card.locator("tbody tr")
    assert sorted(rows.evaluate_all("rows => rows.map(row => row.dataset.member)")) == sorted(
        [str(anna.pk), str(boris.pk)]
    )

    def count(member, field: str) -> str:
        return card.locator(f"tr[data-member='{member.pk}'] td[data-count='{field}']").inner_text()

    assert count(anna, "leads_without_next_task") == "2"
    assert count(anna, "overdue_tasks") == "0"
    assert count(boris, "leads_without_next_task") == "0"
    assert count(boris, "overdue_tasks") == "1"
    assert count(boris, "tasks_without_goal") == "1"
    # Anna's 2 is the worst figure of its column: marked
    worst = card.locator(
        f"tr[data-member='{anna.pk}'] td[data-count='leads_without_next_task'] .badge.bad"
    )
    assert worst.inner_text() == "2"
    screenshot(page, "dashboard-discipline-card")

    # when they click Anna's 2
    with page.expect_navigation():
        card.locator(
            f"tr[data-member='{anna.pk}'] td[data-count='leads_without_next_task'] a"
        ).click()

    # then the discipline page lists exactly her two leads without a next task
    assert page.url == (
        f"{live_server.url}/discipline/?member={anna.pk}&kind=lead_without_next_task"
    )
    assert page.locator("h1").inner_text() == "Дисциплина в CRM"
    items = page.locator("#discipline-items")
    assert items.locator("h2").inner_text() == "Лиды без следующей задачи: Anna Test"
    leads = items.locator("tbody tr").evaluate_all("rows => rows.map(row => row.dataset.lead)")
    assert sorted(leads) == ["A1", "A2"]
    assert items.locator("tbody tr th").all_inner_texts() == ["Deal A1", "Deal A2"]
    screenshot(page, "discipline-anna-leads")

    # and Boris's overdue task is one click away from his row on the same page
    with page.expect_navigation():
        page.locator(
            f"#discipline-table tr[data-member='{boris.pk}'] td[data-count='overdue_tasks'] a"
        ).click()
    items = page.locator("#discipline-items")
    assert items.locator("h2").inner_text() == "Просроченные задачи: Boris Test"
    assert items.locator("tbody tr").evaluate_all("rows => rows.map(row => row.dataset.lead)") == [
        "B1"
    ]
    assert "Позвонить" in items.locator("tbody tr").inner_text()

"""The CRM discipline page, its table on the head of sales' dashboard, and GET
/api/v1/discipline/: what the job stored, the worst marked, the offending rows 50 a page; the
owner sees everyone, a head of sales their team; another organization's person is 404, a
salesperson 403; a run of the job rebuilds the cached page."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from funnel.models import Task
from metrics.discipline import discipline_refresh
from salesplan.models import Role, Team
from tests.factories import FunnelFactory, LeadFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 10, 12, tzinfo=UTC)
DAY = date(2026, 12, 10)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def people(organization, make_member):
    """The head of sales leads South (Anna, Boris); Vera is in North, led by another head."""
    head = make_member(Role.HEAD_OF_SALES)
    other_head = make_member(Role.HEAD_OF_SALES)
    south = Team.objects.create(organization=organization, name="South", head=head)
    north = Team.objects.create(organization=organization, name="North", head=other_head)
    make = lambda name, team: make_member(  # noqa: E731
        Role.SALESPERSON, team=team, user__first_name=name, user__last_name="Test"
    )
    return {
        "head": head,
        "other_head": other_head,
        "anna": make("Anna", south),
        "boris": make("Boris", south),
        "vera": make("Vera", north),
        "owner": make_member(Role.OWNER),
    }


@pytest.fixture
def counted(organization, funnel, people):
    """Anna: 55 open leads without a next task; Boris: 1 such lead and 2 overdue tasks; Vera: 3
    such leads. Counted on 10 December."""
    for n in range(55):
        LeadFactory(funnel=funnel, external_id=f"A{n:02d}", responsible=people["anna"])
    boris_lead = LeadFactory(funnel=funnel, external_id="B0", responsible=people["boris"])
    for n in range(2):
        Task.objects.create(
            organization=organization,
            source="api",
            external_id=f"BT{n}",
            member=people["boris"],
            due_at=datetime(2026, 12, 1 + n, 9, tzinfo=UTC),
            text="Отправить КП",
        )
    LeadFactory(funnel=funnel, external_id="B1", responsible=people["boris"])
    boris_lead.delete()  # Boris: one lead (B1), two overdue tasks
    for n in range(3):
        LeadFactory(funnel=funnel, external_id=f"V{n}", responsible=people["vera"])
    discipline_refresh(organization_id=organization.pk, now=NOW)


def _browser(member) -> Client:
    browser = Client()
    browser.force_login(member.user)
    browser.get("/login/")  # the CSRF cookie: the page may be cached
    return browser


def _rows(response) -> dict[str, str]:
    """data-member → the row's HTML, from the discipline table."""
    html = response.content.decode()
    table = html[html.index('id="discipline-table"') :]
    table = table[: table.index("</table>")]
    rows = {}
    for chunk in table.split("<tr data-member=")[1:]:
        member = chunk.split('"')[1]
        rows[member] = chunk[: chunk.index("</tr>")]
    return rows


def test_the_owner_sees_everyone_and_the_worst_marked(people, counted):
    response = _browser(people["owner"]).get("/discipline/")
    assert response.status_code == 200
    rows = _rows(response)
    anna, boris, vera = (str(people[k].pk) for k in ("anna", "boris", "vera"))
    assert set(rows) == {anna, boris, vera}
    # Anna's 55 leads without a next task are the worst row and the worst of that column
    assert 'class="discipline-worst"' in rows[anna]
    assert 'class="discipline-worst"' not in rows[boris] + rows[vera]
    assert '<span class="badge bad">55</span>' in rows[anna]
    # Boris's 2 overdue tasks are the worst overdue figure
    assert '<span class="badge bad">2</span>' in rows[boris]
    assert "Department" in response.content.decode()


def test_a_head_of_sales_sees_their_team_only(people, counted):
    browser = _browser(people["head"])
    rows = _rows(browser.get("/discipline/"))
    assert set(rows) == {str(people["anna"].pk), str(people["boris"].pk)}
    # another team's person is not theirs to list: 404, as for another organization's
    assert browser.get(f"/discipline/?member={people['vera'].pk}").status_code == 404


def test_another_organizations_person_is_404(people, counted):
    stranger = MembershipFactory(
        organization=OrganizationFactory(name="Rival"), role=Role.SALESPERSON
    )
    browser = _browser(people["owner"])
    assert browser.get(f"/discipline/?member={stranger.pk}").status_code == 404
    assert browser.get("/discipline/?member=abc").status_code == 404


def test_a_salesperson_may_not_open_it(people, counted):
    assert _browser(people["anna"]).get("/discipline/").status_code == 403


def test_the_offending_leads_50_a_page(people, counted):
    browser = _browser(people["owner"])
    url = f"/discipline/?member={people['anna'].pk}&kind=lead_without_next_task"
    first = browser.get(url).content.decode()
    assert "55 items" in first
    assert first.count('<tr data-lead="A') == 50
    assert 'data-lead="A00"' in first and 'rel="next"' in first
    second = browser.get(url + "&page=2").content.decode()
    assert second.count('<tr data-lead="A') == 5


def test_the_overdue_tasks_of_a_person(people, counted):
    url = f"/discipline/?member={people['boris'].pk}&kind=overdue_task"
    page = _browser(people["head"]).get(url).content.decode()
    assert "2 items" in page and page.count("Отправить КП") == 2


def test_the_head_of_sales_dashboard_shows_the_table(people, counted):
    response = _browser(people["head"]).get("/dashboard/")
    assert response.status_code == 200
    rows = _rows(response)
    assert set(rows) == {str(people["anna"].pk), str(people["boris"].pk)}
    assert 'href="/discipline/"' in response.content.decode()


def test_a_run_of_the_job_rebuilds_the_cached_page(settings, organization, funnel, people, counted):
    settings.PAGE_CACHE_SECONDS = 600
    browser = _browser(people["owner"])
    boris = str(people["boris"].pk)
    assert "<strong>3</strong>" in _rows(browser.get("/discipline/"))[boris]
    # given two more leads of Boris's, when the job counts again
    for n in range(2, 4):
        LeadFactory(funnel=funnel, external_id=f"B{n}", responsible=people["boris"])
    discipline_refresh(organization_id=organization.pk, now=NOW)
    # then the next read shows the new count, not the cached page
    assert "<strong>5</strong>" in _rows(browser.get("/discipline/"))[boris]


def test_nothing_counted_yet_says_so(people):
    page = _browser(people["owner"]).get("/discipline/").content.decode()
    assert 'id="discipline-none"' in page


# --- the API ----------------------------------------------------------------------------------


def test_the_api_per_member(api_for, people, counted):
    response = api_for(people["owner"]).get("/api/v1/discipline/")
    assert response.status_code == 200
    body = response.json()
    assert body["day"] == "2026-12-10"
    by_member = {row["member"]: row for row in body["members"]}
    anna, boris = by_member[people["anna"].pk], by_member[people["boris"].pk]
    assert (anna["leads_without_next_task"], anna["total"], anna["is_worst"]) == (55, 55, True)
    assert (boris["leads_without_next_task"], boris["overdue_tasks"], boris["total"]) == (1, 2, 3)
    assert boris["calls_judged"] == 0
    assert body["department"]["leads_without_next_task"] == 55 + 1 + 3
    assert body["department"]["member"] is None


def test_the_api_shows_a_head_their_team(api_for, people, counted):
    body = api_for(people["head"]).get("/api/v1/discipline/?day=2026-12-10").json()
    assert {row["member"] for row in body["members"]} == {
        people["anna"].pk,
        people["boris"].pk,
    }
    assert body["department"]["leads_without_next_task"] == 56


def test_the_api_a_day_never_counted_has_no_figures(api_for, people, counted):
    body = api_for(people["owner"]).get("/api/v1/discipline/?day=2026-11-30").json()
    assert body["day"] == "2026-11-30"
    assert all(row["total"] == 0 for row in body["members"])


def test_the_api_refuses_a_bad_day_naming_it(api_for, people, counted):
    response = api_for(people["owner"]).get("/api/v1/discipline/?day=10.12.2026")
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.json()["day"][0]


def test_the_api_is_closed_to_a_salesperson(api_for, people, counted):
    assert api_for(people["anna"]).get("/api/v1/discipline/").status_code == 403


def test_the_api_of_another_organization_shows_none_of_ours(api_for, people, counted):
    outsider = MembershipFactory(organization=OrganizationFactory(name="Rival"), role=Role.OWNER)
    FunnelFactory(organization=outsider.organization)
    body = api_for(outsider).get("/api/v1/discipline/").json()
    assert body["members"] == [] and body["day"] is None


def test_the_page_costs_the_same_for_any_number_of_people(
    organization, funnel, people, counted, make_member
):
    # given the page for three salespeople, then for eight (five more, with nothing stored)
    browser = _browser(people["owner"])
    with CaptureQueriesContext(connection) as few:
        browser.get("/discipline/?nocache=1")
    for _ in range(5):
        make_member(Role.SALESPERSON)
    discipline_refresh(organization_id=organization.pk, now=NOW)
    with CaptureQueriesContext(connection) as many:
        response = browser.get("/discipline/?nocache=2")
    assert len(_rows(response)) == 3 + 5
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_capped_list_says_it_shows_the_oldest(organization, people, counted, monkeypatch):
    # given the job keeps ten rows a list
    monkeypatch.setattr("metrics.discipline.ITEMS_PER_LIST", 10)
    discipline_refresh(organization_id=organization.pk, now=NOW)
    url = f"/discipline/?member={people['anna'].pk}&kind=lead_without_next_task"
    page = _browser(people["owner"]).get(url).content.decode()
    # then the list has ten, and says they are the oldest of Anna's 55
    assert "10 items" in page and "the oldest of 55" in page
    assert page.count('<tr data-lead="A') == 10

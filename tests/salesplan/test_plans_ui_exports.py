"""Every table of the plan pages and the people page downloads as CSV and XLSX (issue 12,
salesplan.tables): the same rows the page shows, numbers as numbers. Also: the plan's page
costs the same queries however many versions the plan has (it lists the latest ones)."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import load_workbook

from metrics.models import PerformanceSnapshot
from salesplan.models import Role
from salesplan.plans import services as plan_services
from salesplan.plans.views import VERSIONS_ON_PAGE
from tests.factories import TeamFactory
from tests.salesplan.plan_vs_fact import DAY, _no_queued_marks  # noqa: F401
from tests.salesplan.test_plan_vs_fact_page import actuals, computed  # noqa: F401

pytestmark = pytest.mark.django_db


def _get(client, url: str):
    """In English: the tests do not depend on compiled Russian translations."""
    return client.get(url, HTTP_ACCEPT_LANGUAGE="en")


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _xlsx(response) -> list[list]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


@pytest.fixture
def head_client(client_for, team):
    return client_for(team["head"])


def test_the_stage_table_downloads_as_csv(head_client, plan):
    # when the stage table is downloaded
    rows = _csv(_get(head_client, f"/plans/{plan.pk}/?export=csv&table=stages"))
    # then the worked example's volumes are there: 420 leads … 20 paid, 22 working days
    assert rows[0][:4] == ["Stage", "For the period", "Per working day", "Conversion"]
    by_stage = {row[0]: row for row in rows[1:]}
    assert {name: int(row[1]) for name, row in by_stage.items()} == {
        "Lead": 420,
        "Target lead": 252,
        "Meeting scheduled": 63,
        "Meeting held": 50,
        "Paid": 20,
    }
    assert Decimal(by_stage["Lead"][2]) == Decimal("19.1")  # 420 / 22 working days
    assert Decimal(by_stage["Lead"][3]) == Decimal("0.6")
    # each week's column adds up to the month
    assert sum(int(value) for value in by_stage["Lead"][4:]) == 420


def test_the_people_table_downloads_as_xlsx_with_numbers(head_client, plan, team):
    rows = _xlsx(_get(head_client, f"/plans/{plan.pk}/?export=xlsx&table=people"))
    header, *people = rows
    assert header[:2] == ["Salesperson", "Share"]
    anna = next(row for row in people if row[0] == team["anna"].display_name)
    # Anna's 60 %: 252 of 420 leads, 12 of 20 deals, as numbers
    assert anna[1] == pytest.approx(0.6)
    assert anna[2] == 252 and anna[-1] == 12


def test_an_unknown_table_renders_the_page(head_client, plan):
    response = head_client.get(f"/plans/{plan.pk}/?export=csv&table=nothing")
    assert response.status_code == 200
    assert "<html" in response.content.decode()


def test_the_page_links_each_table(head_client, plan):
    content = head_client.get(f"/plans/{plan.pk}/").content.decode()
    for name in ("stages", "people", "versions"):
        assert f"export=xlsx&amp;table={name}" in content, name
        assert f"export=csv&amp;table={name}" in content, name


def test_versions_and_their_comparison_download(head_client, plan, team):
    # given a second version: 1 000 000 → 1 200 000
    plan_services.plan_update(
        plan=plan, user=team["head"].user, expected_version=1, revenue_target=Decimal("1200000")
    )
    versions = _csv(_get(head_client, f"/plans/{plan.pk}/?export=csv&table=versions"))
    assert [row[0] for row in versions[1:]] == ["2", "1"]
    # the comparison's outputs: 20 → 24 deals
    url = f"/plans/{plan.pk}/versions/compare/?a=1&b=2"
    diff = _csv(_get(head_client, f"{url}&export=csv&table=diff"))
    assert diff[0][1:] == ["Version 1", "Version 2", "Difference"]
    deals = next(row for row in diff[1:] if row[0] == "Deals")
    assert deals[1:] == ["20", "24", "4"]
    inputs = _csv(_get(head_client, f"{url}&export=csv&table=inputs"))
    revenue = next(row for row in inputs[1:] if row[0] == "Revenue target")
    assert revenue[1:] == ["₽1,000,000", "₽1,200,000"]
    # one version's own page exports its tables too
    stages = _csv(_get(head_client, f"/plans/{plan.pk}/versions/2/?export=csv&table=stages"))
    assert next(row for row in stages if row[0] == "Paid")[1] == "24"


def test_plan_list_downloads(head_client, plan):
    rows = _csv(_get(head_client, "/plans/?export=csv&table=plans"))
    assert len(rows) == 2
    assert rows[1][0] == "December" and rows[1][4] == "1000000.00" and rows[1][5] == "20"


# --- plan vs fact -----------------------------------------------------------------------------


def test_the_fact_tab_tables_download(head_client, computed):  # noqa: F811
    plan = computed
    query = f"/plans/{plan.pk}/?tab=fact&date={DAY}"
    # the department's metrics: revenue's plan to date and actual as the job stored them
    revenue = PerformanceSnapshot.objects.get(plan=plan, metric__key="revenue", owner=None, day=DAY)
    department = _csv(_get(head_client, f"{query}&export=csv&table=department"))
    with translation.override("en"):
        name = revenue.metric.display_name
    row = next(row for row in department[1:] if row[0] == name)
    assert Decimal(row[3]) == revenue.plan_to_date == Decimal("500000")
    assert Decimal(row[4]) == revenue.actual_to_date == Decimal("600000")
    # each salesperson's rows: one per person and metric they hold
    people = _csv(_get(head_client, f"{query}&export=csv&table=fact-people"))
    stored = PerformanceSnapshot.objects.filter(plan=plan, day=DAY, owner__isnull=False).count()
    assert len(people) - 1 == stored
    # the attribution: the owners' contributions add up to the gap
    attribution = _csv(_get(head_client, f"{query}&export=csv&table=attribution"))
    page = _get(head_client, query)
    gap = page.context["attribution"]["gap"]
    assert sum(Decimal(row[3]) for row in attribution[1:] if row[2] == "") == gap
    # the open slips: the same rows as the page
    slips = _csv(_get(head_client, f"{query}&export=csv&table=slips"))
    assert len(slips) - 1 == len(page.context["slips"])


# --- the people page -----------------------------------------------------------------------------


def test_the_people_page_tables_download(client_for, organization, owner, team):
    TeamFactory(organization=organization, name="North", head=team["head"])
    client = client_for(owner)
    people = _csv(_get(client, "/people/?export=csv&table=people"))
    emails = {row[1] for row in people[1:]}
    assert emails == {owner.user.email, *(member.user.email for member in team.values())}
    teams = _csv(_get(client, "/people/?export=csv&table=teams"))
    assert teams[1] == ["North", team["head"].display_name, "0"]
    content = client.get("/people/").content.decode()
    assert "export=xlsx&amp;table=people" in content and "export=csv&amp;table=teams" in content


def test_a_viewer_downloads_what_they_read(client_for, make_member, plan):
    viewer = client_for(make_member(Role.VIEWER))
    rows = _csv(_get(viewer, f"/plans/{plan.pk}/?export=csv&table=stages"))
    assert len(rows) == 6


# --- the plan's page does not grow with its versions ---------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def test_the_plan_page_lists_the_latest_versions_at_a_constant_cost(head_client, plan, team):
    url = f"/plans/{plan.pk}/"
    one_version = _queries(head_client, url)
    # given 29 more saves
    for number in range(1, 30):
        plan = plan_services.plan_update(
            plan=plan,
            user=team["head"].user,
            expected_version=number,
            revenue_target=Decimal(1000000 + number * 1000),
        )
    # then the page costs the same and lists the latest versions only
    response = head_client.get(url)
    assert [item["version"].number for item in response.context["versions"]] == list(
        range(30, 30 - VERSIONS_ON_PAGE, -1)
    )
    assert response.context["older_versions"] == 30 - VERSIONS_ON_PAGE
    assert _queries(head_client, url) == one_version


def test_a_plan_name_a_sheet_title_may_not_hold_still_exports(head_client, plan):
    # given a name with the characters Excel refuses in a sheet's title
    plan.name = "Q1/2027: [план]?"
    plan.save(update_fields=["name"])
    rows = _xlsx(_get(head_client, f"/plans/{plan.pk}/?export=xlsx&table=stages"))
    assert rows[1][0] == "Lead"

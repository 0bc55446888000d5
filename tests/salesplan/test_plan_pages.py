"""The plan, funnel, product and calendar pages, through the browser-like test client."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from funnel.models import Funnel
from salesplan.fields import normalize_number
from salesplan.models import CalendarDay, Product, Role, SalesPlan
from salesplan.planning.calendar import period_end
from salesplan.plans import services as plan_services
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

# Russian pages group digits with a no-break space; the assertions read them as spaces.
NBSP = "\u00a0"


@pytest.fixture
def salespeople(make_member):
    return [make_member(Role.SALESPERSON), make_member(Role.SALESPERSON)]


@pytest.fixture
def owner_client(client_for, owner):
    return client_for(owner)


def form_data(funnel, salespeople, **changes) -> dict[str, str]:
    """The plan form as a head of sales fills it in: money the Russian way, shares in %."""
    data = {
        "funnel": str(funnel.pk),
        "name": "Декабрь",
        "status": "active",
        "period_kind": "month",
        "period_start": "2026-12-01",
        "period_end": "",
        "revenue_target": "1 000 000",
        "average_check": "50 000",
        "cost_per_lead": "500",
        **{f"share_{person.pk}": "50" for person in salespeople},
    }
    data.update(changes)
    return data


@pytest.fixture
def plan(organization, owner, funnel, salespeople) -> SalesPlan:
    """The worked example, saved twice (revenue 1 000 000 → 1 200 000)."""
    team = [plan_services.TeamShare(person, Decimal("0.5")) for person in salespeople]
    created = plan_services.plan_create(
        organization=organization,
        user=owner.user,
        funnel=funnel,
        team=team,
        name="December",
        period_kind="month",
        period_start=date(2026, 12, 1),
        period_end=date(2026, 12, 31),
        revenue_target=Decimal("1000000"),
        average_check=Decimal("50000"),
        cost_per_lead=Decimal("500"),
    )
    return plan_services.plan_update(
        plan=created, user=owner.user, expected_version=1, revenue_target=Decimal("1200000")
    )


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_page_renders_for_an_owner(owner_client, plan, funnel, language):
    # given a saved plan with two versions, and a funnel
    urls = [
        "/plans/",
        "/plans/new/",
        f"/plans/{plan.pk}/",
        f"/plans/{plan.pk}/edit/",
        f"/plans/{plan.pk}/versions/1/",
        f"/plans/{plan.pk}/versions/compare/?a=1&b=2",
        "/funnels/",
        "/funnels/new/",
        f"/funnels/{funnel.pk}/edit/",
        "/settings/products/",
        "/settings/calendar/",
    ]
    for url in urls:
        # when
        response = owner_client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        # then
        assert response.status_code == 200, url


def test_plan_list_shows_the_verdict_and_the_new_button(owner_client, plan):
    response = owner_client.get("/plans/")
    content = response.content.decode().replace(NBSP, " ")
    assert "December" in content
    # no history and no norms: nothing to check the plan against, so no green "realistic"
    assert "verdict-not_assessed" in content and "verdict-realistic" not in content
    assert "Не оценён" in content
    assert "/plans/new/" in content


def test_plan_is_created_through_the_form_with_russian_numbers(owner_client, funnel, salespeople):
    # given the worked example typed the Russian way
    data = form_data(funnel, salespeople)
    # when
    response = owner_client.post("/plans/new/", data)
    # then it is saved as typed: money exact, shares as fractions, the period end filled in
    assert response.status_code == 302, response.context["form"].errors
    plan = SalesPlan.objects.get()
    assert response["Location"] == f"/plans/{plan.pk}/"
    assert plan.revenue_target == Decimal("1000000")
    assert plan.period_end == date(2026, 12, 31)
    assert sorted(m.share for m in plan.members.all()) == [Decimal("0.5"), Decimal("0.5")]
    # and the detail page shows 20 deals, 420 leads and the 210 000 ₽ budget
    content = owner_client.get(response["Location"]).content.decode().replace(NBSP, " ")
    assert 'data-kpi="deals">20<' in content
    assert 'data-stage="Lead">420<' in content
    assert "210 000 ₽" in content
    assert 'data-plotly="chart-funnel"' in content
    assert "salesplan.min.js" in content  # the partial bundle (static/vendor/README.md)


def test_money_with_a_comma_and_kopecks_is_accepted(owner_client, funnel, salespeople):
    data = form_data(funnel, salespeople, revenue_target="1000000,50", cost_per_lead="500,00")
    response = owner_client.post("/plans/new/", data)
    assert response.status_code == 302
    assert SalesPlan.objects.get().revenue_target == Decimal("1000000.50")


def test_preview_fragment_shows_the_worked_example(owner_client, funnel, salespeople):
    # when the form is posted to the preview as the user types
    response = owner_client.post(
        "/plans/preview/", form_data(funnel, salespeople), HTTP_HX_REQUEST="true"
    )
    # then the fragment (no page around it) shows the same numbers, and nothing is saved
    content = response.content.decode().replace(NBSP, " ")
    assert response.status_code == 200
    assert "<html" not in content
    assert 'data-kpi="deals">20<' in content
    assert 'data-stage="Lead">420<' in content
    assert "210 000 ₽" in content
    assert not SalesPlan.objects.exists()


def test_preview_waits_for_the_revenue_target(owner_client, funnel, salespeople):
    data = form_data(funnel, salespeople, revenue_target="")
    response = owner_client.post("/plans/preview/", data)
    assert response.status_code == 200
    assert "data-kpi" not in response.content.decode().replace(NBSP, " ")


def test_preview_lists_what_to_fix(owner_client, funnel, salespeople):
    data = form_data(funnel, salespeople, average_check="0")
    response = owner_client.post("/plans/preview/", data, HTTP_ACCEPT_LANGUAGE="en")
    content = response.content.decode().replace(NBSP, " ")
    assert "Average check: Must be greater than zero." in content


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"average_check": "0"}, "average_check"),
        ({"revenue_target": "много"}, "revenue_target"),
        ({"revenue_target": "-5"}, "revenue_target"),
        ({"period_end": "2026-11-01"}, "period_end"),
    ],
)
def test_bad_numbers_are_shown_next_to_their_field(
    owner_client, funnel, salespeople, changes, field
):
    # when
    response = owner_client.post("/plans/new/", form_data(funnel, salespeople, **changes))
    # then the form comes back with the error on that field, and nothing is written
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not SalesPlan.objects.exists()


def test_shares_must_add_up_to_100_percent(owner_client, funnel, salespeople):
    second = salespeople[1]
    data = form_data(funnel, salespeople, **{f"share_{second.pk}": "40"})
    response = owner_client.post("/plans/new/", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    form = response.context["form"]
    assert form.section_errors["team"] == ["Team shares must add up to exactly 1 (100 %)."]
    assert "Team shares must add up" in response.content.decode().replace(NBSP, " ")
    assert not SalesPlan.objects.exists()


def test_errors_come_in_russian_by_default(owner_client, funnel, salespeople):
    response = owner_client.post("/plans/new/", form_data(funnel, salespeople, average_check="0"))
    assert response.context["form"].errors["average_check"] == ["Значение должно быть больше нуля."]


def test_head_of_sales_is_not_offered_a_share(owner_client, funnel, salespeople, make_member):
    head = make_member(Role.HEAD_OF_SALES)
    response = owner_client.get("/plans/new/")
    form = response.context["form"]
    assert f"share_{head.pk}" not in form.fields
    assert {f"share_{p.pk}" for p in salespeople} <= set(form.fields)
    # pre-filled with equal shares
    assert form.fields[f"share_{salespeople[0].pk}"].initial == Decimal("0.5")
    assert f'name="share_{salespeople[0].pk}" value="50"' in response.content.decode().replace(
        NBSP, " "
    )


def test_quarter_plan_gets_its_end_and_seasonality(owner_client, funnel, salespeople):
    data = form_data(
        funnel,
        salespeople,
        period_kind="quarter",
        period_start="2027-01-01",
        season_0="1",
        season_1="1",
        season_2="2",
    )
    response = owner_client.post("/plans/new/", data)
    assert response.status_code == 302, response.context["form"].errors
    plan = SalesPlan.objects.get()
    assert plan.period_end == date(2027, 3, 31)
    assert plan.seasonality == {"2027-01-01": "1", "2027-02-01": "1", "2027-03-01": "2"}


def test_a_missing_month_weight_is_shown_on_that_month(owner_client, funnel, salespeople):
    data = form_data(
        funnel, salespeople, period_kind="quarter", period_start="2027-01-01", season_0="1"
    )
    response = owner_client.post("/plans/new/", data)
    assert response.status_code == 200
    assert "season_1" in response.context["form"].errors
    assert not SalesPlan.objects.exists()


def test_unrealistic_plan_says_why(owner_client, funnel, salespeople):
    # given one meeting a day per salesperson at most, while the plan needs more
    data = form_data(funnel, salespeople, max_meetings_per_day="1", revenue_target="3 000 000")
    # when
    response = owner_client.post("/plans/new/", data, HTTP_ACCEPT_LANGUAGE="en")
    # then the plan is saved, and its page says it is unrealistic and why, in red
    assert response.status_code == 302
    content = (
        owner_client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
        .replace(NBSP, " ")
    )
    assert "verdict-unrealistic" in content
    assert 'class="finding bad"' in content
    assert "key-stage meetings per working day" in content


def test_edit_form_shows_the_saved_numbers(owner_client, plan, salespeople):
    response = owner_client.get(f"/plans/{plan.pk}/edit/")
    content = response.content.decode().replace(NBSP, " ")
    assert 'value="1 200 000"' in content
    assert f'name="share_{salespeople[0].pk}"' in content
    assert 'name="version" value="2"' in content


def test_edit_saves_a_new_version(owner_client, plan, funnel, salespeople):
    data = form_data(funnel, salespeople, revenue_target="1 500 000", version="2")
    response = owner_client.post(f"/plans/{plan.pk}/edit/", data)
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.version == 3
    assert plan.revenue_target == Decimal("1500000")
    detail = owner_client.get(f"/plans/{plan.pk}/").content.decode().replace(NBSP, " ")
    assert f'/plans/{plan.pk}/versions/3/"' in detail


def test_a_stale_edit_shows_the_conflict_and_overwrites_nothing(
    owner_client, plan, funnel, salespeople, owner
):
    # given someone saved version 3 after this editor opened version 2
    plan_services.plan_update(
        plan=plan, user=owner.user, expected_version=2, revenue_target=Decimal("2000000")
    )
    # when the editor saves what they saw
    data = form_data(funnel, salespeople, revenue_target="900 000", version="2")
    response = owner_client.post(f"/plans/{plan.pk}/edit/", data, HTTP_ACCEPT_LANGUAGE="en")
    # then they are told, and the other save stands
    assert response.status_code == 200
    assert "Someone else saved this plan" in response.content.decode().replace(NBSP, " ")
    assert "Reload the plan" in response.content.decode().replace(NBSP, " ")
    plan.refresh_from_db()
    assert plan.version == 3
    assert plan.revenue_target == Decimal("2000000")


def test_what_if_shows_the_difference(owner_client, plan):
    # given the 1 200 000 plan (24 deals); when meeting held→paid goes +10 pp and check -10 %
    response = owner_client.post(
        f"/plans/{plan.pk}/what-if/",
        {"stage": "Meeting held", "conversion_pp": "10", "average_check_pct": "-10"},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    # then 1 200 000 / 45 000 → 27 deals
    assert response.status_code == 200
    rows = {row["label"]: row for row in response.context["what_if"]["diff"]}
    assert (rows["Deals"]["before"], rows["Deals"]["after"]) == (24, 27)
    assert "<html" not in response.content.decode().replace(NBSP, " ")
    assert not SalesPlan.objects.filter(version__gt=2).exists()


def test_what_if_plus_one_salesperson(owner_client, plan):
    response = owner_client.post(
        f"/plans/{plan.pk}/what-if/", {"add_salesperson": "on"}, HTTP_HX_REQUEST="true"
    )
    assert len(response.context["what_if"]["view"]["d"].by_person) == 3


def test_what_if_error_lands_on_the_lever(owner_client, plan):
    response = owner_client.post(
        f"/plans/{plan.pk}/what-if/",
        {"stage": "Meeting held", "conversion_pp": "80"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "conversion_pp" in response.context["what_if_form"].errors


def test_what_if_without_htmx_renders_the_page(owner_client, plan):
    response = owner_client.post(f"/plans/{plan.pk}/what-if/", {"revenue_target_pct": "10"})
    assert response.status_code == 200
    assert "<html" in response.content.decode().replace(NBSP, " ")
    assert response.context["what_if"]["view"]["d"].deals == 27


def test_version_and_compare_pages(owner_client, plan):
    version = owner_client.get(f"/plans/{plan.pk}/versions/1/")
    assert version.context["view"]["d"].deals == 20
    compare = owner_client.get(
        f"/plans/{plan.pk}/versions/compare/?a=1&b=2", HTTP_ACCEPT_LANGUAGE="en"
    )
    inputs = {row["label"]: row for row in compare.context["inputs"]}
    assert inputs["Revenue target"]["a"] == "₽1,000,000"
    assert inputs["Revenue target"]["b"] == "₽1,200,000"
    deals = compare.context["diff"][0]
    assert (deals["before"], deals["after"], deals["delta"]) == (20, 24, 4)
    assert owner_client.get(f"/plans/{plan.pk}/versions/9/").status_code == 404


def test_viewer_reads_but_cannot_edit(client_for, make_member, plan, funnel, salespeople):
    viewer = client_for(make_member(Role.VIEWER))
    assert viewer.get("/plans/").status_code == 200
    assert viewer.get(f"/plans/{plan.pk}/").status_code == 200
    assert "/plans/new/" not in viewer.get("/plans/").content.decode().replace(NBSP, " ")
    for url in ("/plans/new/", f"/plans/{plan.pk}/edit/", "/funnels/new/"):
        assert viewer.get(url).status_code == 403, url
    data = form_data(funnel, salespeople, version="2")
    for url in ("/plans/new/", f"/plans/{plan.pk}/edit/", "/plans/preview/"):
        assert viewer.post(url, data).status_code == 403, url
    assert viewer.post("/funnels/new/", {"name": "X"}).status_code == 403
    assert viewer.post("/settings/products/", {"name": "X", "price": "1"}).status_code == 403
    assert viewer.post("/settings/calendar/", {"date": "2026-12-31"}).status_code == 403
    assert SalesPlan.objects.get().version == 2
    assert not Product.objects.exists()


def test_another_organizations_objects_are_404(client_for, plan, funnel):
    outsider = client_for(MembershipFactory(organization=OrganizationFactory(), role=Role.OWNER))
    for url in (
        f"/plans/{plan.pk}/",
        f"/plans/{plan.pk}/edit/",
        f"/plans/{plan.pk}/versions/1/",
        f"/plans/{plan.pk}/versions/compare/?a=1&b=2",
        f"/funnels/{funnel.pk}/edit/",
    ):
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(f"/plans/{plan.pk}/what-if/", {}).status_code == 404
    assert "December" not in outsider.get("/plans/").content.decode().replace(NBSP, " ")


# --- funnels ------------------------------------------------------------------------------------


def stage_rows(rows: list[tuple[str, str, bool, bool]], extra_blank: int = 2) -> dict[str, str]:
    data = {"stages-TOTAL_FORMS": str(len(rows) + extra_blank), "stages-INITIAL_FORMS": "0"}
    for index, (name, conversion, key, target) in enumerate(rows):
        data[f"stages-{index}-name"] = name
        data[f"stages-{index}-conversion"] = conversion
        if key:
            data[f"stages-{index}-is_key_stage"] = "on"
        if target:
            data[f"stages-{index}-is_target_lead"] = "on"
    return data


WORKED_ROWS = [
    ("Лид", "60", False, False),
    ("Целевой лид", "25", False, True),
    ("Встреча назначена", "80", False, False),
    ("Встреча проведена", "40", True, False),
    ("Оплата", "", False, False),
]


def test_funnel_is_created_with_conversions_in_percent(owner_client, organization):
    # when the stages are typed in percent, with two blank rows under them
    response = owner_client.post("/funnels/new/", {"name": "B2B", **stage_rows(WORKED_ROWS)})
    # then
    assert response.status_code == 302
    funnel = Funnel.objects.get(organization=organization)
    stages = list(funnel.stages.order_by("position"))
    assert [s.name for s in stages] == [row[0] for row in WORKED_ROWS]
    assert [s.conversion for s in stages] == [
        Decimal("0.6"),
        Decimal("0.25"),
        Decimal("0.8"),
        Decimal("0.4"),
        None,
    ]
    assert [s.is_key_stage for s in stages] == [False, False, False, True, False]
    listing = owner_client.get("/funnels/").content.decode().replace(NBSP, " ")
    assert "60 %" in listing and "Встреча проведена" in listing


def test_conversion_above_100_percent_is_shown_on_its_row(owner_client):
    rows = [("Лид", "150", False, False), *WORKED_ROWS[1:]]
    response = owner_client.post("/funnels/new/", {"name": "B2B", **stage_rows(rows)})
    assert response.status_code == 200
    formset = response.context["formset"]
    assert "conversion" in formset.forms[0].errors
    assert not Funnel.objects.exists()


def test_engine_stage_errors_land_on_the_row(owner_client):
    rows = [*WORKED_ROWS[:4], ("Оплата", "50", False, False)]  # the last stage has no next one
    response = owner_client.post("/funnels/new/", {"name": "B2B", **stage_rows(rows)})
    assert response.status_code == 200
    assert "conversion" in response.context["formset"].forms[4].errors
    assert not Funnel.objects.exists()


def test_funnel_without_a_key_stage_is_refused(owner_client):
    rows = [(name, conv, False, target) for name, conv, _key, target in WORKED_ROWS]
    response = owner_client.post(
        "/funnels/new/", {"name": "B2B", **stage_rows(rows)}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert response.context["stage_errors"] == ["Mark one stage as the key stage."]
    assert not Funnel.objects.exists()


def test_funnel_name_must_be_unique(owner_client, funnel):
    response = owner_client.post("/funnels/new/", {"name": "B2B", **stage_rows(WORKED_ROWS)})
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert Funnel.objects.count() == 1


def test_funnel_edit_replaces_the_stages(owner_client, funnel):
    rows = [
        ("Лид", "50", False, False),
        ("Встреча", "30", True, False),
        ("Оплата", "", False, False),
    ]
    response = owner_client.post(
        f"/funnels/{funnel.pk}/edit/", {"name": "B2B короткая", **stage_rows(rows)}
    )
    assert response.status_code == 302
    funnel.refresh_from_db()
    assert funnel.name == "B2B короткая"
    assert [s.name for s in funnel.stages.order_by("position")] == ["Лид", "Встреча", "Оплата"]


# --- products and the calendar -------------------------------------------------------------


def test_product_is_added(owner_client, organization):
    response = owner_client.post(
        "/settings/products/", {"name": "Basic", "price": "40 000", "margin_pct": "30,5"}
    )
    assert response.status_code == 302
    product = Product.objects.get(organization=organization)
    assert (product.price, product.margin_pct) == (Decimal("40000"), Decimal("30.5"))
    assert "40 000 ₽" in owner_client.get("/settings/products/").content.decode().replace(NBSP, " ")
    again = owner_client.post("/settings/products/", {"name": "Basic", "price": "1"})
    assert "name" in again.context["form"].errors


def test_calendar_day_changes_the_working_day_count(owner_client, organization):
    # given December 2026: 31 December is a transferred day off in Russia
    before = owner_client.get("/settings/calendar/?month=2026-12").context["working_days"]
    # when the organization works that day
    response = owner_client.post(
        "/settings/calendar/", {"date": "2026-12-31", "kind": "working", "note": "Работаем"}
    )
    # then the month has one more working day
    assert response.status_code == 302
    after = owner_client.get("/settings/calendar/?month=2026-12").context["working_days"]
    assert after == before + 1
    # and deleting the day brings the count back
    day = CalendarDay.objects.get(organization=organization)
    assert owner_client.post(f"/settings/calendar/{day.pk}/delete/").status_code == 302
    assert owner_client.get("/settings/calendar/?month=2026-12").context["working_days"] == before


def test_calendar_day_of_another_organization_is_404(client_for, make_member):
    other = OrganizationFactory()
    day = CalendarDay.objects.create(organization=other, date=date(2026, 12, 31), is_working=True)
    response = client_for(make_member(Role.OWNER)).post(f"/settings/calendar/{day.pk}/delete/")
    assert response.status_code == 404
    assert CalendarDay.objects.filter(pk=day.pk).exists()


def test_navigation_lists_funnels_and_settings(owner_client):
    content = owner_client.get("/plans/").content.decode().replace(NBSP, " ")
    assert 'href="/funnels/"' in content
    assert 'href="/settings/"' in content


# --- the forgiving number field (no database) --------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "language", "read"),
    [
        ("1 000 000", "ru", "1000000"),
        ("1\u00a0000\u00a0000 ₽", "ru", "1000000"),
        ("1000000,50", "ru", "1000000.50"),
        ("1 000 000,5", "ru", "1000000.5"),
        ("1,000,000.5", "en", "1000000.5"),
        ("1,000", "en", "1000"),
        ("1.5", "ru", "1.5"),
        ("40 %", "ru", "40"),
        ("\u22125", "ru", "-5"),
    ],
)
def test_numbers_typed_the_russian_way(typed, language, read):
    with translation.override(language):
        assert normalize_number(typed) == read


@pytest.mark.parametrize(
    ("kind", "start", "end"),
    [
        ("month", date(2026, 2, 1), date(2026, 2, 28)),
        ("quarter", date(2026, 2, 1), date(2026, 3, 31)),
        ("quarter", date(2026, 10, 1), date(2026, 12, 31)),
        ("year", date(2027, 1, 1), date(2027, 12, 31)),
    ],
)
def test_period_end_follows_the_kind(kind, start, end):
    assert period_end(kind, start) == end

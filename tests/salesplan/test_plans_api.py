"""Funnels, plans, preview, decomposition, what-if and versions through the HTTP API."""

from decimal import Decimal

import pytest

from salesplan.models import PlanVersion, Role, SalesPlan, Team
from tests.factories import MembershipFactory, OrganizationFactory
from tests.worked_example import DECEMBER, WORKED_STAGES

pytestmark = pytest.mark.django_db


@pytest.fixture
def salespeople(make_member):
    return [make_member(Role.SALESPERSON), make_member(Role.SALESPERSON)]


def test_preview_of_the_worked_example(api):
    # given the DOMAIN section 1 example with two salespeople at half each
    body = {
        **DECEMBER,
        "stages": WORKED_STAGES,
        "team": [{"name": "Anna", "share": "0.5"}, {"name": "Boris", "share": "0.5"}],
    }
    # when
    response = api.post("/api/v1/plans/preview/", body, format="json")
    # then
    assert response.status_code == 200, response.json()
    plan = response.json()
    assert plan["deals"] == 20
    assert [(s["name"], s["required"]) for s in plan["stages"]] == [
        ("Lead", 420),
        ("Target lead", 252),
        ("Meeting scheduled", 63),
        ("Meeting held", 50),
        ("Paid", 20),
    ]
    assert Decimal(plan["marketing_budget"]) == Decimal("210000")
    assert sum(day["stages"]["Lead"] for day in plan["by_day"]) == 420
    assert all(
        day["stages"]["Lead"] == 0 for day in plan["by_day"] if day["date"] == "2026-12-31"
    )  # a transferred day off in the Russian calendar
    assert sum(week["stages"]["Paid"] for week in plan["by_week"]) == 20
    assert [p["name"] for p in plan["by_person"]] == ["Anna", "Boris"]
    assert sum(p["stages"]["Meeting held"] for p in plan["by_person"]) == 50
    assert plan["verdict"] == "not_assessed"  # no history, no norms: nothing to check against
    assert isinstance(plan["warnings"], list)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"average_check": "0"}, "average_check"),
        ({"average_check": "-5"}, "average_check"),
        ({"revenue_target": "-1"}, "revenue_target"),
        ({"period_end": "2026-11-01"}, "period_end"),
    ],
)
def test_preview_rejects_bad_numbers_per_field(api, change, field):
    response = api.post(
        "/api/v1/plans/preview/", {**DECEMBER, "stages": WORKED_STAGES, **change}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    ("stages", "field"),
    [
        ([{**WORKED_STAGES[0], "conversion": "0"}, *WORKED_STAGES[1:]], "stages[0].conversion"),
        ([{**WORKED_STAGES[0], "conversion": "1.5"}, *WORKED_STAGES[1:]], "stages[0].conversion"),
        ([{**s, "is_key_stage": False} for s in WORKED_STAGES], "stages"),
        ([{**s, "is_key_stage": True} for s in WORKED_STAGES], "stages"),
    ],
)
def test_preview_rejects_bad_funnels(api, stages, field):
    response = api.post("/api/v1/plans/preview/", {**DECEMBER, "stages": stages}, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_errors_come_in_the_users_language(api):
    stages = [{**s, "is_key_stage": False} for s in WORKED_STAGES]
    body = {**DECEMBER, "stages": stages}
    english = api.post("/api/v1/plans/preview/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    russian = api.post("/api/v1/plans/preview/", body, format="json", HTTP_ACCEPT_LANGUAGE="ru")
    assert english.json()["stages"] == ["Mark one stage as the key stage."]
    assert russian.json()["stages"][0] != english.json()["stages"][0]
    assert "этап" in russian.json()["stages"][0].lower()


def test_shares_must_add_up_to_one(api):
    body = {
        **DECEMBER,
        "stages": WORKED_STAGES,
        "team": [{"name": "Anna", "share": "0.5"}, {"name": "Boris", "share": "0.4"}],
    }
    response = api.post("/api/v1/plans/preview/", body, format="json")
    assert response.status_code == 400
    assert "team" in response.json()


def test_funnel_is_created_with_its_stages(api, funnel_id):
    response = api.get(f"/api/v1/funnels/{funnel_id}/")
    assert [s["name"] for s in response.json()["stages"]] == [s["name"] for s in WORKED_STAGES]
    assert [s["is_key_stage"] for s in response.json()["stages"]] == [
        False,
        False,
        False,
        True,
        False,
    ]


def test_funnel_with_two_key_stages_is_refused_and_nothing_is_written(api):
    stages = [{**s, "is_key_stage": True} for s in WORKED_STAGES]
    response = api.post("/api/v1/funnels/", {"name": "Bad", "stages": stages}, format="json")
    assert response.status_code == 400
    assert "stages" in response.json()
    assert api.get("/api/v1/funnels/").json()["count"] == 0


def test_plan_is_saved_and_decomposed(api, funnel_id, salespeople):
    body = {
        "funnel": funnel_id,
        "name": "December",
        **DECEMBER,
        "team": [{"membership": m.pk, "share": "0.5"} for m in salespeople],
    }
    response = api.post("/api/v1/plans/", body, format="json")
    assert response.status_code == 201, response.json()
    plan_id = response.json()["id"]
    assert response["ETag"] == '"1"'
    decomposition = api.get(f"/api/v1/plans/{plan_id}/decomposition/").json()
    assert decomposition["deals"] == 20
    assert decomposition["stages"][0]["required"] == 420
    assert Decimal(decomposition["marketing_budget"]) == Decimal("210000")
    assert {p["key"] for p in decomposition["by_person"]} == {str(m.pk) for m in salespeople}
    assert PlanVersion.objects.filter(plan_id=plan_id).count() == 1


def test_head_of_sales_gets_no_share(api, funnel_id, head):
    body = {
        "funnel": funnel_id,
        "name": "December",
        **DECEMBER,
        "team": [{"membership": head.pk, "share": "1"}],
    }
    response = api.post("/api/v1/plans/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "no personal sales plan" in response.json()["team[0].membership"][0]
    assert not SalesPlan.objects.exists()


def test_a_team_plan_takes_only_its_teams_salespeople(api, funnel_id, head, make_member):
    # given the head's team "East" with Anna, and Boris in no team
    east = Team.objects.create(organization=head.organization, name="East", head=head)
    anna = make_member(Role.SALESPERSON, team=east)
    boris = make_member(Role.SALESPERSON)
    body = {"funnel": funnel_id, "name": "East", "sales_team": east.pk, **DECEMBER}
    # when the plan of East is split between Anna and Boris
    split = {
        "team": [{"membership": anna.pk, "share": "0.5"}, {"membership": boris.pk, "share": "0.5"}]
    }
    response = api.post("/api/v1/plans/", body | split, format="json", HTTP_ACCEPT_LANGUAGE="en")
    # then it is refused, naming Boris and the team, and nothing is saved
    assert response.status_code == 400
    assert response.json()["team[1].membership"] == [
        f"{boris.display_name} is not in the team East: a team's plan is split among that "
        "team's salespeople only."
    ]
    assert not SalesPlan.objects.exists()
    # and the plan of Anna alone is saved, and so is a department plan with both
    only_anna = {"team": [{"membership": anna.pk, "share": "1"}]}
    assert api.post("/api/v1/plans/", body | only_anna, format="json").status_code == 201
    department = {**body, "name": "All", "sales_team": None} | split
    assert api.post("/api/v1/plans/", department, format="json").status_code == 201


def test_member_of_another_organization_is_refused(api, funnel_id):
    stranger = MembershipFactory(organization=OrganizationFactory(), role=Role.SALESPERSON)
    body = {
        "funnel": funnel_id,
        "name": "December",
        **DECEMBER,
        "team": [{"membership": stranger.pk, "share": "1"}],
    }
    response = api.post("/api/v1/plans/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "not in your organization" in str(response.json()["team"])


def test_another_organizations_plan_is_404(api_for, api, funnel_id):
    plan_id = api.post(
        "/api/v1/plans/", {"funnel": funnel_id, "name": "D", **DECEMBER}, format="json"
    ).json()["id"]
    outsider = api_for(MembershipFactory(organization=OrganizationFactory(), role=Role.OWNER))
    for url in (
        f"/api/v1/plans/{plan_id}/",
        f"/api/v1/plans/{plan_id}/decomposition/",
        f"/api/v1/plans/{plan_id}/versions/",
        f"/api/v1/funnels/{funnel_id}/",
    ):
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(f"/api/v1/plans/{plan_id}/what-if/", {}, format="json").status_code == 404


def test_update_makes_a_version_and_a_stale_save_gets_409(api, funnel_id):
    plan = api.post(
        "/api/v1/plans/", {"funnel": funnel_id, "name": "D", **DECEMBER}, format="json"
    ).json()
    url = f"/api/v1/plans/{plan['id']}/"
    # first editor saves version 1 → 2
    first = api.patch(url, {"revenue_target": "1200000"}, format="json", HTTP_IF_MATCH='"1"')
    assert first.status_code == 200, first.json()
    assert first["ETag"] == '"2"'
    # second editor still holds version 1
    second = api.patch(url, {"revenue_target": "900000", "version": 1}, format="json")
    assert second.status_code == 409
    assert second.json()["current_version"] == 2
    assert api.get(url).json()["revenue_target"] == "1200000.00"
    versions = api.get(f"{url}versions/").json()
    assert [v["number"] for v in versions] == [2, 1]
    assert versions[0]["changes"]["revenue_target"] == ["1000000.00", "1200000.00"]
    compare = api.get(f"{url}versions/compare/?a=1&b=2").json()
    deals = next(item for item in compare["diff"] if item["field"] == "deals")
    assert (deals["before"], deals["after"]) == (20, 24)


def test_what_if_reports_every_difference(api, funnel_id, salespeople):
    plan_id = api.post(
        "/api/v1/plans/",
        {
            "funnel": funnel_id,
            "name": "D",
            **DECEMBER,
            "team": [{"membership": m.pk, "share": "0.5"} for m in salespeople],
        },
        format="json",
    ).json()["id"]
    response = api.post(
        f"/api/v1/plans/{plan_id}/what-if/",
        {"conversion_pp": {"Meeting held": "10"}, "average_check_pct": "-10"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    diff = {item["field"]: item for item in response.json()["diff"]}
    # 1,000,000 / 45,000 → 23 deals; 23 / 0.5 → 46 meetings held
    assert diff["deals"]["before"] == 20 and diff["deals"]["after"] == 23
    assert response.json()["plan"]["deals"] == 23
    more_people = api.post(
        f"/api/v1/plans/{plan_id}/what-if/", {"add_members": [{"name": "New hire"}]}, format="json"
    )
    assert len(more_people.json()["plan"]["by_person"]) == 3


def test_viewer_reads_but_cannot_write(api_for, make_member, api, funnel_id):
    viewer = api_for(make_member(Role.VIEWER))
    assert viewer.get(f"/api/v1/funnels/{funnel_id}/").status_code == 200
    response = viewer.post(
        "/api/v1/funnels/", {"name": "X", "stages": WORKED_STAGES}, format="json"
    )
    assert response.status_code == 403


def test_products_and_product_mix(api, funnel_id):
    basic = api.post("/api/v1/products/", {"name": "Basic", "price": "40000"}, format="json")
    pro = api.post("/api/v1/products/", {"name": "Pro", "price": "60000"}, format="json")
    assert basic.status_code == 201 and pro.status_code == 201
    body = {
        "funnel": funnel_id,
        "name": "Mix",
        **{k: v for k, v in DECEMBER.items() if k != "average_check"},
        "product_mix": [
            {"product": basic.json()["id"], "share": "0.5"},
            {"product": pro.json()["id"], "share": "0.5"},
        ],
    }
    response = api.post("/api/v1/plans/", body, format="json")
    assert response.status_code == 201, response.json()
    decomposition = api.get(f"/api/v1/plans/{response.json()['id']}/decomposition/").json()
    assert Decimal(decomposition["average_check"]) == Decimal("50000")
    assert decomposition["deals"] == 20


def test_organization_calendar_changes_the_working_days(api):
    body = {**DECEMBER, "stages": WORKED_STAGES}
    before = api.post("/api/v1/plans/preview/", body, format="json").json()["working_days"]
    response = api.post(
        "/api/v1/calendar-days/",
        {"date": "2026-12-31", "is_working": True, "note": "We work"},
        format="json",
    )
    assert response.status_code == 201
    after = api.post("/api/v1/plans/preview/", body, format="json").json()["working_days"]
    assert after == before + 1

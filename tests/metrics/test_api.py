"""/api/v1/metrics/ through the HTTP client with real tokens: listing by plan and category,
who sees which metrics, who may judge them (PATCH weight/controllable), and the catalog in
the caller's language. Expected keys and values are written down by hand (expected.py)."""

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from metrics.models import PlanMetric
from responsibility.models import Responsibility
from salesplan.models import Membership, Organization, Role, SalesPlan, Team
from tests.factories import OrganizationFactory, PlanFactory
from tests.metrics.expected import (
    DECEMBER_VALUES,
    DOMAIN_KINDS,
    EXTRA_KINDS,
    MANAGEMENT_KEYS,
    MARKETING_KEYS,
    SALES_KEYS,
)

pytestmark = pytest.mark.django_db

METRICS = "/api/v1/metrics/"
# The December plan of a team with a farmer: the worked example's metrics plus the farmer's.
ALL_KEYS = frozenset(DECEMBER_VALUES) | {"existing_client_revenue"}
# On the default pie the head of sales splits the sales metrics among the plan's salespeople:
# hunters take new clients, farmers the existing base (DOMAIN idea 4).
FARMER_KEYS = SALES_KEYS - {"new_clients"}
HUNTER_KEYS = SALES_KEYS - {"existing_client_revenue"}


@pytest.fixture
def east(organization: Organization, head: Membership) -> Team:
    return Team.objects.create(organization=organization, name="East", head=head)


@pytest.fixture
def people(make_member, head: Membership, east: Team) -> dict[str, Membership]:
    """The organization's first head of sales leads East; anna (a farmer) and boris (a hunter)
    sell in East."""
    return {
        "head": head,
        "owner": make_member(Role.OWNER),
        "marketer": make_member(Role.MARKETER),
        "anna": make_member(Role.SALESPERSON, team=east, salesperson_kind="farmer"),
        "boris": make_member(Role.SALESPERSON, team=east, salesperson_kind="hunter"),
        "viewer": make_member(Role.VIEWER),
    }


@pytest.fixture
def plan(
    organization: Organization, funnel, east: Team, people: dict[str, Membership]
) -> SalesPlan:
    """East's December plan (the worked example), split half and half."""
    return PlanFactory(
        organization=organization,
        funnel=funnel,
        sales_team=east,
        team=[(people["anna"], "0.5"), (people["boris"], "0.5")],
    )


def listed(api: APIClient, **params: Any) -> list[dict[str, Any]]:
    response = api.get(METRICS, params)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == len(body["results"])  # one page
    return body["results"]


def keys(api: APIClient, **params: Any) -> set[str]:
    return {metric["key"] for metric in listed(api, **params)}


def metric(plan: SalesPlan, key: str) -> PlanMetric:
    return PlanMetric.objects.get(plan=plan, key=key)


def judgement(metric: PlanMetric) -> tuple[bool, int, Decimal | None]:
    metric.refresh_from_db()
    return metric.controllable, metric.weight, metric.planned_value


# --- listing --------------------------------------------------------------------------------


def test_the_list_by_plan_has_that_plans_metrics_with_their_planned_values(
    api_for, organization, funnel, people, plan
):
    # given a second plan of the department in the same organization
    other = PlanFactory(organization=organization, funnel=funnel, name="January")

    # when the owner lists each plan's metrics, and all of them
    owner = api_for(people["owner"])
    december = listed(owner, plan=plan.pk)
    january = listed(owner, plan=other.pk)
    everything = listed(owner)

    # then each list has its plan's metrics only, with the values worked out by hand
    assert {m["plan"] for m in december} == {plan.pk}
    assert {m["key"] for m in december} == ALL_KEYS
    values = {m["key"]: m["planned_value"] for m in december}
    expected = DECEMBER_VALUES | {"existing_client_revenue": None}  # a farmer's, no target yet
    assert {k: None if v is None else Decimal(v) for k, v in values.items()} == expected
    assert {m["plan"] for m in january} == {other.pk}
    assert {m["key"] for m in january} == set(DECEMBER_VALUES)  # no farmer in the team
    assert len(everything) == len(december) + len(january)


@pytest.mark.parametrize(
    ("category", "expected"),
    [("marketing", MARKETING_KEYS), ("sales", SALES_KEYS), ("management", MANAGEMENT_KEYS)],
)
def test_the_list_by_category(api_for, people, plan, category: str, expected: frozenset[str]):
    # when the head of sales lists the plan's metrics of one category
    rows = listed(api_for(people["head"]), plan=plan.pk, category=category)

    # then exactly that category's metrics come back
    assert {m["key"] for m in rows} == expected
    assert {m["category"] for m in rows} == {category}


def test_an_unknown_category_answers_400_naming_the_field(api_for, people, plan):
    # when a client asks for a category that does not exist
    response = api_for(people["head"]).get(
        METRICS, {"plan": plan.pk, "category": "finance"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    # then the answer names the field and the categories there are
    assert response.status_code == 400
    assert response.json() == {"category": ["Use marketing, sales or management."]}


# --- who sees what --------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [("anna", FARMER_KEYS), ("boris", HUNTER_KEYS)])
def test_a_salesperson_sees_only_the_metrics_they_hold_a_share_of(
    api_for, people, plan, name: str, expected: frozenset[str]
):
    # given a salesperson of the plan's team, holding shares of the sales metrics
    person = people[name]
    held = set(
        Responsibility.objects.filter(plan=plan, owner=person).values_list("metric__key", flat=True)
    )
    assert held == expected

    # when they list the plan's metrics
    seen = keys(api_for(person), plan=plan.pk)

    # then they see what they hold and nothing else (no marketing, no revenue)
    assert seen == expected


def test_a_salesperson_outside_the_plan_sees_none_of_its_metrics(api_for, make_member, plan):
    # given a salesperson with no share of the plan
    stranger = make_member(Role.SALESPERSON)

    # when they list its metrics
    seen = keys(api_for(stranger), plan=plan.pk)

    # then there are none
    assert seen == set()


def test_a_marketer_sees_only_the_marketing_metrics_they_own(api_for, people, plan):
    # given the marketer owns the marketing metrics on the default pie
    marketer = api_for(people["marketer"])
    assert keys(marketer, plan=plan.pk) == MARKETING_KEYS
    assert keys(marketer, plan=plan.pk, category="sales") == set()

    # when their slice of the leads is taken away
    Responsibility.objects.filter(metric__plan=plan, metric__key="leads").delete()

    # then they no longer see the leads
    assert keys(marketer, plan=plan.pk) == MARKETING_KEYS - {"leads"}


def test_a_viewer_sees_every_metric(api_for, people, plan):
    # when a viewer lists the plan's metrics
    seen = keys(api_for(people["viewer"]), plan=plan.pk)

    # then they see all of them
    assert seen == ALL_KEYS


# --- judging a metric -----------------------------------------------------------------------


@pytest.mark.parametrize("editor", ["owner", "head"])
def test_the_plans_editor_judges_a_metric_and_a_later_save_keeps_it(
    api_for, people, plan, editor: str
):
    # given the plan's revenue metric and the plan's editor
    revenue = metric(plan, "revenue")
    api = api_for(people[editor])

    # when the editor marks it uncontrollable with weight 7 (and tries to set its value)
    response = api.patch(
        f"{METRICS}{revenue.pk}/",
        {"controllable": False, "weight": 7, "planned_value": "1"},
        format="json",
    )

    # then the judgement is stored, the planned value is the plan's, not the client's
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["controllable"], body["weight"], Decimal(body["planned_value"])) == (
        False,
        7,
        Decimal("1000000"),
    )
    assert judgement(revenue) == (False, 7, Decimal("1000000"))

    # when the plan is then saved with twice the revenue target
    version = api.get(f"/api/v1/plans/{plan.pk}/")["ETag"]
    saved = api.patch(
        f"/api/v1/plans/{plan.pk}/",
        {"revenue_target": "2000000"},
        format="json",
        HTTP_IF_MATCH=version,
    )

    # then the same metric has the new planned value and keeps the editor's judgement
    assert saved.status_code == 200, saved.json()
    assert judgement(revenue) == (False, 7, Decimal("2000000"))
    after = {m["key"]: m for m in listed(api, plan=plan.pk)}
    assert (after["revenue"]["id"], after["revenue"]["weight"]) == (revenue.pk, 7)
    assert Decimal(after["leads"]["planned_value"]) == 834  # ⌈500 / 0.6⌉ at 2,000,000


@pytest.mark.parametrize("name", ["viewer", "marketer", "anna", "west_head"])
def test_who_may_not_edit_the_plan_may_not_judge_its_metrics(
    api_for, make_member, organization, people, plan, name: str
):
    # given a member who may not edit East's plan (a head of sales leads only West)
    if name == "west_head":
        west_head = make_member(Role.HEAD_OF_SALES)
        Team.objects.create(organization=organization, name="West", head=west_head)
        people = people | {"west_head": west_head}
    target = metric(plan, "stage_volume:4")  # anna holds a share of it
    before = judgement(target)

    # when they try to change its weight
    response = api_for(people[name]).patch(
        f"{METRICS}{target.pk}/", {"weight": 5, "controllable": False}, format="json"
    )

    # then it is refused and nothing changes
    assert response.status_code == 403
    assert judgement(target) == before


@pytest.mark.parametrize("weight", [0, 11, -1])
def test_a_weight_outside_1_to_10_answers_400(api_for, people, plan, weight: int):
    # given a metric
    target = metric(plan, "leads")
    before = judgement(target)

    # when the head of sales gives it a weight outside 1..10
    response = api_for(people["head"]).patch(
        f"{METRICS}{target.pk}/", {"weight": weight}, format="json"
    )

    # then the answer names the field and nothing changes
    assert response.status_code == 400
    assert list(response.json()) == ["weight"]
    assert judgement(target) == before


@pytest.mark.parametrize("weight", [1, 10])
def test_the_weight_bounds_are_allowed(api_for, people, plan, weight: int):
    # when the head of sales sets a metric's weight to a bound
    target = metric(plan, "leads")
    response = api_for(people["head"]).patch(
        f"{METRICS}{target.pk}/", {"weight": weight}, format="json"
    )

    # then it is stored
    assert response.status_code == 200, response.json()
    assert judgement(target)[1] == weight


def test_another_organizations_metric_is_404(api_for, make_member, plan):
    # given the owner of another organization
    outsider = api_for(make_member(Role.OWNER, org=OrganizationFactory(name="Rival")))
    target = metric(plan, "revenue")
    before = judgement(target)

    # when they read or change one of this plan's metrics
    read = outsider.get(f"{METRICS}{target.pk}/")
    change = outsider.patch(f"{METRICS}{target.pk}/", {"weight": 5}, format="json")

    # then the metric does not exist for them, and nothing changes
    assert (read.status_code, change.status_code) == (404, 404)
    assert keys(outsider, plan=plan.pk) == set()
    assert judgement(target) == before


# --- the catalog ----------------------------------------------------------------------------


def test_the_catalog_lists_every_kind_in_the_callers_language(api_for, people):
    api = api_for(people["marketer"])

    # when the catalog is read in English and in Russian
    english = api.get(f"{METRICS}catalog/", HTTP_ACCEPT_LANGUAGE="en")
    russian = api.get(f"{METRICS}catalog/", HTTP_ACCEPT_LANGUAGE="ru")

    # then both list every kind, with the labels in the caller's language
    assert (english.status_code, russian.status_code) == (200, 200)
    en = {kind["code"]: kind for kind in english.json()}
    ru = {kind["code"]: kind for kind in russian.json()}
    assert set(en) == set(ru) == DOMAIN_KINDS | EXTRA_KINDS
    assert (en["revenue"]["label"], ru["revenue"]["label"]) == ("Revenue", "Выручка")
    assert (en["cost_per_lead"]["label"], ru["cost_per_lead"]["label"]) == (
        "Cost per lead",
        "Стоимость лида",
    )
    assert all(en[code]["label"] != ru[code]["label"] for code in en)  # every label translated
    cost = en["cost_per_lead"]
    assert (cost["direction"], cost["unit"], cost["category"], cost["per_stage"]) == (
        "lower",
        "money",
        "marketing",
        False,
    )


# --- bugs these tests found, fixed --------------------------------------------------------------


def test_a_team_plans_metrics_go_to_that_teams_head(api_for, make_member, organization, funnel):
    # given two heads of sales, West's created first, and East's plan
    west_head = make_member(Role.HEAD_OF_SALES)
    east_head = make_member(Role.HEAD_OF_SALES)
    Team.objects.create(organization=organization, name="West", head=west_head)
    east = Team.objects.create(organization=organization, name="East", head=east_head)
    seller = make_member(Role.SALESPERSON, team=east)
    plan = PlanFactory(
        organization=organization, funnel=funnel, sales_team=east, team=[(seller, "1")]
    )

    # when East's head lists the plan's metrics
    rows = {m["key"]: m for m in listed(api_for(east_head), plan=plan.pk)}

    # then East's head, who edits the plan, owns its revenue and sales metrics
    assert rows["revenue"]["owners"] == [east_head.pk]
    assert rows["stage_volume:4"]["owners"] == [east_head.pk]


def test_an_unreadable_plan_filter_answers_400(api_for, people, plan):
    # when a client sends a plan id that is not a number
    response = api_for(people["head"]).get(METRICS, {"plan": "abc"})

    # then the answer names the field instead of listing every plan's metrics
    assert response.status_code == 400
    assert "plan" in response.json()

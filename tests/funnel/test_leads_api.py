"""GET /api/v1/leads/: filters, the detail with events and payments, who sees what, and no
N+1 queries."""

import pytest

from funnel.models import Lead, Stage
from salesplan.models import Role
from tests.factories import MembershipFactory, OrganizationFactory
from tests.worked_example import WORKED_STAGES

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(make_member):
    return make_member(Role.SALESPERSON)


@pytest.fixture
def boris(make_member):
    return make_member(Role.SALESPERSON)


def load(api, body: dict) -> dict:
    response = api.post("/api/v1/events/", body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.fixture
def leads(api, funnel_id, anna, boris) -> dict[str, int]:
    """Four leads: Anna's two (one won), Boris's one, nobody's one; created around the turn
    of November in Moscow time."""
    load(
        api,
        {
            "funnel": funnel_id,
            "leads": [
                {
                    "external_id": "A-1",
                    "name": "Ромашка: CRM",
                    "company": "ООО Ромашка",
                    "created_at": "2026-11-30T23:30:00+03:00",  # 30 Nov locally, UTC says so too
                    "channel": "Яндекс.Директ",
                    "responsible": anna.user.email,
                    "stage": "Meeting held",
                    "stage_at": "2026-12-03T10:00:00+03:00",
                },
                {
                    "external_id": "A-2",
                    "name": "Лютик",
                    "created_at": "2026-12-01T00:30:00+03:00",  # 1 Dec locally, 30 Nov in UTC
                    "channel": "Сайт",
                    "responsible": anna.user.email,
                    "won": True,
                    "amount": "150000",
                    "paid_at": "2026-12-20T12:00:00+03:00",
                },
                {
                    "external_id": "B-1",
                    "name": "Василёк",
                    "company": "ИП Васильев",
                    "created_at": "2026-12-10T12:00:00+03:00",
                    "channel": "яндекс.директ",
                    "responsible": boris.user.email,
                    "stage": "Target lead",
                },
                {
                    "external_id": "X-1",
                    "name": "Без ответственного",
                    "created_at": "2026-12-31T23:59:00+03:00",
                    "responsible": "amo:2079676",
                },
            ],
            "payments": [
                {
                    "external_id": "A-2-extra",
                    "lead_external_id": "A-2",
                    "amount": "5000",
                    "paid_at": "2026-12-25T12:00:00+03:00",
                }
            ],
        },
    )
    return dict(Lead.objects.values_list("external_id", "id"))


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return sorted(lead["external_id"] for lead in response.json()["results"])


def test_the_list_is_paginated_newest_first(api, leads):
    body = api.get("/api/v1/leads/").json()
    assert body["count"] == 4
    assert [lead["external_id"] for lead in body["results"]] == ["X-1", "B-1", "A-2", "A-1"]
    x1 = body["results"][0]
    assert x1["responsible"] is None and x1["responsible_name"] == "amo:2079676"
    assert x1["current_stage"] is None


def test_filters(api, leads, funnel_id, anna):
    held = Stage.objects.get(funnel_id=funnel_id, name="Meeting held").pk
    target = Stage.objects.get(funnel_id=funnel_id, name="Target lead").pk
    assert ids(api.get("/api/v1/leads/", {"external_id": "B-1"})) == ["B-1"]
    assert ids(api.get("/api/v1/leads/", {"stage": held})) == ["A-1"]
    assert ids(api.get("/api/v1/leads/", {"reached_stage": target})) == ["A-1", "A-2", "B-1"]
    assert ids(api.get("/api/v1/leads/", {"member": anna.pk})) == ["A-1", "A-2"]
    assert ids(api.get("/api/v1/leads/", {"channel": "Яндекс.Директ"})) == ["A-1"]
    assert ids(api.get("/api/v1/leads/", {"search": "Ромашка"})) == ["A-1"]  # name, company
    assert ids(api.get("/api/v1/leads/", {"search": "ИП Вас"})) == ["B-1"]  # company
    assert ids(api.get("/api/v1/leads/", {"search": "x-"})) == ["X-1"]  # external id, any case


def test_the_period_is_in_the_organizations_local_days(api, leads):
    december = {"created_from": "2026-12-01", "created_to": "2026-12-31"}
    # A-2 came at 00:30 on 1 December in Moscow (21:30 on 30 November in UTC): December's
    assert ids(api.get("/api/v1/leads/", december)) == ["A-2", "B-1", "X-1"]
    november = {"period_start": "2026-11-01", "period_end": "2026-11-30"}
    assert ids(api.get("/api/v1/leads/", november)) == ["A-1"]
    assert ids(api.get("/api/v1/leads/", {"created_to": "2026-12-01"})) == ["A-1", "A-2"]


def test_bad_filters_are_a_400(api, leads):
    assert api.get("/api/v1/leads/", {"created_from": "01.12.2026"}).status_code == 400
    assert api.get("/api/v1/leads/", {"member": "anna"}).status_code == 400
    assert api.get("/api/v1/leads/", {"stage": str(2**70)}).status_code == 400
    response = api.get("/api/v1/leads/", {"created_from": "2026-12-31", "created_to": "2026-12-01"})
    assert response.status_code == 400 and "created_to" in response.json()


def test_the_detail_has_the_stage_events_and_payments(api, leads):
    response = api.get(f"/api/v1/leads/{leads['A-2']}/")
    assert response.status_code == 200
    lead = response.json()
    assert lead["current_stage"]["name"] == "Paid"
    assert [event["stage"]["name"] for event in lead["stage_events"]] == [
        stage["name"] for stage in WORKED_STAGES
    ]
    assert [(p["external_id"], p["amount"]) for p in lead["payments"]] == [
        ("A-2", "150000.00"),
        ("A-2-extra", "5000.00"),
    ]


def test_a_salesperson_sees_only_their_own_leads(api_for, leads, anna):
    seller = api_for(anna)
    assert ids(seller.get("/api/v1/leads/")) == ["A-1", "A-2"]
    assert ids(seller.get("/api/v1/leads/", {"external_id": "B-1"})) == []
    assert seller.get(f"/api/v1/leads/{leads['A-1']}/").status_code == 200
    assert seller.get(f"/api/v1/leads/{leads['B-1']}/").status_code == 404


@pytest.mark.parametrize("role", [Role.OWNER, Role.MARKETER, Role.VIEWER])
def test_every_other_role_sees_all(api_for, make_member, leads, role):
    assert len(ids(api_for(make_member(role)).get("/api/v1/leads/"))) == 4


def test_another_organizations_lead_is_not_found(api_for, leads):
    outsider = api_for(
        MembershipFactory(organization=OrganizationFactory(name="Rival"), role=Role.OWNER)
    )
    assert outsider.get(f"/api/v1/leads/{leads['A-1']}/").status_code == 404
    assert outsider.get("/api/v1/leads/").json()["count"] == 0


def test_no_query_per_lead(api, funnel_id, anna, boris, django_assert_max_num_queries):
    # given many leads with stages, people and payments
    load(
        api,
        {
            "funnel": funnel_id,
            "leads": [
                {
                    "external_id": f"L{n}",
                    "created_at": "2026-12-01T10:00:00",
                    "responsible": (anna if n % 2 else boris).user.email,
                    "stage": WORKED_STAGES[n % 4]["name"],
                    "won": n % 5 == 0,
                    "amount": "1000",
                }
                for n in range(40)
            ],
        },
    )
    lead_id = Lead.objects.get(external_id="L10").pk
    # then the list and the detail take a fixed handful of queries
    # (token, membership, count, page; detail: lead, events, payments)
    with django_assert_max_num_queries(6):
        assert api.get("/api/v1/leads/").json()["count"] == 40
    with django_assert_max_num_queries(6):
        detail = api.get(f"/api/v1/leads/{lead_id}/").json()
    assert len(detail["stage_events"]) == 5 and len(detail["payments"]) == 1

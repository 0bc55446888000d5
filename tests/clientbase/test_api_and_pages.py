"""The client base over HTTP: the API (summary, "do not touch" list, warnings, a company, the
rules) and the pages, each role, another organization's company (404), and bad rules (400
naming the field)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from funnel.models import Call
from salesplan.clientbase import selectors, services
from salesplan.clientbase.models import Company
from salesplan.limits import MAX_COOLING_DAYS, MAX_PERMANENT_REASONS
from salesplan.models import Role
from tests.factories import LeadFactory, MembershipFactory, OrganizationFactory, PaymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(make_member):
    return make_member(Role.SALESPERSON)


@pytest.fixture
def other_seller(make_member):
    return make_member(Role.SALESPERSON)


@pytest.fixture
def computed(funnel, organization, seller, other_seller):
    """Two cooling companies (refused yesterday and 10 days ago, 90 days each), one closed for
    good, one won; a call on each cooling one, by each salesperson; recomputed now."""
    now = timezone.now()
    romashka = LeadFactory(
        funnel=funnel,
        company="ООО «Ромашка»",
        lost_at=now - timedelta(days=1),
        lost_reason="Дорого",
        responsible=seller,
    )
    vector = LeadFactory(
        funnel=funnel,
        company="Вектор",
        lost_at=now - timedelta(days=10),
        lost_reason="Не сейчас",
        responsible=other_seller,
    )
    LeadFactory(
        funnel=funnel,
        company="Acme",
        lost_at=now - timedelta(days=2),
        lost_reason="ЛПР умер",
        responsible=seller,
    )
    PaymentFactory(
        lead=LeadFactory(funnel=funnel, company="Гамма", responsible=other_seller),
        paid_at=now - timedelta(days=3),
    )
    for number, (lead, member) in enumerate(((romashka, seller), (vector, other_seller))):
        Call.objects.create(
            organization=organization,
            source="api",
            external_id=f"call{number}",
            lead=lead,
            member=member,
            at=now - timedelta(minutes=5),
            connected=True,
        )
    services.client_base_refresh(organization_id=organization.pk)
    return {"romashka": romashka, "vector": vector}


# --- the rules --------------------------------------------------------------------------------


def test_rules_default_and_every_member_reads_them(api_for, seller):
    response = api_for(seller).get("/api/v1/client-base/settings/")
    assert response.status_code == 200
    assert response.json() == {
        "permanent_reasons": ["ЛПР умер", "Бизнес закрылся"],
        "cooling_days": 90,
    }


def test_head_saves_the_rules_trimmed_once_each(api, head):
    response = api.put(
        "/api/v1/client-base/settings/",
        {"permanent_reasons": ["  ЛПР   умер ", "лпр умер", "", "Ликвидация"], "cooling_days": 60},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"permanent_reasons": ["ЛПР умер", "Ликвидация"], "cooling_days": 60}
    saved = services.base_settings(head.organization)
    assert (saved.cooling_days, saved.updated_by) == (60, head)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"permanent_reasons": [], "cooling_days": 0}, "cooling_days"),
        ({"permanent_reasons": [], "cooling_days": MAX_COOLING_DAYS + 1}, "cooling_days"),
        ({"permanent_reasons": [], "cooling_days": -5}, "cooling_days"),
        ({"permanent_reasons": [], "cooling_days": "ninety"}, "cooling_days"),
        ({"permanent_reasons": [], "cooling_days": 10**30}, "cooling_days"),
        ({"permanent_reasons": ["x" * 301], "cooling_days": 90}, "permanent_reasons"),
        (
            {
                "permanent_reasons": [f"r{n}" for n in range(MAX_PERMANENT_REASONS + 1)],
                "cooling_days": 9,
            },
            "permanent_reasons",
        ),
        ({"permanent_reasons": "ЛПР умер", "cooling_days": 90}, "permanent_reasons"),
        ({"permanent_reasons": ["a\u0000b"], "cooling_days": 90}, "permanent_reasons"),
        ({"cooling_days": 90}, "permanent_reasons"),
    ],
)
def test_bad_rules_are_a_400_naming_the_field(api, head, body, field):
    response = api.put("/api/v1/client-base/settings/", body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert services.base_settings(head.organization).pk is None  # nothing saved


def test_a_lone_surrogate_is_a_400(api):
    body = '{"permanent_reasons": ["\\ud800"], "cooling_days": 90}'
    response = api.put("/api/v1/client-base/settings/", body, content_type="application/json")
    assert response.status_code == 400
    assert "permanent_reasons" in response.json()


def test_the_limit_in_the_users_language(api):
    response = api.put(
        "/api/v1/client-base/settings/",
        {"permanent_reasons": [], "cooling_days": 0},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.json()["cooling_days"] == [f"Enter from 1 to {MAX_COOLING_DAYS} days."]


def test_a_salesperson_may_not_change_the_rules(api_for, seller):
    response = api_for(seller).put(
        "/api/v1/client-base/settings/",
        {"permanent_reasons": [], "cooling_days": 30},
        format="json",
    )
    assert response.status_code == 403


# --- the reads ------------------------------------------------------------------------------


def test_do_not_touch_list_soonest_first_and_searchable(api_for, seller, computed):
    api = api_for(seller)  # a salesperson reads the whole list: it protects them
    listed = api.get("/api/v1/client-base/do-not-touch/").json()
    assert [row["name"] for row in listed["results"]] == ["Вектор", "ООО «Ромашка»"]
    vector = listed["results"][0]
    today = selectors.today_of(seller.organization)
    assert vector["lost_reason"] == "Не сейчас"
    assert vector["state"] == "cooling"
    assert vector["contact_again_on"] > today.isoformat()
    # the search finds «ООО "Ромашка"» by its plain name, in any case
    found = api.get("/api/v1/client-base/do-not-touch/", {"search": "РОМАШКА"}).json()
    assert [row["name"] for row in found["results"]] == ["ООО «Ромашка»"]
    assert found["results"][0]["refused_by_name"] == seller.display_name


def test_a_search_too_long_is_a_400(api):
    response = api.get("/api/v1/client-base/do-not-touch/", {"search": "я" * 301})
    assert response.status_code == 400
    assert "search" in response.json()


def test_the_list_is_paginated(api, funnel, organization):
    now = timezone.now()
    for number in range(105):
        LeadFactory(funnel=funnel, company=f"Company {number}", lost_at=now, lost_reason="Нет")
    services.client_base_refresh(organization_id=organization.pk)
    first = api.get("/api/v1/client-base/do-not-touch/").json()
    assert (first["count"], len(first["results"])) == (105, 100)
    assert len(api.get(first["next"]).json()["results"]) == 5


def test_contact_again_on_is_the_refusal_day_plus_90(api, organization, computed):
    row = api.get("/api/v1/client-base/do-not-touch/", {"search": "Вектор"}).json()["results"][0]
    refused_on = selectors.today_of(organization) - timedelta(days=10)
    assert row["refused_on"] == refused_on.isoformat()
    assert row["contact_again_on"] == (refused_on + timedelta(days=90)).isoformat()


def test_warnings_a_salesperson_sees_their_own(api_for, head, seller, computed):
    own = api_for(seller).get("/api/v1/client-base/warnings/").json()["results"]
    assert [(w["company_name"], w["kind"], w["member"]) for w in own] == [
        ("ООО «Ромашка»", "call", seller.pk)
    ]
    everyone = api_for(head).get("/api/v1/client-base/warnings/").json()
    assert everyone["count"] == 2


def test_summary_a_salesperson_sees_their_own_rates(api_for, head, seller, computed):
    mine = api_for(seller).get("/api/v1/client-base/summary/").json()
    assert (mine["available"], mine["cooling"], mine["closed"]) == (1, 2, 1)
    assert {(r["kind"], r["member"]) for r in mine["refusal_rates"]} == {("member", seller.pk)}
    assert sum(r["lost"] for r in mine["refusal_rates"]) == 2  # Ромашка and Acme
    theirs = api_for(head).get("/api/v1/client-base/summary/").json()
    assert {r["kind"] for r in theirs["refusal_rates"]} == {"department", "member", "segment"}
    # 3 lost, 1 won this pace, no plan: burn 3 ÷ 3 = 1 a month, 1 available → 1.0 month
    assert (theirs["pace_lost"], theirs["pace_won"]) == (3, 1)
    assert (theirs["runway"], theirs["burn_per_month"], theirs["months_left"]) == (
        "runs_out",
        "1.0",
        "1.0",
    )


def test_summary_before_the_first_recompute(api):
    body = api.get("/api/v1/client-base/summary/").json()
    assert (body["runway"], body["computed_at"], body["refusal_rates"]) == (
        "not_computed",
        None,
        [],
    )


def test_another_organizations_company_is_404(api_for, computed):
    company = Company.objects.get(key="ромашка")
    rival = MembershipFactory(organization=OrganizationFactory(name="Rival"), role=Role.OWNER)
    assert api_for(rival).get(f"/api/v1/client-base/companies/{company.pk}/").status_code == 404
    # and their lists are empty: nothing crosses organizations
    assert api_for(rival).get("/api/v1/client-base/do-not-touch/").json()["count"] == 0
    assert api_for(rival).get("/api/v1/client-base/warnings/").json()["count"] == 0


def test_a_company(api_for, seller, computed):
    company = Company.objects.get(key="acme")
    body = api_for(seller).get(f"/api/v1/client-base/companies/{company.pk}/").json()
    assert (body["state"], body["contact_again_on"], body["lost_reason"]) == (
        "closed",
        None,
        "ЛПР умер",
    )


# --- the pages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.OWNER, Role.HEAD_OF_SALES, Role.SALESPERSON, Role.MARKETER, Role.VIEWER]
)
def test_every_role_sees_the_page(client_for, make_member, computed, role):
    response = client_for(make_member(role)).get("/client-base/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Вектор" in text and "ООО «Ромашка»" in text
    assert 'id="refusal-rates"' in text


def test_the_page_shows_the_list_with_the_dates_and_the_runway(client_for, head, computed):
    response = client_for(head).get("/client-base/")
    vector = Company.objects.get(key="вектор")
    text = response.content.decode()
    assert f'data-contact-again="{vector.contact_again_on:%Y-%m-%d}"' in text
    assert 'data-runway="1.0"' in text
    assert 'data-plotly="chart-refusal-rate"' in text
    assert 'data-warning="call-' in text


def test_the_page_search_swaps_the_list_alone(client_for, seller, computed):
    response = client_for(seller).get("/client-base/", {"q": "ромашка"}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert text.startswith('<div id="do-not-touch-list">')
    assert "Ромашка" in text and "Вектор" not in text


def test_the_page_with_a_search_too_long_says_so(client_for, seller, computed):
    response = client_for(seller).get("/client-base/", {"q": "я" * 400})
    assert response.status_code == 200
    assert 'id="do-not-touch-search-error"' in response.content.decode()


def test_the_settings_page(client_for, head, seller):
    page = client_for(head)
    assert page.get("/client-base/settings/").status_code == 200
    bad = page.post(
        "/client-base/settings/", {"permanent_reasons": "ЛПР умер", "cooling_days": "0"}
    )
    assert bad.status_code == 200
    assert "Enter from 1 to" in bad.content.decode() or "от 1 до" in bad.content.decode()
    good = page.post(
        "/client-base/settings/",
        {"permanent_reasons": "ЛПР умер\r\nЛиквидация\r\n", "cooling_days": "45"},
    )
    assert good.status_code == 302
    saved = services.base_settings(head.organization)
    assert (saved.permanent_reasons, saved.cooling_days) == (["ЛПР умер", "Ликвидация"], 45)
    assert client_for(seller).get("/client-base/settings/").status_code == 403


def test_the_page_reads_in_a_few_queries_whatever_the_list(
    client_for, head, funnel, organization, seller, django_assert_max_num_queries
):
    # given 60 cooling companies, each with a call by the salesperson (60 warnings)
    now = timezone.now()
    for number in range(60):
        lead = LeadFactory(
            funnel=funnel,
            company=f"Company {number}",
            lost_at=now - timedelta(days=1),
            lost_reason="Нет",
            responsible=seller,
            channel=f"Channel {number % 3}",
        )
        Call.objects.create(
            organization=organization,
            source="api",
            external_id=f"q{number}",
            lead=lead,
            member=seller,
            at=now,
            connected=True,
        )
    services.client_base_refresh(organization_id=organization.pk)
    page = client_for(head)
    # then the page's queries do not grow with the rows (session, member, the reads)
    with django_assert_max_num_queries(20):
        response = page.get("/client-base/")
    assert response.status_code == 200
    assert response.content.decode().count('data-warning="call-') == 20  # WARNINGS_ON_PAGE


def test_the_rules_page_lists_the_crms_lost_reasons(client_for, head, computed):
    text = client_for(head).get("/client-base/settings/").content.decode()
    # the latest refusals: «Дорого», «Не сейчас» (cooling) and «ЛПР умер» (permanent)
    assert text.count('data-reason-permanent="no"') == 2
    assert text.count('data-reason-permanent="yes"') == 1
    assert "Не сейчас" in text

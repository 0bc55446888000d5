"""Limits on every input (issue 10: no request may tie up a worker). Each "Seen" case of the
issue, small: the limit is refused at once, with the field, the value and the limit, and the
largest input the limits allow is still cheap."""

import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from funnel.models import Funnel
from funnel.services.funnels import funnel_create
from salesplan.limits import (
    MAX_HISTORY_MONTHS,
    MAX_PERIOD_MONTHS,
    MAX_PRODUCTS,
    MAX_SEASONALITY_KEYS,
    MAX_STAGES,
    MAX_TEAM,
)
from salesplan.models import Role
from tests.worked_example import DECEMBER, WORKED_STAGES

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
# A refusal costs a count, not a decomposition: a few milliseconds; this leaves room for a
# loaded test machine and is still far below the 30 s that killed a worker.
INSTANT_S = 5.0


def months_from(start: date, count: int) -> list[date]:
    months, month = [], start
    for _ in range(count):
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def stages(count: int) -> list[dict]:
    """`count` stages: 99 % each to the next, the one before last the key stage."""
    rows = [{"name": f"Stage {n}", "conversion": "0.99"} for n in range(count - 1)]
    rows[-1]["is_key_stage"] = True
    return [*rows, {"name": "Paid"}]


def preview(api, **changes):
    body = {**DECEMBER, "stages": WORKED_STAGES, **changes}
    started = time.monotonic()
    response = api.post("/api/v1/plans/preview/", body, format="json", **EN)
    return response, time.monotonic() - started


# --- a plan's period ---------------------------------------------------------------------------


def test_a_preview_of_two_centuries_with_seasonality_is_refused_at_once(api):
    # given a period of two centuries with a weight for each of its months (the engine used
    # to check every month's weight, and count its working days, before noticing the length)
    start, end = date(1900, 1, 1), date(2099, 12, 31)
    weights = {month.isoformat(): "1" for month in months_from(start, 2400)}
    # when it is previewed
    response, took = preview(
        api, period_start=start.isoformat(), period_end=end.isoformat(), seasonality=weights
    )
    # then it is refused at once, naming the seasonality's size (2,400 keys for at most 24)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["seasonality"] == [
        f"There are 2400; the limit is {MAX_SEASONALITY_KEYS}."
    ]
    assert took < INSTANT_S


def test_a_preview_of_a_century_is_refused_naming_its_length(api):
    # given a period of a hundred years (a 500-year one returned 16.8 MB)
    response, took = preview(api, period_start="2000-01-01", period_end="2099-12-31")
    # then a short 400 names the period's length and the limit
    assert response.status_code == 400
    assert response.json() == {
        "period_end": [
            f"The period spans 1200 months; a plan covers at most {MAX_PERIOD_MONTHS}. Split a "
            "longer period into plans."
        ]
    }
    assert len(response.content) < 1_000
    assert took < INSTANT_S


def test_a_saved_plan_over_two_years_is_refused_on_the_page_too(client_for, head, funnel):
    # given the plan form with a period of 25 months
    client = client_for(head)
    data = {
        "funnel": funnel.pk,
        "name": "Too long",
        "status": "draft",
        "period_kind": "year",
        "period_start": "2026-01-01",
        "period_end": "2028-01-31",
        "revenue_target": "1000000",
        "average_check": "50000",
    }
    # when it is saved
    with translation.override("en"):
        response = client.post("/plans/new/", data, **EN)
    # then the form shows the engine's words next to the period's end
    assert response.status_code == 200
    assert "The period spans 25 months; a plan covers at most 24." in response.content.decode()


# --- stages, people, products, seasonality, history ---------------------------------------------


def test_two_thousand_inline_stages_are_refused_before_they_are_read(api):
    # given a preview with 2,001 inline stages (it returned 12.9 MB)
    response, took = preview(api, stages=stages(2001))
    # then 400 names the stages, their number and the limit
    assert response.status_code == 400
    assert response.json() == {"stages": [f"There are 2001; the limit is {MAX_STAGES}."]}
    assert took < INSTANT_S


def test_a_funnel_of_ten_thousand_stages_is_refused_by_the_api(api):
    # given a funnel of 10,001 stages (it was accepted, then overflowed)
    response = api.post(
        "/api/v1/funnels/", {"name": "Huge", "stages": stages(10_001)}, format="json", **EN
    )
    # then it is refused and nothing is stored
    assert response.status_code == 400
    assert response.json() == {"stages": [f"There are 10001; the limit is {MAX_STAGES}."]}
    assert not Funnel.objects.filter(name="Huge").exists()


def test_a_funnel_over_the_limit_is_refused_by_the_service_with_the_same_words(organization):
    # given the service itself (the page and the API call it) with 51 stages
    def typed(count: int) -> list[dict]:
        return [
            {**stage, "conversion": Decimal(stage["conversion"]) if "conversion" in stage else None}
            for stage in stages(count)
        ]

    with translation.override("en"), pytest.raises(ValidationError) as error:
        funnel_create(organization=organization, name="Big", stages=typed(MAX_STAGES + 1))
    assert error.value.message_dict == {"stages": ["There are 51; the limit is 50."]}
    # and 50 stages are a funnel
    funnel = funnel_create(organization=organization, name="Big", stages=typed(MAX_STAGES))
    assert funnel.stages.count() == MAX_STAGES


def test_a_funnel_page_claiming_ten_thousand_rows_is_refused(client_for, head):
    # given the funnel form whose management form claims 10,001 stage rows
    data = {"name": "Huge", "stages-TOTAL_FORMS": "10001", "stages-INITIAL_FORMS": "0"}
    for n, stage in enumerate(stages(60)):
        data[f"stages-{n}-name"] = stage["name"]
        data[f"stages-{n}-conversion"] = "50" if "conversion" in stage else ""
    # when it is saved
    response = client_for(head).post("/funnels/new/", data, **EN)
    # then the page answers with the error and nothing is stored
    assert response.status_code == 200
    assert "Please submit at most 52 forms." in response.content.decode()
    assert not Funnel.objects.filter(name="Huge").exists()


@pytest.mark.parametrize(
    ("field", "value", "count", "limit"),
    [
        ("team", [{"name": f"P{n}", "share": "0"} for n in range(MAX_TEAM + 1)], 501, MAX_TEAM),
        (
            "product_mix",
            [{"name": f"P{n}", "price": "1", "units": 1} for n in range(MAX_PRODUCTS + 1)],
            201,
            MAX_PRODUCTS,
        ),
        (
            "history",
            [
                {"month": m.isoformat(), "stages": {}, "revenue": "0"}
                for m in months_from(date(2020, 1, 1), MAX_HISTORY_MONTHS + 1)
            ],
            61,
            MAX_HISTORY_MONTHS,
        ),
    ],
)
def test_lists_over_their_limit_are_refused_in_a_preview(api, field, value, count, limit):
    response, took = preview(api, **{field: value})
    assert response.status_code == 400
    assert response.json() == {field: [f"There are {count}; the limit is {limit}."]}
    assert took < INSTANT_S


def test_a_what_if_over_the_limits_is_refused(api, organization, funnel, head):
    # given a saved plan
    plan = api.post(
        "/api/v1/plans/",
        {**DECEMBER, "funnel": funnel.pk, "name": "December", "period_kind": "month"},
        format="json",
    )
    assert plan.status_code == 201, plan.json()
    url = f"/api/v1/plans/{plan.json()['id']}/what-if/"
    # when a what-if adds 501 people, or changes 51 stages' conversions
    crowd = {"add_members": [{"name": f"P{n}"} for n in range(MAX_TEAM + 1)]}
    stages_pp = {"conversion_pp": {f"Stage {n}": "1" for n in range(MAX_STAGES + 1)}}
    # then each is refused, naming its field
    for body, field in ((crowd, "add_members"), (stages_pp, "conversion_pp")):
        response = api.post(url, body, format="json", **EN)
        assert response.status_code == 400, field
        assert field in response.json()
        assert "the limit is" in response.json()[field][0]


# --- the largest plan the limits allow is cheap -------------------------------------------------


def test_the_largest_preview_the_limits_allow_is_bounded(api):
    # given 24 months, 50 stages, 500 people and a weight per month: every limit at its top
    start = date(2026, 1, 1)
    months = months_from(start, MAX_PERIOD_MONTHS)
    team = [{"name": f"P{n}", "share": "0.002"} for n in range(MAX_TEAM)]
    # when it is previewed
    response, took = preview(
        api,
        period_start=start.isoformat(),
        period_end=(months[-1] + timedelta(days=30)).isoformat(),
        stages=stages(MAX_STAGES),
        team=team,
        seasonality={month.isoformat(): "1" for month in months},
    )
    # then it is decomposed in a few seconds at most, into a few megabytes at most
    assert response.status_code == 200, response.content[:500]
    assert took < 20
    assert len(response.content) < 20 * 1024 * 1024
    print(f"largest preview: {took:.2f} s, {len(response.content) / 1e6:.1f} MB")


# --- who may plan --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VIEWER, Role.SALESPERSON, Role.MARKETER])
def test_only_the_roles_that_may_plan_run_a_preview(api_for, make_member, role):
    # given a member who may not plan (a viewer ran a 30-second preview)
    response = api_for(make_member(role)).post(
        "/api/v1/plans/preview/", {**DECEMBER, "stages": WORKED_STAGES}, format="json"
    )
    # then the preview is refused
    assert response.status_code == 403

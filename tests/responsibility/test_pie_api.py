"""The pie through the HTTP API: default proposal, reassignment, split, conflicts."""

from decimal import Decimal

import pytest

from metrics.models import PlanMetric
from responsibility.models import Responsibility

pytestmark = pytest.mark.django_db


def test_a_new_plan_gets_a_default_pie_without_findings(api_for, team, plan_id):
    pie = api_for(team["head"]).get(f"/api/v1/plans/{plan_id}/pie/").json()
    assert pie["findings"] == []
    assert pie["unowned"] == []
    by_owner = {owner["membership"]: owner for owner in pie["owners"]}
    marketer_metrics = {m["key"] for m in by_owner[team["marketer"].pk]["metrics"]}
    assert {"leads", "target_leads", "target_lead_share", "cost_per_lead"} <= marketer_metrics
    head_metrics = {m["key"]: m for m in by_owner[team["head"].pk]["metrics"]}
    assert "revenue" in head_metrics
    paid = head_metrics["stage_volume:4"]
    assert paid["planned_value"] == "20"
    assert {s["membership"] for s in paid["split"]} == {team["anna"].pk, team["boris"].pk}
    assert sum(Decimal(s["share"]) for s in paid["split"]) == 1


def test_planned_values_come_from_the_decomposition(plan_id):
    values = dict(PlanMetric.objects.filter(plan_id=plan_id).values_list("key", "planned_value"))
    assert values["leads"] == 420
    assert values["target_leads"] == 252
    assert values["stage_volume:3"] == 50
    assert values["marketing_spend"] == Decimal("210000")
    assert values["revenue"] == Decimal("1000000")
    assert values["target_lead_share"] == Decimal("0.6")


def test_giving_cost_per_lead_to_the_head_of_sales_shows_an_extra_slice(api_for, team, plan_id):
    api = api_for(team["head"])
    row = Responsibility.objects.get(plan_id=plan_id, metric__key="cost_per_lead")
    version = api.get(f"/api/v1/plans/{plan_id}/pie/")["ETag"].strip('"')
    response = api.patch(
        f"/api/v1/plans/{plan_id}/responsibilities/{row.pk}/",
        {"owner": team["head"].pk},
        format="json",
        HTTP_IF_MATCH=f'"{version}"',
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200, response.json()
    pie = api.get(f"/api/v1/plans/{plan_id}/pie/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert [f["code"] for f in pie["findings"]] == ["role_mismatch"]
    assert "Extra slice" in pie["findings"][0]["text"]
    russian = api.get(f"/api/v1/plans/{plan_id}/pie/", HTTP_ACCEPT_LANGUAGE="ru").json()
    assert russian["findings"][0]["text"] != pie["findings"][0]["text"]


def test_a_stale_pie_edit_gets_409_and_changes_nothing(api_for, team, plan_id):
    api = api_for(team["head"])
    version = int(api.get(f"/api/v1/plans/{plan_id}/pie/")["ETag"].strip('"'))
    row = Responsibility.objects.get(plan_id=plan_id, metric__key="leads")
    first = api.patch(
        f"/api/v1/plans/{plan_id}/responsibilities/{row.pk}/",
        {"owner": team["anna"].pk, "pie_version": version},
        format="json",
    )
    assert first.status_code == 200
    second = api.patch(
        f"/api/v1/plans/{plan_id}/responsibilities/{row.pk}/",
        {"owner": team["boris"].pk, "pie_version": version},
        format="json",
    )
    assert second.status_code == 409
    assert second.json()["current_pie_version"] == version + 1
    row.refresh_from_db()
    assert row.owner == team["anna"]


def test_split_with_shares_that_do_not_add_up_is_flagged(api_for, team, plan_id):
    api = api_for(team["head"])
    row = Responsibility.objects.get(plan_id=plan_id, metric__key="stage_volume:3", parent=None)
    response = api.post(
        f"/api/v1/plans/{plan_id}/responsibilities/{row.pk}/split/",
        {
            "members": [
                {"membership": team["anna"].pk, "share": "0.5"},
                {"membership": team["boris"].pk, "share": "0.3"},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    pie = api.get(f"/api/v1/plans/{plan_id}/pie/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert [f["code"] for f in pie["findings"]] == ["split_shares"]
    assert "80\u00a0%" in pie["findings"][0]["text"]  # glued: never broken across lines


def test_salesperson_sees_only_own_metrics_and_cannot_edit(api_for, team, plan_id):
    anna = api_for(team["anna"])
    keys = {m["key"] for m in anna.get(f"/api/v1/metrics/?plan={plan_id}").json()["results"]}
    assert "stage_volume:4" in keys
    assert "leads" not in keys  # the marketer's
    everything = api_for(team["head"]).get(f"/api/v1/metrics/?plan={plan_id}").json()["count"]
    assert everything > len(keys)
    row = Responsibility.objects.filter(plan_id=plan_id).first()
    response = anna.patch(
        f"/api/v1/plans/{plan_id}/responsibilities/{row.pk}/",
        {"owner": team["anna"].pk},
        format="json",
    )
    assert response.status_code == 403
    assert anna.get(f"/api/v1/plans/{plan_id}/pie/").status_code == 200


def test_reset_proposes_the_default_again(api_for, team, plan_id):
    api = api_for(team["head"])
    Responsibility.objects.filter(plan_id=plan_id, metric__key="revenue").delete()
    pie = api.get(f"/api/v1/plans/{plan_id}/pie/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert [f["code"] for f in pie["findings"]] == ["no_owner"]
    reset = api.post(f"/api/v1/plans/{plan_id}/pie/reset/", format="json")
    assert reset.status_code == 200
    assert reset.json()["findings"] == []


def test_metric_catalog_lists_every_kind(api_for, team):
    kinds = api_for(team["marketer"]).get("/api/v1/metrics/catalog/").json()
    codes = {kind["code"] for kind in kinds}
    assert {"revenue", "cost_per_lead", "stage_conversion", "missed_call_rate"} <= codes
    cost = next(kind for kind in kinds if kind["code"] == "cost_per_lead")
    assert (cost["direction"], cost["category"], cost["unit"]) == ("lower", "marketing", "money")


def test_marking_an_owned_metric_uncontrollable_is_flagged(api_for, team, plan_id):
    api = api_for(team["head"])
    metric = PlanMetric.objects.get(plan_id=plan_id, key="refusal_rate")
    response = api.patch(f"/api/v1/metrics/{metric.pk}/", {"controllable": False}, format="json")
    assert response.status_code == 200, response.json()
    pie = api.get(f"/api/v1/plans/{plan_id}/pie/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert [f["code"] for f in pie["findings"]] == ["uncontrollable"]
    # the judgement survives a re-sync of the plan's metrics
    etag = api.get(f"/api/v1/plans/{plan_id}/")["ETag"]
    saved = api.patch(
        f"/api/v1/plans/{plan_id}/",
        {"revenue_target": "1100000"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert saved.status_code == 200, saved.json()
    assert PlanMetric.objects.get(pk=metric.pk).controllable is False
    # salespeople read their metrics but do not judge them
    anna = api_for(team["anna"])
    refused = anna.patch(f"/api/v1/metrics/{metric.pk}/", {"weight": 5}, format="json")
    assert refused.status_code == 403


def test_metric_filters_refuse_what_they_do_not_know(api_for, team, plan_id):
    api = api_for(team["head"])
    assert api.get(f"/api/v1/metrics/?plan={plan_id}&category=marketing").status_code == 200
    for bad in ("weather", "sales\x00"):
        response = api.get("/api/v1/metrics/", {"category": bad}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400
        assert "category" in response.json()

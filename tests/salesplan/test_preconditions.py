"""Optimistic concurrency over the API: a PATCH or PUT of a plan or of the pie must say which
version it was based on (`If-Match` or a `version`/`pie_version` field), else 428; `If-Match: *`
(RFC 9110: any current representation) skips the check; a stale version answers 409."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from responsibility.models import Responsibility
from salesplan.models import Role, SalesPlan
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(organization, funnel, make_member) -> SalesPlan:
    seller = make_member(Role.SALESPERSON, salesperson_kind="hunter")
    return PlanFactory(organization=organization, funnel=funnel, team=[(seller, "1")])


def _plan_url(plan: SalesPlan) -> str:
    return f"/api/v1/plans/{plan.pk}/"


def _row_url(plan: SalesPlan) -> tuple[str, Responsibility]:
    row = Responsibility.objects.get(plan=plan, metric__key="revenue", parent=None)
    return f"/api/v1/plans/{plan.pk}/responsibilities/{row.pk}/", row


def test_a_plan_patch_without_a_version_is_428_and_changes_nothing(api, plan):
    # given a plan at version 1; when a PATCH names no version
    before = plan.revenue_target
    response = api.patch(
        _plan_url(plan), {"revenue_target": "2000000"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    # then it is refused with a message saying what to send, and nothing is saved
    assert response.status_code == 428, response.content
    assert "If-Match" in response.json()["detail"]
    plan.refresh_from_db()
    assert (plan.version, plan.revenue_target) == (1, before)


def test_a_plan_put_without_a_version_is_428(api, plan):
    body = api.get(_plan_url(plan)).json()
    body.pop("version")
    response = api.put(_plan_url(plan), body, format="json")
    assert response.status_code == 428, response.content
    plan.refresh_from_db()
    assert plan.version == 1


def test_a_plan_patch_with_the_version_from_the_etag_or_the_body_saves(api, plan):
    etag = api.get(_plan_url(plan))["ETag"]
    by_header = api.patch(
        _plan_url(plan), {"revenue_target": "1100000"}, format="json", HTTP_IF_MATCH=etag
    )
    assert by_header.status_code == 200, by_header.content
    by_field = api.patch(
        _plan_url(plan), {"revenue_target": "1200000", "version": 2}, format="json"
    )
    assert by_field.status_code == 200, by_field.content
    assert by_field["ETag"] == '"3"'


def test_if_match_star_saves_over_any_version(api, plan):
    # given someone saved version 2
    api.patch(_plan_url(plan), {"revenue_target": "1100000", "version": 1}, format="json")
    # when a caller sends If-Match: * (RFC 9110: any current representation)
    response = api.patch(
        _plan_url(plan), {"revenue_target": "1300000"}, format="json", HTTP_IF_MATCH="*"
    )
    # then the save goes through on top of whatever is current
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"3"'


def test_a_stale_plan_version_is_409_with_the_current_one(api, plan):
    api.patch(_plan_url(plan), {"revenue_target": "1100000"}, format="json", HTTP_IF_MATCH='"1"')
    stale = api.patch(
        _plan_url(plan), {"revenue_target": "900000"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2


def test_a_role_that_may_not_edit_gets_403_not_428(api_for, make_member, plan):
    # the precondition is asked only of someone who may make the change
    viewer = api_for(make_member(Role.VIEWER))
    response = viewer.patch(_plan_url(plan), {"name": "X"}, format="json")
    assert response.status_code == 403


def test_a_pie_patch_without_a_pie_version_is_428_and_changes_nothing(api, owner, plan):
    url, row = _row_url(plan)
    response = api.patch(url, {"owner": owner.pk}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 428, response.content
    assert "If-Match" in response.json()["detail"]
    row.refresh_from_db()
    assert row.owner_id != owner.pk


def test_a_pie_patch_with_if_match_star_or_the_pie_version_saves(api, owner, head, plan):
    url, row = _row_url(plan)
    star = api.patch(url, {"owner": owner.pk}, format="json", HTTP_IF_MATCH="*")
    assert star.status_code == 200, star.content
    version = int(api.get(f"/api/v1/plans/{plan.pk}/pie/")["ETag"].strip('"'))
    field = api.patch(url, {"owner": head.pk, "pie_version": version}, format="json")
    assert field.status_code == 200, field.content
    stale = api.patch(url, {"owner": owner.pk, "pie_version": version}, format="json")
    assert stale.status_code == 409
    row.refresh_from_db()
    assert row.owner_id == head.pk


def test_the_schema_documents_if_match_and_428(api):
    schema = api.get("/api/schema/?format=json").json()
    for path, method in (
        ("/api/v1/plans/{id}/", "patch"),
        ("/api/v1/plans/{id}/", "put"),
        ("/api/v1/plans/{plan_pk}/responsibilities/{id}/", "patch"),
    ):
        operation = schema["paths"][path][method]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert "If-Match" in headers, (path, method)
        assert {"409", "428"} <= set(operation["responses"]), (path, method)


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_patches_of_one_version_save_once(organization, funnel, head, plan):
    # given 20 editors who all read version 1
    url = _plan_url(plan)

    def save(index: int) -> int:
        client = APIClient()
        client.force_authenticate(head.user)
        try:
            return client.patch(
                url, {"revenue_target": str(1_000_000 + index)}, format="json", HTTP_IF_MATCH='"1"'
            ).status_code
        finally:
            connection.close()

    # when they save at once
    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(save, range(20)))
    # then one save wins and every other one is told it is stale: nothing lost silently
    assert sorted(codes) == [200] + [409] * 19
    plan.refresh_from_db()
    assert plan.version == 2

"""Ids and versions beyond what the database stores are refused with a 400 naming the field,
never a 500 (schemathesis found `members[0].membership = 2**70` overflowing SQLite)."""

import pytest

from responsibility.models import Responsibility
from salesplan.models import Role
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db

HUGE = 2**70


@pytest.fixture
def plan(organization, funnel, make_member):
    return PlanFactory(
        organization=organization, funnel=funnel, team=[(make_member(Role.SALESPERSON), "1")]
    )


def test_a_huge_id_in_a_body_is_a_400(api_for, owner, plan, funnel):
    api = api_for(owner)
    top = Responsibility.objects.filter(plan=plan, parent=None).first()
    split = api.post(
        f"/api/v1/plans/{plan.pk}/responsibilities/{top.pk}/split/",
        {"members": [{"membership": HUGE, "share": "1"}]},
        format="json",
    )
    assert split.status_code == 400 and "members" in split.json()
    assign = api.post(
        f"/api/v1/plans/{plan.pk}/responsibilities/",
        {"metric": HUGE, "owner": owner.pk},
        format="json",
    )
    assert assign.status_code == 400 and "metric" in assign.json()
    events = api.post("/api/v1/events/", {"funnel": HUGE, "leads": []}, format="json")
    assert events.status_code == 400
    assert events.json()["errors"][0]["field"] == "funnel"
    mix = api.patch(
        f"/api/v1/plans/{plan.pk}/",
        {"product_mix": [{"product": HUGE, "share": "1"}], "version": plan.version},
        format="json",
    )
    assert mix.status_code == 400 and "product_mix" in mix.json()


def test_a_huge_version_is_a_400(api_for, owner, plan):
    api = api_for(owner)
    response = api.patch(
        f"/api/v1/plans/{plan.pk}/", {"name": "X"}, format="json", HTTP_IF_MATCH=f'"{HUGE}"'
    )
    assert response.status_code == 400 and "If-Match" in response.json()
    reset = api.post(f"/api/v1/plans/{plan.pk}/pie/reset/", {"pie_version": HUGE}, format="json")
    assert reset.status_code == 400 and "pie_version" in reset.json()

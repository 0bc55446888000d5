"""The pie page: sunburst, findings, reassigning an owner and the team split through forms."""

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from responsibility.models import Responsibility
from salesplan.models import Role, SalesPlan
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def test_pie_page_shows_the_sunburst_and_no_findings(client_for, team, plan_id):
    response = client_for(team["head"]).get(
        reverse("pie", args=[plan_id]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    figure = json.loads(response.context["figure"])
    assert figure["data"][0]["type"] == "sunburst"
    labels = figure["data"][0]["labels"]
    assert team["marketer"].display_name in labels and "Leads" in labels
    assert "No findings" in response.content.decode()
    assert 'name="owner"' in response.content.decode()  # the head of sales edits


def test_viewer_reads_the_pie_without_forms(client_for, make_member, team, plan_id):
    response = client_for(make_member(Role.VIEWER)).get(reverse("pie", args=[plan_id]))
    assert response.status_code == 200
    assert 'name="owner"' not in response.content.decode()
    post = client_for(make_member(Role.VIEWER)).post(reverse("pie_reset", args=[plan_id]))
    assert post.status_code == 403


def test_reassigning_cost_per_lead_to_the_head_shows_the_extra_slice(client_for, team, plan_id):
    page = client_for(team["head"])
    row = Responsibility.objects.get(plan_id=plan_id, metric__key="cost_per_lead")
    version = SalesPlan.objects.get(pk=plan_id).pie_version
    response = page.post(
        reverse("pie_assign", args=[plan_id]),
        {"responsibility": row.pk, "owner": team["head"].pk, "pie_version": version},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.owner == team["head"]
    assert 'data-code="role_mismatch"' in response.content.decode()


def test_a_stale_form_changes_nothing_and_says_so(client_for, team, plan_id):
    page = client_for(team["head"])
    row = Responsibility.objects.get(plan_id=plan_id, metric__key="leads")
    stale = SalesPlan.objects.get(pk=plan_id).pie_version
    first = page.post(
        reverse("pie_assign", args=[plan_id]),
        {"responsibility": row.pk, "owner": team["anna"].pk, "pie_version": stale},
    )
    assert first.status_code == 302
    second = page.post(
        reverse("pie_assign", args=[plan_id]),
        {"responsibility": row.pk, "owner": team["boris"].pk, "pie_version": stale},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "Someone else changed this pie" in second.content.decode()
    row.refresh_from_db()
    assert row.owner == team["anna"]


def test_team_split_through_the_form(client_for, team, plan_id):
    page = client_for(team["head"])
    row = Responsibility.objects.get(plan_id=plan_id, metric__key="stage_volume:3", parent=None)
    version = SalesPlan.objects.get(pk=plan_id).pie_version
    response = page.post(
        reverse("pie_split", args=[plan_id]),
        {
            "responsibility": row.pk,
            "pie_version": version,
            f"share_{team['anna'].pk}": "70",
            f"share_{team['boris'].pk}": "30,0",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    shares = dict(row.children.values_list("owner_id", "share"))
    assert shares == {team["anna"].pk: Decimal("0.7"), team["boris"].pk: Decimal("0.3")}


def test_another_organizations_pie_is_404(client_for, plan_id):
    outsider = MembershipFactory(organization=OrganizationFactory(), role=Role.OWNER)
    assert client_for(outsider).get(reverse("pie", args=[plan_id])).status_code == 404
    response = client_for(outsider).post(reverse("pie_reset", args=[plan_id]))
    assert response.status_code == 404

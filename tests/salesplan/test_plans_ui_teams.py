"""The team list of the plan form offers only the teams the person may plan for (the owner:
every team; a head of sales: the teams they lead), and a team sent anyway is still refused."""

import pytest

from salesplan.models import Role, SalesPlan
from tests.factories import TeamFactory
from tests.salesplan.test_plan_pages import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def teams(organization, make_member):
    """North led by Nina, South led by Sam; a salesperson in each."""
    nina, sam = make_member(Role.HEAD_OF_SALES), make_member(Role.HEAD_OF_SALES)
    north = TeamFactory(organization=organization, name="North", head=nina)
    south = TeamFactory(organization=organization, name="South", head=sam)
    people = [
        make_member(Role.SALESPERSON, team=north),
        make_member(Role.SALESPERSON, team=south),
    ]
    return {"nina": nina, "sam": sam, "north": north, "south": south, "people": people}


def _offered(response) -> list[str]:
    return [team.name for team in response.context["form"].fields["sales_team"].queryset]


def test_a_head_of_sales_is_offered_only_the_teams_they_lead(client_for, teams, funnel):
    # when Nina opens a new plan
    response = client_for(teams["nina"]).get("/plans/new/", HTTP_ACCEPT_LANGUAGE="en")
    # then the list offers her team and the whole department, not South
    assert _offered(response) == ["North"]
    content = response.content.decode()
    assert ">North</option>" in content and ">South</option>" not in content
    assert "The whole department" in content


def test_the_owner_is_offered_every_team(client_for, owner, teams, funnel):
    response = client_for(owner).get("/plans/new/")
    assert _offered(response) == ["North", "South"]


def test_a_team_sent_anyway_is_refused_with_a_reason(client_for, teams, funnel):
    # given Nina's browser sends South (a crafted form)
    _, south_person = teams["people"]
    data = form_data(
        funnel,
        [south_person],
        sales_team=str(teams["south"].pk),
        **{f"share_{south_person.pk}": "100"},
    )
    # when she saves
    response = client_for(teams["nina"]).post("/plans/new/", data, HTTP_ACCEPT_LANGUAGE="en")
    # then nothing is saved and the team field says why
    assert response.status_code == 200
    assert response.context["form"].errors["sales_team"] == [
        "Choose one of the teams you may plan for."
    ]
    assert not SalesPlan.objects.exists()


def test_a_head_of_sales_saves_a_plan_of_their_team(client_for, teams, funnel):
    north_person, _ = teams["people"]
    data = form_data(
        funnel,
        [north_person],
        sales_team=str(teams["north"].pk),
        **{f"share_{north_person.pk}": "100"},
    )
    response = client_for(teams["nina"]).post("/plans/new/", data)
    assert response.status_code == 302, response.context["form"].errors
    assert SalesPlan.objects.get().sales_team == teams["north"]


def test_the_edit_form_of_a_team_plan_offers_that_team(client_for, teams, funnel):
    # given Nina's North plan
    north_person, _ = teams["people"]
    data = form_data(
        funnel,
        [north_person],
        sales_team=str(teams["north"].pk),
        **{f"share_{north_person.pk}": "100"},
    )
    client = client_for(teams["nina"])
    assert client.post("/plans/new/", data).status_code == 302
    plan = SalesPlan.objects.get()
    # when she edits it, North is offered and chosen
    response = client.get(f"/plans/{plan.pk}/edit/")
    assert _offered(response) == ["North"]
    assert f'<option value="{teams["north"].pk}" selected>North</option>' in (
        response.content.decode()
    )

"""Home by role (/): each member lands on the page of their job; a page not built falls back
to the plans' home; a viewer and a user with no organization keep what they had."""

import pytest
from django.urls import NoReverseMatch, reverse

from salesplan.dashboards import home
from salesplan.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "page"),
    [
        (Role.OWNER, "overview"),
        (Role.HEAD_OF_SALES, "dashboard"),
        (Role.MARKETER, "marketing"),
        (Role.SALESPERSON, "today"),
    ],
)
def test_each_role_lands_on_its_home(client_for, make_member, role, page):
    # given a member of each role
    member = make_member(role)
    # when they open the site's root
    response = client_for(member).get("/")
    # then they are sent to their home
    assert response.status_code == 302
    assert response["Location"] == reverse(page)


def test_a_viewer_stays_on_the_plans_home(client_for, make_member):
    response = client_for(make_member(Role.VIEWER)).get("/")
    assert response.status_code == 200
    assert "plans" in response.context and "slices" in response.context


def test_a_home_not_built_yet_falls_back_to_the_plans_home(client_for, make_member, monkeypatch):
    # given the funnel dashboard is not routed (a helper building it in parallel)
    real = home.reverse

    def reverse_without_dashboard(name, *args, **kwargs):
        if name == "dashboard":
            raise NoReverseMatch(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(home, "reverse", reverse_without_dashboard)
    # then the head of sales gets the plans' home instead of an error
    response = client_for(make_member(Role.HEAD_OF_SALES)).get("/")
    assert response.status_code == 200
    assert "plans" in response.context


def test_the_homes_answer_each_role(client_for, make_member):
    # each role's landing page opens for them (followed from /)
    for role in (Role.OWNER, Role.SALESPERSON):
        member = make_member(role)
        response = client_for(member).get("/", follow=True)
        assert response.status_code == 200, role
        client_for(member).logout()


def test_someone_with_no_organization_is_told_so(client):
    user = UserFactory()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 403
    assert "no_membership.html" in [t.name for t in response.templates]

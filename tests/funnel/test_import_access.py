"""Imports are the owner's and the heads of sales': a preview is ten raw rows of the export
(other people's names, accounts and amounts). Every other role is refused the API as the
pages refuse it, and told why; another organization's import is not found."""

import pytest

from salesplan.models import Role
from tests.factories import MembershipFactory, OrganizationFactory
from tests.funnel.jobs import FIXTURES, media, ru_funnel, upload  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

CLOSED_ROLES = [Role.SALESPERSON, Role.MARKETER, Role.VIEWER]


@pytest.fixture
def job(api_for, head, ru_funnel, media) -> dict:  # noqa: F811
    return upload(api_for(head), ru_funnel, FIXTURES / "amocrm_deals.csv")


def urls(job: dict) -> list[str]:
    return [
        "/api/v1/imports/",
        f"/api/v1/imports/{job['id']}/",
        f"/api/v1/imports/{job['id']}/preview/",
        f"/api/v1/imports/{job['id']}/errors/",
    ]


@pytest.mark.parametrize("role", CLOSED_ROLES)
def test_other_roles_read_no_import_and_are_told_why(api_for, make_member, job, role):
    api = api_for(make_member(role, salesperson_kind="hunter" if role == Role.SALESPERSON else ""))
    for url in urls(job):
        response = api.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 403, (role, url)
        assert response.json() == {
            "detail": "Only the owner or a head of sales works with imports."
        }
        assert "Петров" not in response.content.decode()
    # nor may they start one
    assert api.post(f"/api/v1/imports/{job['id']}/confirm/", {}, format="json").status_code == 403


@pytest.mark.parametrize("role", CLOSED_ROLES)
def test_other_roles_get_no_import_page(client_for, make_member, job, role):
    client = client_for(make_member(role))
    for url in ("/imports/", f"/imports/{job['id']}/"):
        assert client.get(url).status_code == 403, (role, url)


@pytest.mark.parametrize("role", [Role.OWNER, Role.HEAD_OF_SALES])
def test_owner_and_heads_of_sales_read_imports(api_for, make_member, job, role):
    api = api_for(make_member(role))
    for url in urls(job)[:3]:
        assert api.get(url).status_code == 200, (role, url)
    assert api.get(urls(job)[2]).json()["sample"]


def test_another_organizations_import_is_not_found(api_for, job):
    outsider = MembershipFactory(organization=OrganizationFactory(name="Rival"), role=Role.OWNER)
    api = api_for(outsider)
    assert api.get("/api/v1/imports/").json()["results"] == []
    for url in urls(job)[1:]:
        assert api.get(url).status_code == 404, url

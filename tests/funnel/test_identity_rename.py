"""A person's identity in a CRM is the organization's to set, never a name the person edits:
a salesperson who renames themselves (PATCH /api/v1/me/) to a colleague's name, or to a name
the CRM uses, gets none of those leads; the leads under their own former name stay theirs."""

import pytest

from funnel.models import Lead
from salesplan import services
from salesplan.models import Invitation, Role

pytestmark = pytest.mark.django_db


def person(make_member, first: str, last: str):
    member = make_member(Role.SALESPERSON, salesperson_kind="hunter")
    member.user.first_name, member.user.last_name = first, last
    member.user.save()
    return member


def load(api, funnel_id: int, owners: dict[str, str]) -> None:
    """New leads from the CRM, each with its owner as the CRM names them."""
    body = {
        "funnel": funnel_id,
        "source": "api",
        "leads": [
            {"external_id": external_id, "created_at": "2026-12-01T10:00:00Z", "responsible": name}
            for external_id, name in owners.items()
        ],
    }
    response = api.post("/api/v1/events/", body, format="json")
    assert response.status_code == 200, response.json()


def owner_of(external_id: str):
    return Lead.objects.get(external_id=external_id).responsible


def test_a_self_rename_to_a_colleagues_name_takes_none_of_her_leads(
    api, api_for, make_member, funnel_id
):
    # given Boris (who joined first) and his colleague Anna, each with a lead
    boris = person(make_member, "Boris", "Ivanov")
    anna = person(make_member, "Anna", "Petrova")
    load(api, funnel_id, {"L1": "Anna Petrova", "L2": "Boris Ivanov"})
    assert (owner_of("L1"), owner_of("L2")) == (anna, boris)
    # when Boris renames himself to Anna's name
    renamed = api_for(boris).patch(
        "/api/v1/me/", {"first_name": "Anna", "last_name": "Petrova"}, format="json"
    )
    assert renamed.status_code == 200
    # and new leads come for "Anna Petrova", in either order of the names, and for Boris' old name
    load(api, funnel_id, {"L3": "Anna Petrova", "L4": "Petrova Anna", "L5": "Boris Ivanov"})
    # then Anna's leads are Anna's, the old and the new, and Boris keeps his own
    assert [owner_of(key) for key in ("L1", "L3", "L4")] == [anna, anna, anna]
    assert [owner_of(key) for key in ("L2", "L5")] == [boris, boris]


def test_a_self_rename_to_a_name_the_crm_uses_takes_no_leads(api, api_for, make_member, funnel_id):
    # given leads of someone the CRM knows and no member is (a former colleague)
    boris = person(make_member, "Boris", "Ivanov")
    load(api, funnel_id, {"L1": "Ivan Sidorov"})
    assert owner_of("L1") is None
    # when Boris takes that name
    api_for(boris).patch(
        "/api/v1/me/", {"first_name": "Ivan", "last_name": "Sidorov"}, format="json"
    )
    load(api, funnel_id, {"L2": "Ivan Sidorov"})
    # then neither the stored lead nor the new one is his: only a link on the identities
    # page (the owner's or a head of sales' decision) gives them to someone
    assert (owner_of("L1"), owner_of("L2")) == (None, None)


def test_two_members_with_the_same_name_match_nobody_until_linked(api, make_member, funnel_id):
    person(make_member, "Anna", "Petrova")
    person(make_member, "Anna", "Petrova")
    load(api, funnel_id, {"L1": "Anna Petrova"})
    assert owner_of("L1") is None


@pytest.mark.parametrize(
    ("typed", "matched"), [(("Ivan", "Novikov"), True), (("Ivan", "Sidorov"), False)]
)
def test_a_name_typed_when_accepting_an_invitation_is_not_the_crms(
    api, organization, funnel_id, typed, matched
):
    # given an invitation the owner wrote for Ivan Novikov, and CRM leads of Ivan Sidorov
    invitation = Invitation.objects.create(
        organization=organization,
        email="ivan@example.com",
        first_name="Ivan",
        last_name="Novikov",
        role=Role.SALESPERSON,
    )
    load(api, funnel_id, {"L1": "Ivan Sidorov", "L2": "Ivan Novikov"})
    # when the person accepts it, typing a name
    member = services.invitation_accept(
        invitation=invitation,
        user=None,
        password="x-Very-long-9",
        first_name=typed[0],
        last_name=typed[1],
    )
    load(api, funnel_id, {"L3": " ".join(typed)})
    # then the name the owner gave finds them; a name they typed instead finds nobody
    assert owner_of("L3") == (member if matched else None)
    assert owner_of("L1") is None

"""One function decides the organization; another organization's objects are 404."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.test import RequestFactory

from salesplan.access import get_scoped_or_404, membership_for, organization_for, scoped
from salesplan.models import Membership, Role
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def _request(user, session=None):
    request = RequestFactory().get("/")
    request.user = user
    request.session = session or {}
    return request


def test_organization_for_picks_the_session_choice_among_several():
    first = MembershipFactory(role=Role.OWNER)
    second = MembershipFactory(user=first.user, role=Role.VIEWER)
    assert organization_for(_request(first.user)) == first.organization
    chosen = _request(first.user, {"organization_id": second.organization_id})
    assert organization_for(chosen) == second.organization
    # a session naming an organization the user is not in falls back to their own
    foreign = OrganizationFactory()
    assert (
        organization_for(_request(first.user, {"organization_id": foreign.pk}))
        == first.organization
    )


def test_no_membership_is_404():
    assert membership_for(_request(AnonymousUser())) is None
    with pytest.raises(Http404):
        organization_for(_request(AnonymousUser()))


def test_scoped_lookup_never_returns_another_organizations_object():
    mine = MembershipFactory()
    theirs = MembershipFactory()
    assert list(scoped(Membership, mine.organization)) == [mine]
    with pytest.raises(Http404):
        get_scoped_or_404(Membership, mine.organization, pk=theirs.pk)
    with pytest.raises(Http404):
        get_scoped_or_404(Membership, mine.organization, pk="not-a-number")

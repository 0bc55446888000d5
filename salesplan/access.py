"""The one place that decides which organization a user acts in and what they may see.

Every selector, view and API call goes through `organization_for()` / `scoped()`: no query
reaches the database without an organization filter.
"""

from typing import Any, TypeVar

from django.db import models
from django.http import Http404, HttpRequest

from salesplan.models import Membership, Organization

M = TypeVar("M", bound=models.Model)

SESSION_ORGANIZATION_KEY = "organization_id"


def memberships_of(user: Any) -> models.QuerySet[Membership]:
    if not getattr(user, "is_authenticated", False):
        return Membership.objects.none()
    return Membership.objects.filter(user=user, is_active=True).select_related(
        "organization", "user", "team"
    )


def membership_for(request: HttpRequest) -> Membership | None:
    """The membership the request acts as: the organization chosen in the session, else the
    user's first one. Cached on the request."""
    cached = getattr(request, "_salesplan_membership", False)
    if cached is not False:
        return cached
    memberships = memberships_of(request.user).order_by("id")
    chosen_id = None
    session = getattr(request, "session", None)
    if session is not None:
        chosen_id = session.get(SESSION_ORGANIZATION_KEY)
    membership = None
    if chosen_id is not None:
        membership = memberships.filter(organization_id=chosen_id).first()
    if membership is None:
        membership = memberships.first()
    request._salesplan_membership = membership
    return membership


def organization_for(request: HttpRequest) -> Organization:
    """The organization of the request; 404 for a user who belongs to none."""
    membership = membership_for(request)
    if membership is None:
        raise Http404("Not a member of any organization")
    return membership.organization


def scoped(
    queryset: models.QuerySet[M] | models.Manager[M] | type[M],
    organization: Organization,
    *,
    path: str = "organization",
) -> models.QuerySet[M]:
    """Filter anything to one organization. `path` is the lookup to the organization field
    for models that reach it through a relation (e.g. "plan__organization")."""
    if isinstance(queryset, type):
        queryset = queryset._default_manager
    return queryset.filter(**{path: organization})


def get_scoped_or_404(
    queryset: models.QuerySet[M] | models.Manager[M] | type[M],
    organization: Organization,
    *,
    path: str = "organization",
    **lookup: Any,
) -> M:
    """Another organization's object is 404, never 403: its existence is not revealed."""
    try:
        return scoped(queryset, organization, path=path).get(**lookup)
    except (models.ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Not found") from exc

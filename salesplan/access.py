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


# --- what a role may do (DOMAIN section 2: roles) ---------------------------------------------
#
# owner            everything in the organization
# head of sales    plans and pies of the teams they lead (and department plans with no team),
#                  funnels, products and the calendar; reads the rest
# salesperson,     read plans, the pie and their own metrics; write nothing but their profile
# marketer
# viewer           read only


def can_edit_settings(membership: Membership | None) -> bool:
    """Funnels, products and the working calendar: the planning inputs of the department."""
    from salesplan.models import Role

    return membership is not None and membership.role in (Role.OWNER, Role.HEAD_OF_SALES)


def led_team_ids(membership: Membership) -> set[int]:
    from salesplan.models import Team

    return set(
        scoped(Team, membership.organization).filter(head=membership).values_list("id", flat=True)
    )


def can_edit_plan(membership: Membership | None, plan: Any = None) -> bool:
    """A plan and its pie: the owner always; a head of sales for their team's plans and for
    department plans without a team; nobody else. Without a plan: may they create one."""
    from salesplan.models import Role

    if membership is None:
        return False
    if membership.role == Role.OWNER:
        return True
    if membership.role != Role.HEAD_OF_SALES:
        return False
    if plan is None or plan.sales_team_id is None:
        return True
    return plan.sales_team_id in led_team_ids(membership)


def sees_only_own_metrics(membership: Membership) -> bool:
    from salesplan.models import Role

    return membership.role in (Role.SALESPERSON, Role.MARKETER)

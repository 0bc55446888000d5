"""Who may see and do what: the one place that decides it.

Three parts, used by every page and every API view:

1. The organization of a request: `membership_for(request)` (the membership the request acts
   as), `organization_for(request)`, and `scoped()` (no query reaches the database without an
   organization filter).
2. The rules of the roles (DOMAIN section 2): `may_edit_settings`, `may_create_plans`,
   `may_edit_plan`, `lead_rows`, `metric_rows`, …
3. The kinds of objects fetched by id, each with its rules (`KINDS`), and
   `access_object(member, queryset, pk, edit=…)`: fetch, scope to the organization, check the
   role, and raise 404 (another organization's object, or a row the member may not see) or 403
   (seen, but the role may not do that). `access_plan` is its typed form for plans; the apps
   name their objects the same way (`funnel.selectors.access_import`, …).

The kernel imports no app, so the kinds name their models by label ("funnel.Lead"); the app
passes its queryset in.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils.translation import gettext

from salesplan.models import Membership, Organization, Role, SalesPlan, Team

M = TypeVar("M", bound=models.Model)

SESSION_ORGANIZATION_KEY = "organization_id"

# --- 1. the organization of a request -------------------------------------------------------


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


def require_membership(
    request: HttpRequest, allowed: Callable[[Membership], bool] | None = None
) -> Membership:
    """The member a page acts as (MembershipMiddleware answers first for anyone else); with
    `allowed` (a rule below, e.g. may_edit_settings) 403 for a member it refuses."""
    membership = membership_for(request)
    if membership is None or (allowed is not None and not allowed(membership)):
        raise PermissionDenied
    return membership


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


# --- 2. the rules of the roles --------------------------------------------------------------
#
# owner            everything in the organization
# head of sales    plans and pies of the teams they lead (and department plans with no team),
#                  funnels, products, the calendar, imports and integrations; reads the rest
# salesperson      read plans and the pie; their own metrics and their own leads
# marketer         read plans and the pie; their own metrics
# viewer           read only

SETTINGS_EDITORS = frozenset({Role.OWNER, Role.HEAD_OF_SALES})


def may_edit_settings(member: Membership | None) -> bool:
    """Funnels, products, the working calendar, imports and CRM integrations: the planning
    inputs and the actuals of the department."""
    return member is not None and member.role in SETTINGS_EDITORS


def may_manage_members(member: Membership | None) -> bool:
    return member is not None and member.role == Role.OWNER


def led_team_ids(member: Membership) -> set[int]:
    """The teams a head of sales leads. Cached on the membership: asked once per request."""
    cached = getattr(member, "_led_team_ids", None)
    if cached is None:
        cached = set(
            scoped(Team, member.organization).filter(head=member).values_list("id", flat=True)
        )
        member._led_team_ids = cached
    return cached


def may_plan_for(member: Membership | None, team_id: int | None) -> bool:
    """May create or edit a plan of this team (None: the whole department). The owner
    always; a head of sales for the teams they lead and for department plans; nobody else."""
    if member is None:
        return False
    if member.role == Role.OWNER:
        return True
    if member.role != Role.HEAD_OF_SALES:
        return False
    return team_id is None or team_id in led_team_ids(member)


# Who reads the marketer's figures: the marketer, the owner and the head of sales (marketing
# and sales share one target, DOMAIN idea 4); a salesperson (their page is "today") and a
# viewer do not.
MARKETING_READERS = frozenset({Role.MARKETER, Role.OWNER, Role.HEAD_OF_SALES})


def may_see_marketing(member: Membership | None) -> bool:
    return member is not None and member.role in MARKETING_READERS


def may_create_plans(member: Membership | None) -> bool:
    """May create some plan (for the department or a team they lead)."""
    return may_plan_for(member, None)


def may_edit_plan(member: Membership | None, plan: SalesPlan) -> bool:
    """A plan and its pie (its responsibilities, its metrics' weights)."""
    return may_plan_for(member, plan.sales_team_id)


def sees_only_own_metrics(member: Membership) -> bool:
    return member.role in (Role.SALESPERSON, Role.MARKETER)


def sees_only_own_leads(member: Membership) -> bool:
    """A salesperson sees the leads they are responsible for; every other role sees all."""
    return member.role == Role.SALESPERSON


def metric_rows(member: Membership) -> Q:
    """The metrics a member sees: salespeople and marketers those they hold (or hold a share
    of); everyone else all of them."""
    if sees_only_own_metrics(member):
        return Q(responsibilities__owner=member)
    return Q()


def lead_rows(member: Membership) -> Q:
    return Q(responsible=member) if sees_only_own_leads(member) else Q()


# --- 3. the kinds of objects, and access_object ---------------------------------------------


def _anyone(member: Membership) -> bool:
    return True


def _everything(member: Membership) -> Q:
    return Q()


def _nobody(member: Membership, obj: Any) -> bool:
    return False


def _settings_editor(member: Membership, obj: Any) -> bool:
    return may_edit_settings(member)


def _plan_editor(member: Membership, obj: Any) -> bool:
    return may_edit_plan(member, obj if isinstance(obj, SalesPlan) else obj.plan)


@dataclass(frozen=True)
class Kind:
    """What a member may do with one kind of object."""

    label: str  # the model's "app_label.ModelName"
    organization: str = "organization"  # the lookup to the organization
    read: Callable[[Membership], bool] = _anyone  # may read any of them at all (else 403)
    rows: Callable[[Membership], Q] = _everything  # which of them (others: 404)
    edit: Callable[[Membership, Any], bool] = _nobody  # may change or delete this one (403)
    distinct: bool = False  # `rows` joins a to-many relation


KINDS: dict[str, Kind] = {
    kind.label: kind
    for kind in (
        Kind("salesplan.SalesPlan", edit=_plan_editor),
        Kind("salesplan.PlanVersion", organization="plan__organization"),
        Kind("salesplan.Product", edit=_settings_editor),
        Kind("salesplan.CalendarDay", edit=_settings_editor),
        Kind("salesplan.Membership"),
        Kind("funnel.Funnel", edit=_settings_editor),
        Kind("funnel.Lead", rows=lead_rows),
        Kind("funnel.ImportJob", read=may_edit_settings, edit=_settings_editor),
        # Integrations hold the secrets CRMs post with: reading them is editing.
        Kind("funnel.Integration", read=may_edit_settings, edit=_settings_editor),
        Kind("funnel.RawRecord", read=may_edit_settings, edit=_settings_editor),
        Kind("funnel.Identity", read=may_edit_settings, edit=_settings_editor),
        Kind(
            "metrics.PlanMetric",
            organization="plan__organization",
            rows=metric_rows,
            edit=_plan_editor,
            distinct=True,
        ),
        Kind("responsibility.Responsibility", organization="plan__organization", edit=_plan_editor),
    )
}


def kind_of(queryset: models.QuerySet[Any] | type[models.Model]) -> Kind:
    model = queryset if isinstance(queryset, type) else queryset.model
    return KINDS[model._meta.label]


def visible(
    member: Membership, queryset: models.QuerySet[M] | models.Manager[M] | type[M]
) -> models.QuerySet[M]:
    """The objects of this kind the member sees: their organization's, and of those the rows
    their role shows (a salesperson: their own leads). None for a role closed to the kind."""
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    elif isinstance(queryset, models.Manager):
        queryset = queryset.all()
    kind = kind_of(queryset)
    if not kind.read(member):
        return queryset.none()
    rows = scoped(queryset, member.organization, path=kind.organization).filter(kind.rows(member))
    return rows.distinct() if kind.distinct else rows


def access_object(
    member: Membership,
    queryset: models.QuerySet[M] | models.Manager[M] | type[M],
    pk: Any,
    *,
    edit: bool = False,
) -> M:
    """Fetch one object for a member: 404 for another organization's object or a row their
    role does not show, 403 for a role that may not read this kind, or (edit=True) may not
    change this object."""
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    kind = kind_of(queryset)
    scope = scoped(queryset, member.organization, path=kind.organization)
    rows = scope.filter(kind.rows(member))
    try:
        obj = (rows.distinct() if kind.distinct else rows).get(pk=pk)
    except (models.ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Not found") from exc
    if not kind.read(member) or (edit and not kind.edit(member, obj)):
        raise PermissionDenied(gettext("Your role does not allow this action."))
    return obj


def may_edit(member: Membership, obj: models.Model) -> bool:
    """What `access_object(..., edit=True)` would allow, for showing or hiding a button."""
    return kind_of(type(obj)).edit(member, obj)


def plans_queryset() -> models.QuerySet[SalesPlan]:
    return SalesPlan.objects.select_related("organization", "funnel", "sales_team")


def access_plan(member: Membership, pk: Any, *, edit: bool = False) -> SalesPlan:
    """A plan of the member's organization; edit=True: one they may change (and its pie)."""
    return access_object(member, plans_queryset(), pk, edit=edit)

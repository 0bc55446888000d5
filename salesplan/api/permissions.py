"""Who may call an endpoint at all (the rules live in salesplan.access; one object's check is
`access_object`, called by OrganizationScopedMixin.get_object)."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from salesplan.access import may_create_plans, may_edit_settings, membership_for


class IsOrganizationMember(BasePermission):
    """Every API call needs a signed-in member of an organization."""

    message = "You are not a member of any organization."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and membership_for(request))


def _writes(request: Request, view: Any) -> bool:
    return request.method not in SAFE_METHODS and getattr(view, "action", None) not in getattr(
        view, "read_actions", ()
    )


class CanEditSettings(IsOrganizationMember):
    """Funnels, products, the calendar, imports, the events API: owners and heads of sales
    write, members read."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        return not _writes(request, view) or may_edit_settings(membership_for(request))


class ManagesSettings(IsOrganizationMember):
    """Reading is editing here (CRM integrations hold the secrets CRMs post with)."""

    message = _("Only the owner or a head of sales manages CRM integrations.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and may_edit_settings(membership_for(request))


class ManagesImports(IsOrganizationMember):
    """File imports: reading is editing too (a preview is the export's raw rows, with other
    people's names, accounts and amounts)."""

    message = _("Only the owner or a head of sales works with imports.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and may_edit_settings(membership_for(request))


class CanEditPlans(IsOrganizationMember):
    """Plans and their pies: writes need a role that may plan for some team (each plan's own
    check is salesplan.access.may_edit_plan, through access_object)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        return not _writes(request, view) or may_create_plans(membership_for(request))

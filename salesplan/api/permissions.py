from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from salesplan.access import can_edit_plan, can_edit_settings, membership_for


class IsOrganizationMember(BasePermission):
    """Every API call needs a signed-in member of an organization."""

    message = "You are not a member of any organization."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and membership_for(request))


class CanEditSettings(IsOrganizationMember):
    """Funnels, products, the calendar: owners and heads of sales write, members read."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        return request.method in SAFE_METHODS or can_edit_settings(membership_for(request))


class CanEditPlans(IsOrganizationMember):
    """Plans and their pies: see salesplan.access.can_edit_plan."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        return request.method in SAFE_METHODS or can_edit_plan(membership_for(request))

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        plan = getattr(obj, "plan", obj)
        return can_edit_plan(membership_for(request), plan)

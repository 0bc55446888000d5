from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from salesplan.access import membership_for
from salesplan.models import Role


class IsOrganizationMember(BasePermission):
    """Every API call needs a signed-in member of an organization."""

    message = "You are not a member of any organization."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and membership_for(request))


class CanEditPlans(IsOrganizationMember):
    """Owners and heads of sales write; everyone else in the organization reads."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS:
            return True
        membership = membership_for(request)
        return membership is not None and membership.role in (Role.OWNER, Role.HEAD_OF_SALES)

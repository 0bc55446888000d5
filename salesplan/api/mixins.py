from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework import serializers

from salesplan.access import membership_for, scoped
from salesplan.models import Membership, Organization


class OrganizationScopedMixin:
    """Every API view reads through `scoped()`: another organization's object is 404."""

    organization_path = "organization"
    request: Any

    @property
    def membership(self) -> Membership:
        membership = membership_for(self.request)
        assert membership is not None  # IsOrganizationMember ran first
        return membership

    @property
    def organization(self) -> Organization:
        return self.membership.organization

    def scope(self, queryset: QuerySet) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request user
            return queryset.none()
        return scoped(queryset, self.organization, path=self.organization_path)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()  # type: ignore[misc]
        if getattr(self, "swagger_fake_view", False):
            return context
        context["organization"] = self.organization
        return context


def as_drf_error(error: DjangoValidationError) -> serializers.ValidationError:
    if hasattr(error, "error_dict"):
        return serializers.ValidationError(error.message_dict)
    return serializers.ValidationError({"non_field_errors": error.messages})

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext
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


def expected_version(request: Any, field: str) -> int | None:
    """The version the caller read, for optimistic concurrency: the `If-Match` header (the
    ETag we sent) wins over a `field` in the body; None when the caller sent neither."""
    header = request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')
    data = request.data if hasattr(request.data, "get") else {}
    value, name = (header, "If-Match") if header else (data.get(field), field)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise serializers.ValidationError(
            {name: [gettext('Send the version you read as a whole number, e.g. "3".')]}
        ) from None

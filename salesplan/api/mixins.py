from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

from salesplan.access import access_object, membership_for, visible
from salesplan.limits import MAX_INT
from salesplan.models import Membership, Organization


class OrganizationScopedMixin:
    """Every API view reads through `salesplan.access`: a list is what `visible()` shows the
    member, one object is fetched and authorized by `access_object()` (404 for another
    organization's object or a row the role does not show, 403 for a write the role may not
    make). A view names its objects in `base_queryset()`."""

    request: Any
    kwargs: dict[str, Any]
    action: str | None
    # Actions that change nothing although they are POSTs (a preview, a what-if).
    read_actions: frozenset[str] = frozenset()

    @property
    def membership(self) -> Membership:
        membership = membership_for(self.request)
        assert membership is not None  # IsOrganizationMember ran first
        return membership

    @property
    def organization(self) -> Organization:
        return self.membership.organization

    @property
    def schema_only(self) -> bool:
        """drf-spectacular generating the schema: there is no request user."""
        return getattr(self, "swagger_fake_view", False)

    def base_queryset(self) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        if self.schema_only:
            return self.base_queryset().none()
        return visible(self.membership, self.base_queryset())

    def is_write(self) -> bool:
        return self.request.method not in SAFE_METHODS and self.action not in self.read_actions

    def get_object(self) -> Any:
        lookup = self.kwargs[getattr(self, "lookup_url_kwarg", None) or "pk"]
        obj = access_object(self.membership, self.base_queryset(), lookup, edit=self.is_write())
        self.check_object_permissions(self.request, obj)  # type: ignore[attr-defined]
        return obj

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()  # type: ignore[misc]
        if self.schema_only:
            return context
        context["organization"] = self.organization
        return context


def expected_version(request: Any, field: str) -> int | None:
    """The version the caller read, for optimistic concurrency: the `If-Match` header (the
    ETag we sent) wins over a `field` in the body; None when the caller sent neither."""
    header = request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')
    data = request.data if hasattr(request.data, "get") else {}
    value, name = (header, "If-Match") if header else (data.get(field), field)
    if value in (None, ""):
        return None
    try:
        version = int(value)
    except (TypeError, ValueError):
        version = -1
    if not 0 <= version <= MAX_INT:
        raise serializers.ValidationError(
            {name: [gettext('Send the version you read as a whole number, e.g. "3".')]}
        )
    return version

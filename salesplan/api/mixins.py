from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers
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


# RFC 9110 §13.1.1: `If-Match: *` matches any current representation.
ANY_VERSION = "*"


class PreconditionRequired(exceptions.APIException):
    """428 (RFC 6585): a change that must say which version it was based on did not."""

    status_code = 428
    default_code = "precondition_required"
    default_detail = _(
        'Send the version you read: the If-Match header with the ETag (e.g. If-Match: "3") '
        'or the "%(field)s" field. If-Match: * saves over any version.'
    )

    def __init__(self, field: str) -> None:
        super().__init__(detail=self.default_detail % {"field": field})


def expected_version(request: Any, field: str, *, required: bool = False) -> int | None:
    """The version the caller read, for optimistic concurrency: the `If-Match` header (the
    ETag we sent) wins over a `field` in the body. None when the caller sent `If-Match: *`
    (no check) or, unless `required`, nothing; a required one missing is a 428, so no PATCH
    or PUT overwrites a change it never saw."""
    header = request.headers.get("If-Match", "").strip()
    if header == ANY_VERSION:
        return None
    header = header.removeprefix("W/").strip('"')
    data = request.data if hasattr(request.data, "get") else {}
    value, name = (header, "If-Match") if header else (data.get(field), field)
    if value in (None, ""):
        if required:
            raise PreconditionRequired(field)
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


# The API schema of a PATCH or PUT that needs the version (drf-spectacular).
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        'The ETag you read, e.g. "3" (or send the version field in the body). Without either '
        "the change is refused with 428; `*` saves over any version."
    ),
)
CONFLICT_RESPONSES = {
    409: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="Saved by someone else after the version you sent: nothing was changed; "
        "the body has the current version.",
    ),
    428: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="Neither If-Match nor the version field was sent: nothing was changed.",
    ),
}

"""The responsibility pie over the API: /api/v1/plans/{plan_pk}/responsibilities/ and /pie/."""

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from metrics.models import PlanMetric
from responsibility import services
from responsibility.models import Responsibility
from responsibility.selectors import pie_tree
from salesplan.access import access_plan, may_edit_plan
from salesplan.api.fields import IdField
from salesplan.api.mixins import (
    CONFLICT_RESPONSES,
    IF_MATCH,
    OrganizationScopedMixin,
    expected_version,
)
from salesplan.api.permissions import IsOrganizationMember
from salesplan.api.schema import error_responses
from salesplan.limits import MAX_ID, MAX_INT
from salesplan.models import Membership, SalesPlan

SHARE = {"max_digits": 9, "decimal_places": 6}


def _conflict(stale: services.StalePie) -> Response:
    return Response(
        {
            "detail": gettext(
                "Someone else changed this pie after you opened it. Reload it to see their "
                "changes, then apply yours again."
            ),
            "current_pie_version": stale.current,
        },
        status=status.HTTP_409_CONFLICT,
    )


class PlanScopedMixin(OrganizationScopedMixin):
    """Views under /plans/{plan_pk}/: the plan must be the caller's organization's (404)."""

    kwargs: dict[str, Any]

    @property
    def plan(self) -> SalesPlan:
        if not hasattr(self, "_plan"):
            self._plan = access_plan(self.membership, self.kwargs["plan_pk"])
        return self._plan

    def check_can_edit(self) -> None:
        """Changing the pie is editing the plan (salesplan.access.may_edit_plan)."""
        if not may_edit_plan(self.membership, self.plan):
            raise PermissionDenied(gettext("Your role does not allow changing this pie."))


class ResponsibilitySerializer(serializers.ModelSerializer):
    serializer_related_field = IdField
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    metric_name = serializers.CharField(source="metric.display_name", read_only=True)
    pie_version = serializers.IntegerField(
        max_value=MAX_INT,
        write_only=True,
        required=False,
        help_text="The pie version you read (or If-Match).",
    )

    class Meta:
        model = Responsibility
        fields = [
            "id",
            "metric",
            "metric_name",
            "owner",
            "owner_name",
            "parent",
            "share",
            "pie_version",
        ]
        extra_kwargs = {"share": {"required": False}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plan = self.context.get("plan")
        if plan is not None:
            self.fields["metric"].queryset = PlanMetric.objects.filter(plan=plan)
            self.fields["owner"].queryset = Membership.objects.filter(
                organization_id=plan.organization_id
            )
            self.fields["parent"].queryset = Responsibility.objects.filter(plan=plan)
        else:
            for name in ("metric", "owner", "parent"):
                self.fields[name].queryset = self.fields[name].queryset.none()


class SplitItemSerializer(serializers.Serializer):
    membership = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    share = serializers.DecimalField(**SHARE)


class SplitSerializer(serializers.Serializer):
    members = SplitItemSerializer(many=True)
    pie_version = serializers.IntegerField(required=False, max_value=MAX_INT)


@extend_schema_view(
    partial_update=extend_schema(
        parameters=[IF_MATCH],
        responses={200: ResponsibilitySerializer, **CONFLICT_RESPONSES},
    ),
    create=extend_schema(responses={201: ResponsibilitySerializer, **error_responses(409)}),
    destroy=extend_schema(responses={204: None, **error_responses(409)}),
)
class ResponsibilityViewSet(PlanScopedMixin, viewsets.ModelViewSet):
    """Who owns which metric of the plan. Writes: the plan's editors; each write bumps the
    pie version, and a write based on an older one answers 409; a PATCH must name the pie
    version it is based on (If-Match or `pie_version`, else 428)."""

    serializer_class = ResponsibilitySerializer
    permission_classes = [IsOrganizationMember]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def base_queryset(self) -> QuerySet[Responsibility]:
        if self.schema_only:
            return Responsibility.objects.all()
        return Responsibility.objects.filter(plan=self.plan).select_related(
            "owner__user", "metric", "plan"
        )

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if not self.schema_only:
            context["plan"] = self.plan
        return context

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.check_can_edit()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            row = services.responsibility_assign(
                plan=self.plan,
                metric=data["metric"],
                owner=data["owner"],
                parent=data.get("parent"),
                share=data.get("share", Decimal(1)),
                expected_pie_version=expected_version(request, "pie_version"),
            )
        except services.StalePie as stale:
            return _conflict(stale)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        row = self.get_object()
        expected = expected_version(request, "pie_version", required=True)
        serializer = self.get_serializer(row, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            row = services.responsibility_reassign(
                responsibility=row,
                owner=serializer.validated_data.get("owner"),
                share=serializer.validated_data.get("share"),
                expected_pie_version=expected,
            )
        except services.StalePie as stale:
            return _conflict(stale)
        return Response(self.get_serializer(row).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        row = self.get_object()
        try:
            services.responsibility_delete(
                responsibility=row, expected_pie_version=expected_version(request, "pie_version")
            )
        except services.StalePie as stale:
            return _conflict(stale)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=SplitSerializer,
        responses={200: ResponsibilitySerializer(many=True), **error_responses(409)},
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def split(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Replace the team split below this responsibility; shares should add up to 1
        (the pie's findings say so when they do not)."""
        row = self.get_object()
        serializer = SplitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        members = {
            m.pk: m
            for m in Membership.objects.filter(
                organization_id=self.plan.organization_id,
                pk__in=[item["membership"] for item in serializer.validated_data["members"]],
            )
        }
        shares = []
        for index, item in enumerate(serializer.validated_data["members"]):
            member = members.get(item["membership"])
            if member is None:
                raise serializers.ValidationError(
                    {
                        f"members[{index}].membership": [
                            _("This person is not in your organization.")
                        ]
                    }
                )
            shares.append((member, item["share"]))
        try:
            children = services.responsibility_split(
                responsibility=row,
                shares=shares,
                expected_pie_version=expected_version(request, "pie_version"),
            )
        except services.StalePie as stale:
            return _conflict(stale)
        return Response(self.get_serializer(children, many=True).data)


class PieView(PlanScopedMixin, APIView):
    """The plan's pie: owners → metrics → team split, and the rules' findings."""

    permission_classes = [IsOrganizationMember]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, plan_pk: int) -> Response:
        response = Response(pie_tree(self.plan))
        response["ETag"] = f'"{self.plan.pie_version}"'
        return response


class PieResetView(PlanScopedMixin, APIView):
    """Throw the pie away and propose the default one from the roles again."""

    permission_classes = [IsOrganizationMember]

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT, **error_responses(409)})
    def post(self, request: Request, plan_pk: int) -> Response:
        self.check_can_edit()
        expected = expected_version(request, "pie_version")
        if expected is not None and expected != self.plan.pie_version:
            return _conflict(services.StalePie(self.plan.pie_version))
        services.pie_propose_default(plan=self.plan, only_unowned=False)
        self.plan.refresh_from_db()
        return Response(pie_tree(self.plan))

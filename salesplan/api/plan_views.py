"""Plans, products and the calendar over the API; decomposition, preview and what-if."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from salesplan import plan_services
from salesplan.access import can_edit_plan
from salesplan.api.mixins import OrganizationScopedMixin, as_drf_error, expected_version
from salesplan.api.permissions import CanEditPlans, CanEditSettings, IsOrganizationMember
from salesplan.api.plan_serializers import (
    CalendarDaySerializer,
    PlanPreviewSerializer,
    PlanVersionSerializer,
    ProductSerializer,
    SalesPlanSerializer,
    WhatIfSerializer,
)
from salesplan.models import CalendarDay, PlanMember, PlanProduct, Product, SalesPlan
from salesplan.plan_engine import (
    calendar_for,
    decomposition_payload,
    plan_input_for,
    plan_input_from_snapshot,
    translate_errors,
    what_if_changes,
)
from salesplan.planning import (
    History,
    MonthStat,
    PlanInputError,
    decompose,
    what_if,
)
from salesplan.planning.whatif import diff_decompositions


def _plan_input_error(error: PlanInputError) -> serializers.ValidationError:
    return serializers.ValidationError(translate_errors(error.errors))


def _etag(plan: SalesPlan) -> str:
    return f'"{plan.version}"'


class PlanViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """Sales plans. Every save is a new version; a stale save answers 409."""

    serializer_class = SalesPlanSerializer
    permission_classes = [CanEditPlans]

    def get_queryset(self):
        return (
            self.scope(SalesPlan.objects.all())
            .select_related("funnel", "organization")
            .prefetch_related(
                Prefetch("members", queryset=PlanMember.objects.select_related("membership__user")),
                Prefetch("product_mix", queryset=PlanProduct.objects.select_related("product")),
            )
        )

    def _service_kwargs(self, data: dict[str, Any]) -> dict[str, Any]:
        kwargs = dict(data)
        kwargs.pop("version", None)
        if "members" in kwargs:
            kwargs["team"] = [
                plan_services.TeamShare(item["membership"], item["share"])
                for item in kwargs.pop("members")
            ]
        if "product_mix" in kwargs:
            kwargs["product_mix"] = [
                plan_services.MixItem(item["product"], item.get("share"), item.get("units"))
                for item in kwargs["product_mix"]
            ]
        return kwargs

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        team = serializer.validated_data.get("sales_team")
        if not can_edit_plan(self.membership, SalesPlan(sales_team=team)):
            raise PermissionDenied(gettext("You can plan only for the teams you lead."))
        try:
            plan = plan_services.plan_create(
                organization=self.organization,
                user=request.user,
                **self._service_kwargs(serializer.validated_data),
            )
        except DjangoValidationError as error:
            raise as_drf_error(error) from error
        plan = self.get_queryset().get(pk=plan.pk)
        response = Response(self.get_serializer(plan).data, status=status.HTTP_201_CREATED)
        response["ETag"] = _etag(plan)
        return response

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.get_object()
        response = Response(self.get_serializer(plan).data)
        response["ETag"] = _etag(plan)
        return response

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        plan = self.get_object()
        expected = expected_version(request, "version")
        serializer = self.get_serializer(plan, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        if "sales_team" in serializer.validated_data and not can_edit_plan(
            self.membership, SalesPlan(sales_team=serializer.validated_data["sales_team"])
        ):
            raise PermissionDenied(gettext("You can plan only for the teams you lead."))
        try:
            plan = plan_services.plan_update(
                plan=plan,
                user=request.user,
                expected_version=expected,
                **self._service_kwargs(serializer.validated_data),
            )
        except plan_services.StaleVersion as stale:
            return Response(
                {
                    "detail": _stale_message(),
                    "current_version": stale.current,
                },
                status=status.HTTP_409_CONFLICT,
            )
        except DjangoValidationError as error:
            raise as_drf_error(error) from error
        plan = self.get_queryset().get(pk=plan.pk)
        response = Response(self.get_serializer(plan).data)
        response["ETag"] = _etag(plan)
        return response

    @extend_schema(request=PlanPreviewSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"], permission_classes=[IsOrganizationMember])
    def preview(self, request: Request) -> Response:
        """Decompose a plan without saving it: deals, stages, budget, by day/week/person,
        the realism verdict and warnings."""
        serializer = PlanPreviewSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        snapshot = dict(data)
        if data.get("funnel") and not data.get("stages"):
            snapshot["stages"] = [
                {
                    "name": s.name,
                    "conversion": s.conversion,
                    "is_key_stage": s.is_key_stage,
                    "is_target_lead": s.is_target_lead,
                }
                for s in data["funnel"].stages.all()
            ]
        norms = data.get("norms") or {}
        snapshot.update(norms)
        snapshot["team"] = [
            {
                "key": member.get("key") or str(index + 1),
                "name": member["name"],
                "share": member["share"],
            }
            for index, member in enumerate(data.get("team") or [])
        ]
        history = None
        if data.get("history"):
            history = History(
                months=tuple(
                    MonthStat(month=m["month"], stages=m["stages"], revenue=m["revenue"])
                    for m in data["history"]
                )
            )
        try:
            plan_input = plan_input_from_snapshot(
                snapshot, calendar=calendar_for(self.organization), history=history
            )
            decomposition = decompose(plan_input)
        except PlanInputError as error:
            raise _plan_input_error(error) from error
        return Response(decomposition_payload(decomposition))

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def decomposition(self, request: Request, pk: str | None = None) -> Response:
        """The saved plan's decomposition (same shape as preview)."""
        plan = self.get_object()
        try:
            decomposition = decompose(plan_input_for(plan))
        except PlanInputError as error:  # e.g. its funnel was edited into an invalid state
            raise _plan_input_error(error) from error
        payload = decomposition_payload(decomposition)
        payload["plan"] = plan.pk
        payload["version"] = plan.version
        return Response(payload)

    @extend_schema(request=WhatIfSerializer, responses=OpenApiTypes.OBJECT)
    @action(
        detail=True,
        methods=["post"],
        url_path="what-if",
        # Reading a plan is enough to ask "what if": nothing is saved.
        permission_classes=[IsOrganizationMember],
    )
    def what_if(self, request: Request, pk: str | None = None) -> Response:
        """Changed inputs in (conversion ±pp, average check ±%, team…), the new plan and the
        difference of every output out. Nothing is saved."""
        plan = self.get_object()
        serializer = WhatIfSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = what_if_changes(serializer.validated_data)
        try:
            result = what_if(plan_input_for(plan), changes)
        except PlanInputError as error:
            raise _plan_input_error(error) from error
        return Response(
            {
                "plan": decomposition_payload(result.after),
                "diff": [item.to_dict() for item in result.diff],
            }
        )

    @extend_schema(responses=PlanVersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        """Every saved version: who, when, what changed, and the full inputs."""
        plan = self.get_object()
        versions = plan.versions.select_related("created_by")
        return Response(PlanVersionSerializer(versions, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("a", int, description="Older version number"),
            OpenApiParameter("b", int, description="Newer version number (default: current)"),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["get"], url_path="versions/compare")
    def compare(self, request: Request, pk: str | None = None) -> Response:
        """Two versions side by side: changed inputs and the difference of every output."""
        plan = self.get_object()
        try:
            a = int(request.query_params.get("a", max(plan.version - 1, 1)))
            b = int(request.query_params.get("b", plan.version))
        except ValueError:
            raise serializers.ValidationError(
                {"a": ["Version numbers are whole numbers."]}
            ) from None
        first = get_object_or_404(plan.versions, number=a)
        second = get_object_or_404(plan.versions, number=b)
        calendar = calendar_for(plan.organization)
        try:
            before = decompose(plan_input_from_snapshot(first.inputs, calendar=calendar))
            after = decompose(plan_input_from_snapshot(second.inputs, calendar=calendar))
        except PlanInputError as error:
            raise _plan_input_error(error) from error
        inputs = {
            key: [first.inputs.get(key), second.inputs.get(key)]
            for key in sorted(set(first.inputs) | set(second.inputs))
            if first.inputs.get(key) != second.inputs.get(key)
        }
        return Response(
            {
                "a": a,
                "b": b,
                "inputs": inputs,
                "diff": [item.to_dict() for item in diff_decompositions(before, after)],
            }
        )


def _stale_message() -> str:
    return gettext(
        "Someone else saved this plan after you opened it. Reload it to see their changes, "
        "then apply yours again."
    )


class ProductViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    serializer_class = ProductSerializer
    permission_classes = [CanEditSettings]

    def get_queryset(self):
        return self.scope(Product.objects.all())

    def perform_create(self, serializer: ProductSerializer) -> None:
        serializer.save(organization=self.organization)


class CalendarDayViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """The organization's own working days and days off on top of the production calendar."""

    serializer_class = CalendarDaySerializer
    permission_classes = [CanEditSettings]

    def get_queryset(self):
        return self.scope(CalendarDay.objects.all())

    def perform_create(self, serializer: CalendarDaySerializer) -> None:
        serializer.save(organization=self.organization)

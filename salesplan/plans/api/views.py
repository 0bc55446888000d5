"""Plans over the API: CRUD with versions, preview, decomposition, what-if, compare.

The same services and selectors as the plan pages; a service's ValidationError or the engine's
PlanInputError becomes a 400 per field in salesplan.api.exceptions.
"""

from typing import Any

from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from salesplan.access import may_create_plans, may_plan_for, plans_queryset
from salesplan.api.fields import DateField
from salesplan.api.mixins import (
    CONFLICT_RESPONSES,
    IF_MATCH,
    OrganizationScopedMixin,
    expected_version,
)
from salesplan.api.permissions import CanEditPlans
from salesplan.figures import cached_answer
from salesplan.models import SalesPlan
from salesplan.planning import History, MonthStat
from salesplan.plans import selectors, services, whatif
from salesplan.plans.api.serializers import (
    PlanPreviewSerializer,
    PlanVersionSerializer,
    SalesPlanSerializer,
    WhatIfSerializer,
)
from salesplan.plans.presentation import decomposition_payload, stale_message
from salesplan.plans.snapshot import NORM_FIELDS, PLAN_INPUT_FIELDS, MixEntry, TeamEntry
from salesplan.selectors import calendar_for


def _etag(plan: Any) -> str:
    return f'"{plan.version}"'


def _service_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    """The serializer's data as the services' keyword arguments (as the page's form gives)."""
    kwargs = dict(data)
    kwargs.pop("version", None)
    if "members" in kwargs:
        kwargs["team"] = [
            services.TeamShare(item["membership"], item["share"]) for item in kwargs.pop("members")
        ]
    if "product_mix" in kwargs:
        kwargs["product_mix"] = [
            services.MixItem(item["product"], item.get("share"), item.get("units"))
            for item in kwargs["product_mix"]
        ]
    return kwargs


def _preview_history(data: dict[str, Any]) -> History | None:
    if not data.get("history"):
        return None
    return History(
        months=tuple(
            MonthStat(month=m["month"], stages=m["stages"], revenue=m["revenue"])
            for m in data["history"]
        )
    )


_SAVE_SCHEMA = extend_schema(
    parameters=[IF_MATCH], responses={200: SalesPlanSerializer, **CONFLICT_RESPONSES}
)


class PerformanceQuerySerializer(serializers.Serializer):
    date = DateField(required=False)


def _gone() -> NotFound:
    return NotFound(gettext("This plan has been deleted."))


@extend_schema_view(update=_SAVE_SCHEMA, partial_update=_SAVE_SCHEMA)
class PlanViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """Sales plans. Every save is a new version; a save must name the version it is based on
    (If-Match or `version`, else 428) and a stale one answers 409."""

    serializer_class = SalesPlanSerializer
    permission_classes = [CanEditPlans]
    # A what-if reads the plan (any plan the member sees); it and a preview are planning,
    # for the roles that may plan (CanEditPlans counts a preview as a write; what_if below).
    read_actions = frozenset({"what_if"})
    # Actions that read the stored figures only: the plan's own row is all they need, not its
    # people, products and stages.
    figures_actions = frozenset({"performance"})

    def base_queryset(self):
        if getattr(self, "action", None) in self.figures_actions:
            return plans_queryset()
        return selectors.with_inputs(plans_queryset())

    def _may_plan_for(self, data: dict[str, Any]) -> None:
        team = data.get("sales_team")
        if not may_plan_for(self.membership, team.pk if team else None):
            raise PermissionDenied(gettext("You can plan only for the teams you lead."))

    def _saved(self, plan: Any, code: int = status.HTTP_200_OK) -> Response:
        try:
            plan = self.base_queryset().get(pk=plan.pk)
        except SalesPlan.DoesNotExist:  # deleted the moment after this save
            raise _gone() from None
        response = Response(self.get_serializer(plan).data, status=code)
        response["ETag"] = _etag(plan)
        return response

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self._may_plan_for(serializer.validated_data)
        plan = services.plan_create(
            organization=self.organization,
            user=request.user,
            **_service_kwargs(serializer.validated_data),
        )
        return self._saved(plan, status.HTTP_201_CREATED)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.get_object()
        response = Response(self.get_serializer(plan).data)
        response["ETag"] = _etag(plan)
        return response

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        plan = self.get_object()
        expected = expected_version(request, "version", required=True)
        serializer = self.get_serializer(plan, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        if "sales_team" in serializer.validated_data:
            self._may_plan_for(serializer.validated_data)
        try:
            plan = services.plan_update(
                plan=plan,
                user=request.user,
                expected_version=expected,
                **_service_kwargs(serializer.validated_data),
            )
        except services.StaleVersion as stale:
            return Response(
                {"detail": stale_message(), "current_version": stale.current},
                status=status.HTTP_409_CONFLICT,
            )
        except SalesPlan.DoesNotExist:  # deleted while this save waited for the plan's lock
            raise _gone() from None
        return self._saved(plan)

    def perform_destroy(self, instance: Any) -> None:
        try:
            services.plan_delete(plan=instance)
        except SalesPlan.DoesNotExist:  # deleted by someone else first
            raise _gone() from None

    @extend_schema(request=PlanPreviewSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"])
    def preview(self, request: Request) -> Response:
        """Decompose a plan without saving it: deals, stages, budget, by day/week/person,
        the realism verdict and warnings."""
        serializer = PlanPreviewSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        funnel = data.get("funnel")
        fields = {name: data.get(name) for name in PLAN_INPUT_FIELDS if name in data}
        fields.update({name: (data.get("norms") or {}).get(name) for name in NORM_FIELDS})
        decomposition = services.snapshot_preview(
            organization=self.organization,
            funnel=funnel,
            stages=data.get("stages") or (funnel.stages.order_by("position") if funnel else ()),
            team=[
                TeamEntry(
                    key=member.get("key") or str(index + 1),
                    name=member["name"],
                    share=member["share"],
                )
                for index, member in enumerate(data.get("team") or [])
            ],
            product_mix=[
                MixEntry(
                    name=item["name"],
                    price=item["price"],
                    share=item.get("share"),
                    units=item.get("units"),
                    margin_pct=item.get("margin_pct"),
                )
                for item in data.get("product_mix") or []
            ],
            history=_preview_history(data),
            **fields,
        )
        return Response(
            decomposition_payload(decomposition, currency=self.membership.organization.currency)
        )

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def decomposition(self, request: Request, pk: str | None = None) -> Response:
        """The saved plan's decomposition (same shape as preview)."""
        item = selectors.decompose_plan(self.get_object())
        if item.error is not None:  # e.g. its funnel was edited into an invalid state
            raise item.error
        payload = decomposition_payload(
            item.decomposition, currency=item.plan.organization.currency
        )
        payload["plan"] = item.plan.pk
        payload["version"] = item.plan.version
        return Response(payload)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "date",
                OpenApiTypes.DATE,
                description="The day (default: the latest day computed, up to today)",
            )
        ],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["get"])
    def performance(self, request: Request, pk: str | None = None) -> Response:
        """Plan vs fact as the background job last computed it: every metric of the plan for
        the department (`owner` null) and for each salesperson who owns it, with plan-to-date,
        actual-to-date, forecast, status (not_started, on_track, at_risk, slipped,
        not_assessed) and the gap; `computed_at` says when. Never recomputed in the request."""
        query = PerformanceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        plan = self.get_object()
        day = query.validated_data.get("date")
        return cached_answer(
            request,
            self.organization,
            "plan_performance",
            lambda: selectors.plan_performance(plan, day),
            plan.pk,
            day,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "date",
                OpenApiTypes.DATE,
                description="The day (default: the latest day computed, up to today)",
            )
        ],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["get"])
    def attribution(self, request: Request, pk: str | None = None) -> Response:
        """The revenue gap to date split into what each factor of revenue = leads × share of
        target leads × conversions × average check cost (or brought), by the logarithmic mean
        Divisia index, to the kopeck: `gap` is the sum of the factors' `contribution`s. Each
        factor's part is credited to its owners on the pie (`owners`, and `split` below a
        head of sales by the slices' shares). As the background job stored it."""
        query = PerformanceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        plan = self.get_object()
        return Response(selectors.plan_attribution(plan, query.validated_data.get("date")))

    @extend_schema(request=WhatIfSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"], url_path="what-if")
    def what_if(self, request: Request, pk: str | None = None) -> Response:
        """Changed inputs in (conversion ±pp, average check ±%, team…), the new plan and the
        difference of every output out. Nothing is saved; reading the plan is enough."""
        if not may_create_plans(self.membership):
            raise PermissionDenied(gettext("Only the owner or a head of sales may plan."))
        plan = self.get_object()
        serializer = WhatIfSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = whatif.plan_what_if(plan=plan, levers=serializer.validated_data)
        return Response(
            {
                "plan": decomposition_payload(result.after, currency=plan.organization.currency),
                "diff": [item.to_dict() for item in result.diff],
            }
        )

    @extend_schema(responses=PlanVersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def versions(self, request: Request, pk: str | None = None) -> Response:
        """Every saved version: who, when, what changed, and the full inputs."""
        versions = selectors.plan_versions(self.get_object())
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
                {"a": [gettext("Version numbers are whole numbers.")]}
            ) from None
        first, second = selectors.version_of(plan, a), selectors.version_of(plan, b)
        diff = selectors.compare_versions(first, second, calendar_for(plan.organization))
        inputs = {
            key: [first.inputs.get(key), second.inputs.get(key)]
            for key in sorted(set(first.inputs) | set(second.inputs))
            if first.inputs.get(key) != second.inputs.get(key)
        }
        return Response(
            {"a": a, "b": b, "inputs": inputs, "diff": [item.to_dict() for item in diff]}
        )

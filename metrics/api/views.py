from django.db.models import QuerySet
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from metrics.catalog import KINDS, Category
from metrics.models import PlanMetric
from metrics.services import PLANNED_COLUMNS, metric_update
from salesplan.api.mixins import OrganizationScopedMixin
from salesplan.api.permissions import CanEditPlans
from salesplan.limits import MAX_ID


class PlanMetricSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    owners = serializers.SerializerMethodField()

    class Meta:
        model = PlanMetric
        fields = [
            "id",
            "plan",
            "key",
            "kind",
            "name",
            "display_name",
            "stage_position",
            "planned_value",
            "direction",
            "unit",
            "category",
            "controllable",
            "weight",
            "owners",
        ]
        # What the plan's decomposition sets; the plan's editors change the rest.
        read_only_fields = ["plan", "key", *PLANNED_COLUMNS]
        extra_kwargs = {"weight": {"min_value": 1, "max_value": 10}}

    def get_owners(self, metric: PlanMetric) -> list[int]:
        return [r.owner_id for r in metric.responsibilities.all() if r.parent_id is None]


class MetricKindSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    direction = serializers.CharField()
    unit = serializers.CharField()
    category = serializers.CharField()
    controllable = serializers.BooleanField()
    per_stage = serializers.BooleanField()


class MetricViewSet(
    OrganizationScopedMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """A plan's metrics with planned values and owners. Salespeople and marketers see the
    metrics they hold; everyone else sees all. The plan's editors may mark a metric as not
    controllable (the pie then flags it if it has an owner) and change its weight on the pie."""

    serializer_class = PlanMetricSerializer
    permission_classes = [CanEditPlans]
    http_method_names = ["get", "patch", "head", "options"]

    def perform_update(self, serializer: PlanMetricSerializer) -> None:
        metric_update(
            metric=serializer.instance,
            controllable=serializer.validated_data.get("controllable"),
            weight=serializer.validated_data.get("weight"),
        )

    @extend_schema(parameters=[OpenApiParameter("plan", int), OpenApiParameter("category", str)])
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    def base_queryset(self) -> QuerySet[PlanMetric]:
        return PlanMetric.objects.select_related("plan").prefetch_related("responsibilities")

    def get_queryset(self) -> QuerySet[PlanMetric]:
        """The metrics the member sees (salesplan.access.metric_rows), by plan and category."""
        queryset = super().get_queryset()
        if self.schema_only:
            return queryset
        params = self.request.query_params
        plan = params.get("plan", "")
        if plan:
            if not plan.isdigit() or int(plan) > MAX_ID:
                raise serializers.ValidationError({"plan": [gettext("Give a plan's id.")]})
            queryset = queryset.filter(plan_id=int(plan))
        category = params.get("category")
        if category:
            if category not in {c.value for c in Category}:
                raise serializers.ValidationError(
                    {"category": [gettext("Use marketing, sales or management.")]}
                )
            queryset = queryset.filter(category=category)
        return queryset.order_by("plan_id", "id")

    @extend_schema(responses=MetricKindSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)
    def catalog(self, request: Request) -> Response:
        """The built-in metric kinds."""
        data = [
            {
                "code": kind.code,
                "label": gettext(kind.label),
                "direction": kind.direction,
                "unit": kind.unit,
                "category": kind.category.value,
                "controllable": kind.controllable,
                "per_stage": kind.per_stage,
            }
            for kind in KINDS
        ]
        return Response(MetricKindSerializer(data, many=True).data)

"""The support admin for plans' metrics: read-only, they are instantiated from a plan's
decomposition whenever the plan (or its funnel) is saved."""

from django.contrib import admin

from metrics.models import PlanMetric
from salesplan.admin import ReadOnlyAdmin


@admin.register(PlanMetric)
class PlanMetricAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "plan",
        "category",
        "planned_value",
        "unit",
        "controllable",
        "weight",
    ]
    list_filter = ["plan__organization", "category", "kind", "controllable"]
    list_select_related = ["plan"]
    search_fields = ["name", "=key", "plan__name"]
    raw_id_fields = ["plan"]

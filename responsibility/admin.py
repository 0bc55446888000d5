"""The support admin for the responsibility pie: read-only, the pie changes through its page
and API (responsibility.services), which check its rules and bump the plan's pie version."""

from django.contrib import admin

from responsibility.models import Responsibility
from salesplan.admin import ReadOnlyAdmin


@admin.register(Responsibility)
class ResponsibilityAdmin(ReadOnlyAdmin):
    list_display = ["metric", "owner", "share", "parent", "plan", "updated_at"]
    list_filter = ["plan__organization"]
    list_select_related = ["metric", "owner__user", "parent", "plan"]
    search_fields = [
        "plan__name",
        "metric__name",
        "owner__user__email",
        "owner__user__last_name",
    ]
    raw_id_fields = ["plan", "metric", "owner", "parent"]

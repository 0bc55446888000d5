"""CRM discipline over the API (/api/v1/discipline/): per member, what the discipline job counted
on a day (salesplan.dashboards.discipline_data, the page's own reads). Owner and head of sales
(a head of sales: their teams' people and themselves); anyone else 403."""

from datetime import date
from typing import Any

from django.urls import path
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from salesplan.api.mixins import OrganizationScopedMixin
from salesplan.api.permissions import IsOrganizationMember
from salesplan.api.schema import error_responses
from salesplan.dashboards import discipline_data


class DisciplineRowSerializer(serializers.Serializer):
    member = serializers.IntegerField(
        allow_null=True, help_text="The membership id; null: rows nobody is responsible for."
    )
    member_name = serializers.CharField()
    leads_without_next_task = serializers.IntegerField(
        help_text="Open leads (not won, not lost, not non-target) with no task not yet done."
    )
    overdue_tasks = serializers.IntegerField(help_text="Tasks not done and past their due time.")
    tasks_without_goal = serializers.IntegerField(
        help_text="Open tasks whose text is empty or only a generic word («позвонить», "
        "«перезвонить», «набрать», «связаться», call, call back, follow up); tasks whose "
        "source exports no text are not judged."
    )
    calls_without_comment = serializers.IntegerField(
        help_text="The last 7 days' calls with an empty comment, where the source exports comments."
    )
    total = serializers.IntegerField()
    open_leads = serializers.IntegerField()
    open_tasks = serializers.IntegerField()
    calls_judged = serializers.IntegerField(
        help_text="The last 7 days' calls whose source exports comments (0: not exported)."
    )
    is_worst = serializers.BooleanField(help_text="The highest total of the people shown.")


class DisciplineSerializer(serializers.Serializer):
    day = serializers.DateField(
        allow_null=True, help_text="The organization's local day; null: never counted yet."
    )
    computed_at = serializers.DateTimeField(allow_null=True)
    members = DisciplineRowSerializer(many=True)
    department = DisciplineRowSerializer(help_text="The sums of the rows shown.")


def parse_day(text: str | None) -> date | None:
    """`?day=`: a date, or none (the last day counted); anything else is a 400 naming it."""
    if text in (None, ""):
        return None
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise serializers.ValidationError(
            {"day": [gettext("Expected a date as YYYY-MM-DD, e.g. 2026-12-10.")]}
        ) from None


class DisciplineView(OrganizationScopedMixin, APIView):
    """CRM discipline per member on a day, as the discipline job counted it (hourly, and after
    every load of actuals): leads without a next task, overdue tasks, tasks without a goal,
    calls without a comment. Never computed in the request."""

    permission_classes = [IsOrganizationMember]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "day",
                OpenApiTypes.DATE,
                description="The organization's local day (YYYY-MM-DD); default: the last day "
                "counted. A day never counted answers its day with no rows.",
            )
        ],
        responses={200: DisciplineSerializer, **error_responses(400, 403)},
    )
    def get(self, request: Request) -> Response:
        discipline_data.require_reader(self.membership)
        day = parse_day(request.query_params.get("day"))
        table = discipline_data.discipline_table(self.membership, day)
        body: dict[str, Any] = {
            "day": table.day or day,
            "computed_at": table.computed_at,
            "members": [row.as_dict() for row in table.rows],
            "department": table.department.as_dict()
            | {"member_name": gettext("Department"), "is_worst": False},
        }
        return Response(DisciplineSerializer(body).data)


urlpatterns = [
    path("discipline/", DisciplineView.as_view(), name="api_discipline"),
]

"""Client base: the REST API under /api/v1/client-base/. The summary (the base's state, the
runway, the refusal rates), the "do not touch" list, the warnings of contacts with cooling
companies, one company, and the organization's refusal rules (read by every member, saved by
the owner or a head of sales through the service the page calls). Everything is read from what
the recompute stored; another organization's company is 404."""

from typing import Any

from django.db.models import QuerySet
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from salesplan.api.mixins import OrganizationScopedMixin
from salesplan.api.permissions import CanEditSettings
from salesplan.clientbase import burn, selectors, services
from salesplan.clientbase.models import Company, CoolingContact, RateKind
from salesplan.limits import (
    MAX_COOLING_DAYS,
    MAX_LOST_REASON_CHARS,
    MAX_PERMANENT_REASONS,
    MIN_COOLING_DAYS,
)

# --- serializers ----------------------------------------------------------------------------


class ClientBaseRateSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="The local month's first day.")
    kind = serializers.ChoiceField(choices=RateKind.choices)
    member = serializers.IntegerField(
        allow_null=True, help_text="The salesperson (kind member), when a member matches."
    )
    name = serializers.CharField(
        help_text="Department; the salesperson's name; or the segment (the lead's channel)."
    )
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    refusal_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        allow_null=True,
        help_text="lost ÷ (won + lost), 0.25 is 25 %; null when nothing closed.",
    )


class ClientBaseSummarySerializer(serializers.Serializer):
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="The last recompute; null before the first."
    )
    today = serializers.DateField(help_text="The organization's local day.")
    cooling_days = serializers.IntegerField()
    permanent_reasons = serializers.ListField(child=serializers.CharField())
    available = serializers.IntegerField(help_text="Companies never refused, or cooled off.")
    cooling = serializers.IntegerField(help_text="Companies cooling off (do not touch).")
    closed = serializers.IntegerField(help_text="Companies closed for good (permanent reason).")
    pace_from = serializers.DateField(
        allow_null=True, help_text="The first of the 3 months the pace is measured over."
    )
    pace_won = serializers.IntegerField()
    pace_lost = serializers.IntegerField()
    pace_refusal_rate = serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True)
    plan = serializers.IntegerField(
        allow_null=True, help_text="The plan the runway is measured by."
    )
    plan_deals = serializers.IntegerField(
        allow_null=True, help_text="The plan's won deals of this month."
    )
    runway = serializers.ChoiceField(
        choices=[*(value.value for value in burn.Runway), "not_computed"],
        help_text="runs_out: lasts months_left months; never: no refusals, the base does not "
        "run out; no_wins: every closed deal was lost; no_data: nothing closed in 3 months.",
    )
    burn_per_month = serializers.DecimalField(
        max_digits=14,
        decimal_places=1,
        allow_null=True,
        help_text="Companies refused a month at this pace: plan_deals × pace_lost ÷ pace_won "
        "with a plan, pace_lost ÷ 3 without.",
    )
    months_left = serializers.DecimalField(
        max_digits=14,
        decimal_places=1,
        allow_null=True,
        help_text="available ÷ burn_per_month, rounded down to a tenth; null when it never "
        "runs out.",
    )
    refusal_rates = ClientBaseRateSerializer(
        many=True, help_text="The last 12 months (a salesperson: their own row only)."
    )


class ClientBaseCompanySerializer(serializers.ModelSerializer):
    refused_by_name = serializers.SerializerMethodField()

    class Meta:
        model = Company
        fields = [
            "id",
            "name",
            "state",
            "leads",
            "refused_at",
            "refused_on",
            "contact_again_on",
            "lost_reason",
            "refused_by",
            "refused_by_name",
        ]
        read_only_fields = fields

    def get_refused_by_name(self, company: Company) -> str:
        if company.refused_by is not None:
            return company.refused_by.display_name
        return company.refused_by_name


class ClientBaseWarningSerializer(serializers.ModelSerializer):
    company_name = serializers.CharField(source="company.name", read_only=True)
    contact_again_on = serializers.DateField(source="company.contact_again_on", read_only=True)
    member_name = serializers.SerializerMethodField()

    class Meta:
        model = CoolingContact
        fields = [
            "id",
            "company",
            "company_name",
            "contact_again_on",
            "kind",
            "object_id",
            "lead",
            "member",
            "member_name",
            "at",
            "found_at",
        ]
        read_only_fields = fields

    def get_member_name(self, warning: CoolingContact) -> str | None:
        return warning.member.display_name if warning.member else None


class ClientBaseSettingsSerializer(serializers.Serializer):
    """Only the types: every rule (the limits, trimming, duplicates) is the service's."""

    permanent_reasons = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        help_text="Lost reasons that close a company for good, matched case-insensitively "
        f"after trimming; at most {MAX_PERMANENT_REASONS}, each at most "
        f"{MAX_LOST_REASON_CHARS} characters.",
    )
    cooling_days = serializers.IntegerField(
        help_text="Days a company that refused is not contacted, from its local refusal day "
        f"({MIN_COOLING_DAYS} to {MAX_COOLING_DAYS})."
    )


# --- views ----------------------------------------------------------------------------------


def _rate(row: Any) -> dict[str, Any]:
    return {
        "month": row.month,
        "kind": row.kind,
        "member": row.member_id,
        "name": selectors.rate_label(row),
        "won": row.won,
        "lost": row.lost,
        "refusal_rate": row.rate,
    }


class SummaryView(OrganizationScopedMixin, APIView):
    """The base as the last recompute left it: companies available, cooling and closed for
    good, the refusal pace of the last 3 months, how many months the available companies last
    at that pace and the current plan's deals, and the refusal rates of the last 12 months."""

    @extend_schema(responses=ClientBaseSummarySerializer)
    def get(self, request: Request) -> Response:
        organization = self.organization
        today = selectors.today_of(organization)
        rules = services.base_settings(organization)
        summary = selectors.summary_of(organization)
        since = burn.months_back(burn.month_of(today), selectors.RATE_MONTHS_API - 1)
        rates = [_rate(row) for row in selectors.rate_rows(member=self.membership, since=since)]
        data: dict[str, Any] = {
            "computed_at": summary.computed_at if summary else None,
            "today": today,
            "cooling_days": rules.cooling_days,
            "permanent_reasons": rules.permanent_reasons,
            "available": summary.available if summary else 0,
            "cooling": summary.cooling if summary else 0,
            "closed": summary.closed if summary else 0,
            "pace_from": summary.pace_from if summary else None,
            "pace_won": summary.pace_won if summary else 0,
            "pace_lost": summary.pace_lost if summary else 0,
            "pace_refusal_rate": summary.pace_rate if summary else None,
            "plan": summary.plan_id if summary else None,
            "plan_deals": summary.plan_deals if summary else None,
            "runway": summary.runway if summary else "not_computed",
            "burn_per_month": summary.burn_per_month if summary else None,
            "months_left": summary.months_left if summary else None,
            "refusal_rates": rates,
        }
        return Response(ClientBaseSummarySerializer(data).data)


@extend_schema(
    parameters=[
        OpenApiParameter(
            "search",
            OpenApiTypes.STR,
            description="Part of the company's name, as written or normalized (case, quotes "
            "and legal forms ignored).",
        )
    ]
)
class DoNotTouchView(OrganizationScopedMixin, generics.ListAPIView):
    """Companies cooling off whose day to be contacted again is still ahead, the soonest
    first: who had the deal and why it was lost. Every member reads it (it protects a
    salesperson from burning a company too)."""

    serializer_class = ClientBaseCompanySerializer

    def get_queryset(self) -> QuerySet[Company]:
        if self.schema_only:
            return Company.objects.none()
        search = selectors.clean_search(self.request.query_params.get("search"))
        return selectors.do_not_touch(
            organization=self.organization,
            today=selectors.today_of(self.organization),
            search=search,
        )


class WarningListView(OrganizationScopedMixin, generics.ListAPIView):
    """Stage events, calls and tasks on companies while they cool off, newest first (a task
    by its due moment), as the last recompute found them: a salesperson sees their own."""

    serializer_class = ClientBaseWarningSerializer

    def get_queryset(self) -> QuerySet[CoolingContact]:
        if self.schema_only:
            return CoolingContact.objects.none()
        return selectors.cooling_warnings(member=self.membership)


class CompanyView(OrganizationScopedMixin, APIView):
    """One company of the base and its state: available, cooling (until contact_again_on)
    or closed (for good)."""

    @extend_schema(responses=ClientBaseCompanySerializer)
    def get(self, request: Request, id: int) -> Response:
        company = selectors.company_for(member=self.membership, pk=id)
        return Response(ClientBaseCompanySerializer(company).data)


class SettingsView(OrganizationScopedMixin, APIView):
    """The organization's refusal rules: the permanent lost reasons and the cooling-off period.
    Every member reads them; the owner or a head of sales saves them (the base is recomputed
    in the background). A bad value is a 400 naming the field."""

    permission_classes = [CanEditSettings]

    @extend_schema(responses=ClientBaseSettingsSerializer)
    def get(self, request: Request) -> Response:
        return Response(
            ClientBaseSettingsSerializer(services.base_settings(self.organization)).data
        )

    @extend_schema(request=ClientBaseSettingsSerializer, responses=ClientBaseSettingsSerializer)
    def put(self, request: Request) -> Response:
        serializer = ClientBaseSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.base_settings_update(member=self.membership, **serializer.validated_data)
        return Response(ClientBaseSettingsSerializer(item).data)


urlpatterns = [
    path("client-base/summary/", SummaryView.as_view(), name="api_client_base_summary"),
    path("client-base/do-not-touch/", DoNotTouchView.as_view(), name="api_client_base_list"),
    path("client-base/warnings/", WarningListView.as_view(), name="api_client_base_warnings"),
    path("client-base/companies/<int:id>/", CompanyView.as_view(), name="api_client_base_company"),
    path("client-base/settings/", SettingsView.as_view(), name="api_client_base_settings"),
]

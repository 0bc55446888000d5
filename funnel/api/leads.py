"""Leads (actuals from the CRM), read-only: the list with filters, and a lead with its stage
events and payments."""

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from funnel.models import Lead, Payment, StageEvent
from funnel.selectors import lead_list, lead_with_history
from salesplan.api.fields import DateField
from salesplan.api.mixins import OrganizationScopedMixin
from salesplan.limits import MAX_ID


class LeadFilterSerializer(serializers.Serializer):
    external_id = serializers.CharField(required=False, max_length=100)
    stage = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Our stage id: the lead is there."
    )
    reached_stage = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Our stage id: the lead reached it (and may have moved on).",
    )
    member = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="The responsible membership id."
    )
    channel = serializers.CharField(required=False, max_length=200)
    created_from = DateField(
        required=False, help_text="First day (the organization's local day), inclusive."
    )
    created_to = DateField(
        required=False, help_text="Last day (the organization's local day), inclusive."
    )
    period_start = DateField(required=False, help_text="Same as created_from.")
    period_end = DateField(required=False, help_text="Same as created_to.")
    search = serializers.CharField(
        required=False, max_length=200, help_text="Part of the name, company or external id."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("created_from") or attrs.get("period_start")
        end = attrs.get("created_to") or attrs.get("period_end")
        if start and end and start > end:
            raise serializers.ValidationError(
                {"created_to": [_("The last day is before the first day.")]}
            )
        attrs["start"], attrs["end"] = start, end
        return attrs


class StageRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    position = serializers.IntegerField()


class LeadSerializer(serializers.ModelSerializer):
    current_stage = StageRefSerializer(allow_null=True, read_only=True)
    responsible_name = serializers.SerializerMethodField(
        help_text="The member's name, or the person as the CRM wrote it when no member matches."
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            "funnel",
            "source",
            "external_id",
            "name",
            "created_at",
            "channel",
            "is_target",
            "non_target_reason",
            "responsible",
            "responsible_name",
            "company",
            "current_stage",
            "lost_reason",
            "lost_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_responsible_name(self, lead: Lead) -> str:
        if lead.responsible_id is not None:
            return lead.responsible.display_name
        return lead.responsible_name


class StageEventSerializer(serializers.ModelSerializer):
    stage = StageRefSerializer(read_only=True)
    member_name = serializers.SerializerMethodField()

    class Meta:
        model = StageEvent
        fields = ["id", "stage", "reached_at", "member", "member_name"]
        read_only_fields = fields

    def get_member_name(self, event: StageEvent) -> str:
        return event.member.display_name if event.member_id is not None else ""


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = [
            "id",
            "source",
            "external_id",
            "amount",
            "gross_margin",
            "product",
            "product_name",
            "paid_at",
            "is_new_client",
            "credited_member",
        ]
        read_only_fields = fields


class LeadDetailSerializer(LeadSerializer):
    stage_events = StageEventSerializer(many=True, read_only=True)
    payments = PaymentSerializer(many=True, read_only=True)

    class Meta(LeadSerializer.Meta):
        fields = [*LeadSerializer.Meta.fields, "stage_events", "payments"]
        read_only_fields = fields


FILTER_PARAMETERS = [
    OpenApiParameter("external_id", OpenApiTypes.STR),
    OpenApiParameter("stage", OpenApiTypes.INT, description="Our stage id: the lead is there."),
    OpenApiParameter("reached_stage", OpenApiTypes.INT, description="Our stage id, reached."),
    OpenApiParameter("member", OpenApiTypes.INT, description="The responsible membership id."),
    OpenApiParameter("channel", OpenApiTypes.STR),
    OpenApiParameter("created_from", OpenApiTypes.DATE, description="Local day, inclusive."),
    OpenApiParameter("created_to", OpenApiTypes.DATE, description="Local day, inclusive."),
    OpenApiParameter("period_start", OpenApiTypes.DATE, description="Same as created_from."),
    OpenApiParameter("period_end", OpenApiTypes.DATE, description="Same as created_to."),
    OpenApiParameter("search", OpenApiTypes.STR, description="Name, company or external id."),
]


@extend_schema_view(list=extend_schema(parameters=FILTER_PARAMETERS))
class LeadViewSet(OrganizationScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Leads from the CRM. A salesperson sees only the leads they are responsible for; the
    owner, heads of sales, marketers and viewers see all of the organization's. Another
    organization's lead (or, for a salesperson, a colleague's) is 404. The detail carries the
    lead's stage events (in funnel order) and payments."""

    lookup_value_regex = r"\d+"

    def get_serializer_class(self):
        return LeadDetailSerializer if self.action == "retrieve" else LeadSerializer

    def base_queryset(self):
        return lead_with_history()

    def get_queryset(self):
        if self.schema_only:
            return Lead.objects.none()
        filters = LeadFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return lead_list(member=self.membership, filters=filters.validated_data)

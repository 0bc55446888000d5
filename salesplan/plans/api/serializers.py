"""The plans API's request and response shapes (the services check what they mean)."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from funnel.api.serializers import StageSerializer
from funnel.models import Funnel
from salesplan.api.fields import (
    DateField,
    LimitedDictField,
    LimitedListField,
    LimitedListSerializer,
    ScopedPrimaryKeyField,
)
from salesplan.fields import year_in_range
from salesplan.limits import (
    MAX_HISTORY_MONTHS,
    MAX_INT,
    MAX_PRODUCTS,
    MAX_SEASONALITY_KEYS,
    MAX_STAGES,
    MAX_TEAM,
    count_message,
)
from salesplan.models import Membership, Product, SalesPlan, Team
from salesplan.plans.snapshot import PLAN_INPUT_FIELDS

MONEY = {"max_digits": 16, "decimal_places": 2}
SHARE = {"max_digits": 9, "decimal_places": 6}


class PlanTeamSerializer(serializers.Serializer):
    membership = ScopedPrimaryKeyField(
        Membership,
        error_messages={"does_not_exist": _("This person is not in your organization.")},
    )
    name = serializers.CharField(source="membership.display_name", read_only=True)
    share = serializers.DecimalField(**SHARE, min_value=0, max_value=1)

    class Meta:
        list_serializer_class = LimitedListSerializer


class PlanProductSerializer(serializers.Serializer):
    product = ScopedPrimaryKeyField(
        Product,
        error_messages={"does_not_exist": _("This product is not in your organization.")},
    )
    share = serializers.DecimalField(**SHARE, required=False, allow_null=True)
    units = serializers.IntegerField(
        min_value=0, max_value=MAX_INT, required=False, allow_null=True
    )


class SalesPlanSerializer(serializers.ModelSerializer):
    funnel = ScopedPrimaryKeyField(
        Funnel, error_messages={"does_not_exist": _("This funnel is not in your organization.")}
    )
    sales_team = ScopedPrimaryKeyField(
        Team,
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": _("This team is not in your organization.")},
        help_text="The team whose head of sales may edit the plan; null: the department.",
    )
    team = PlanTeamSerializer(many=True, required=False, source="members", max_length=MAX_TEAM)
    product_mix = PlanProductSerializer(many=True, required=False, max_length=MAX_PRODUCTS)
    version = serializers.IntegerField(
        required=False,
        max_value=MAX_INT,
        help_text=(
            "On update: the version you read. A save based on an older version answers 409 "
            "(the If-Match header with the ETag works too)."
        ),
    )

    class Meta:
        model = SalesPlan
        fields = [
            "id",
            "funnel",
            *PLAN_INPUT_FIELDS,
            "sales_team",
            "version",
            "pie_version",
            "team",
            "product_mix",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at", "pie_version"]
        extra_kwargs = {
            "period_start": {"validators": [year_in_range]},
            "period_end": {"validators": [year_in_range]},
            "revenue_target": {"min_value": 0},
            "average_check": {"min_value": 0},
            "cost_per_lead": {"min_value": 0},
            "cost_per_target_lead": {"min_value": 0},
            "gross_margin_target": {"min_value": 0},
            "calls_per_lead": {"min_value": 0},
        }

    def validate_seasonality(self, value: Any) -> Any:
        if value in (None, {}):
            return None
        if not isinstance(value, dict):
            raise serializers.ValidationError(
                _('Give weights by month, e.g. {"2027-01-01": "1.2", "2027-02-01": "0.9"}.')
            )
        if len(value) > MAX_SEASONALITY_KEYS:
            raise serializers.ValidationError(count_message(len(value), MAX_SEASONALITY_KEYS))
        return value


class HistoryMonthSerializer(serializers.Serializer):
    month = DateField(help_text="First day of the month.")
    stages = LimitedDictField(child=serializers.IntegerField(min_value=0), max_items=MAX_STAGES)
    revenue = serializers.DecimalField(**MONEY, min_value=0)

    class Meta:
        list_serializer_class = LimitedListSerializer


class NormsSerializer(serializers.Serializer):
    calls_per_lead = serializers.DecimalField(
        max_digits=6, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    max_calls_per_day = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    max_meetings_per_day = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class PreviewTeamSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    share = serializers.DecimalField(**SHARE, min_value=0, max_value=1)
    key = serializers.CharField(max_length=64, required=False)

    class Meta:
        list_serializer_class = LimitedListSerializer


class PreviewProductSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    price = serializers.DecimalField(**MONEY, min_value=0)
    share = serializers.DecimalField(**SHARE, required=False, allow_null=True)
    units = serializers.IntegerField(
        min_value=0, max_value=MAX_INT, required=False, allow_null=True
    )
    margin_pct = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True
    )

    class Meta:
        list_serializer_class = LimitedListSerializer


class PlanPreviewSerializer(serializers.Serializer):
    """A plan decomposed without saving: stages inline (or a saved funnel's), team by name."""

    revenue_target = serializers.DecimalField(**MONEY)
    average_check = serializers.DecimalField(**MONEY, required=False, allow_null=True)
    period_start = DateField()
    period_end = DateField()
    cost_per_lead = serializers.DecimalField(**MONEY, required=False, allow_null=True)
    cost_per_target_lead = serializers.DecimalField(**MONEY, required=False, allow_null=True)
    gross_margin_target = serializers.DecimalField(**MONEY, required=False, allow_null=True)
    stages = StageSerializer(many=True, required=False, max_length=MAX_STAGES)
    funnel = ScopedPrimaryKeyField(
        Funnel,
        required=False,
        error_messages={"does_not_exist": _("This funnel is not in your organization.")},
    )
    team = PreviewTeamSerializer(many=True, required=False, max_length=MAX_TEAM)
    product_mix = PreviewProductSerializer(many=True, required=False, max_length=MAX_PRODUCTS)
    norms = NormsSerializer(required=False)
    seasonality = LimitedDictField(
        child=serializers.DecimalField(**SHARE, min_value=0),
        required=False,
        max_items=MAX_SEASONALITY_KEYS,
    )
    history = HistoryMonthSerializer(many=True, required=False, max_length=MAX_HISTORY_MONTHS)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("stages") and not attrs.get("funnel"):
            raise serializers.ValidationError(
                {"stages": [_("Give the funnel's stages, or the id of a saved funnel.")]}
            )
        return attrs


class NewMemberSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    key = serializers.CharField(max_length=64, required=False)

    class Meta:
        list_serializer_class = LimitedListSerializer


class WhatIfSerializer(serializers.Serializer):
    """Levers to pull; the rest of the plan stays as saved."""

    conversion_pp = LimitedDictField(
        child=serializers.DecimalField(max_digits=7, decimal_places=3),
        required=False,
        max_items=MAX_STAGES,
        help_text='Stage name → change in percentage points, e.g. {"Meeting held": "5"}.',
    )
    average_check_pct = serializers.DecimalField(
        max_digits=7, decimal_places=3, required=False, help_text="-10 means 10 % lower."
    )
    revenue_target = serializers.DecimalField(**MONEY, required=False, min_value=0)
    revenue_target_pct = serializers.DecimalField(max_digits=7, decimal_places=3, required=False)
    cost_per_lead = serializers.DecimalField(**MONEY, required=False, min_value=0)
    cost_per_lead_pct = serializers.DecimalField(max_digits=7, decimal_places=3, required=False)
    add_members = NewMemberSerializer(many=True, required=False, max_length=MAX_TEAM)
    remove_members = LimitedListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=MAX_TEAM,
        help_text="Membership ids to drop.",
    )
    team_shares = LimitedDictField(
        child=serializers.DecimalField(**SHARE),
        required=False,
        max_items=MAX_TEAM,
        help_text="Key (membership id or new member's key) → share; shares add up to 1.",
    )


class PlanVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.email", default=None, allow_null=True)
    changes = serializers.JSONField()
    inputs = serializers.JSONField()

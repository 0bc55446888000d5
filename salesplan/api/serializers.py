from typing import Any

from rest_framework import serializers

from salesplan import services
from salesplan.fields import year_in_range
from salesplan.models import CalendarDay, Membership, Organization, Product


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "currency", "time_zone"]


class MembershipSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "name", "email", "role", "salesperson_kind", "team", "is_active"]


class MeSerializer(serializers.Serializer):
    membership = MembershipSerializer()
    organization = OrganizationSerializer()


class ProductSerializer(serializers.ModelSerializer):
    """Types only: salesplan.services.product_create / product_update check the values, as
    they do for the products page."""

    class Meta:
        model = Product
        fields = ["id", "name", "price", "margin_pct", "is_active"]

    def create(self, validated_data: dict[str, Any]) -> Product:
        return services.product_create(organization=self.context["organization"], **validated_data)

    def update(self, instance: Product, validated_data: dict[str, Any]) -> Product:
        return services.product_update(product=instance, **validated_data)


class CalendarDaySerializer(serializers.ModelSerializer):
    """Types only: salesplan.services checks that a day is in the calendar once."""

    class Meta:
        model = CalendarDay
        fields = ["id", "date", "is_working", "note"]
        extra_kwargs = {"date": {"validators": [year_in_range]}}

    def create(self, validated_data: dict[str, Any]) -> CalendarDay:
        return services.calendar_day_add(
            organization=self.context["organization"], **validated_data
        )

    def update(self, instance: CalendarDay, validated_data: dict[str, Any]) -> CalendarDay:
        return services.calendar_day_update(calendar_day=instance, **validated_data)

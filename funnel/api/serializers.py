from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from funnel import services
from funnel.models import Funnel
from salesplan.api.mixins import as_drf_error


class StageSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    position = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    conversion = serializers.DecimalField(
        max_digits=7,
        decimal_places=6,
        required=False,
        allow_null=True,
        help_text="Planned conversion to the next stage, a fraction in (0, 1]; empty on the last.",
    )
    is_key_stage = serializers.BooleanField(default=False)
    is_target_lead = serializers.BooleanField(default=False)


class FunnelSerializer(serializers.ModelSerializer):
    stages = StageSerializer(many=True, help_text="Ordered from the top of the funnel down.")

    class Meta:
        model = Funnel
        fields = ["id", "name", "stages", "created_at"]
        read_only_fields = ["created_at"]

    def validate_name(self, value: str) -> str:
        organization = self.context["organization"]
        clash = Funnel.objects.filter(organization=organization, name=value.strip())
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError(_("A funnel with this name already exists."))
        return value

    def create(self, validated_data: dict[str, Any]) -> Funnel:
        try:
            return services.funnel_create(
                organization=self.context["organization"],
                name=validated_data["name"],
                stages=validated_data["stages"],
            )
        except DjangoValidationError as error:
            raise as_drf_error(error) from error

    def update(self, instance: Funnel, validated_data: dict[str, Any]) -> Funnel:
        try:
            return services.funnel_update(
                funnel=instance,
                name=validated_data.get("name"),
                stages=validated_data.get("stages"),
            )
        except DjangoValidationError as error:
            raise as_drf_error(error) from error

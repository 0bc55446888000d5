from typing import Any

from rest_framework import serializers

from funnel.models import Funnel
from funnel.services import funnels
from salesplan.api.fields import LimitedListSerializer
from salesplan.limits import MAX_STAGES


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

    class Meta:
        list_serializer_class = LimitedListSerializer  # `max_length` refused before reading


class FunnelSerializer(serializers.ModelSerializer):
    """Types only: funnel.services.funnels checks the name and the stages, as for the page."""

    stages = StageSerializer(
        many=True,
        max_length=MAX_STAGES,
        help_text=f"Ordered from the top of the funnel down; at most {MAX_STAGES}.",
    )

    class Meta:
        model = Funnel
        fields = ["id", "name", "stages", "created_at"]
        read_only_fields = ["created_at"]

    def create(self, validated_data: dict[str, Any]) -> Funnel:
        return funnels.funnel_create(
            organization=self.context["organization"],
            name=validated_data["name"],
            stages=validated_data["stages"],
        )

    def update(self, instance: Funnel, validated_data: dict[str, Any]) -> Funnel:
        return funnels.funnel_update(
            funnel=instance, name=validated_data.get("name"), stages=validated_data.get("stages")
        )

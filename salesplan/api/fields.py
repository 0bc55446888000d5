from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from salesplan.access import scoped
from salesplan.limits import MAX_ID


def too_big_for_an_id(value: Any) -> bool:
    try:
        return not 0 < int(value) <= MAX_ID
    except (TypeError, ValueError, OverflowError):
        return False  # not a number at all: the field says so itself


@extend_schema_field(OpenApiTypes.INT)
class IdField(serializers.PrimaryKeyRelatedField):
    """A related object's id; an id out of the database's range is simply not found."""

    def to_internal_value(self, data: Any) -> Any:
        if too_big_for_an_id(data):
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.INT)
class ScopedPrimaryKeyField(IdField):
    """A related id that must belong to the caller's organization (another organization's id
    reads "not found", in the words `error_messages["does_not_exist"]` gives)."""

    def __init__(self, model: type, **kwargs: Any) -> None:
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self):
        organization = self.context.get("organization")
        if organization is None:
            return self.model.objects.none()
        return scoped(self.model, organization)

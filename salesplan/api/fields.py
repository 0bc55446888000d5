from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from salesplan.access import scoped
from salesplan.fields import year_in_range
from salesplan.limits import MAX_ID, count_message


def too_big_for_an_id(value: Any) -> bool:
    try:
        return not 0 < int(value) <= MAX_ID
    except (TypeError, ValueError, OverflowError):
        return False  # not a number at all: the field says so itself


class DateField(serializers.DateField):
    """A date within the years a plan or a CRM can mean (salesplan.limits.MIN_YEAR..MAX_YEAR)."""

    default_validators = [year_in_range]


class DateTimeField(serializers.DateTimeField):
    """A moment within the same years."""

    default_validators = [year_in_range]


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


# --- counted collections: refused by their size before any item is read -------------------


def _refuse_over(data: Any, limit: int | None) -> None:
    if limit is not None and isinstance(data, list | dict) and len(data) > limit:
        raise serializers.ValidationError(count_message(len(data), limit))


class LimitedListSerializer(serializers.ListSerializer):
    """`Child(many=True, max_length=MAX_…)`: a longer list is refused before any item is
    validated, in the words of every count limit (`salesplan.limits.count_message`). A child
    serializer names it in `Meta.list_serializer_class`."""

    def to_internal_value(self, data: Any) -> Any:
        _refuse_over(data, self.max_length)
        return super().to_internal_value(data)


class LimitedDictField(serializers.DictField):
    """A DictField of at most `max_items` keys, refused before any value is read."""

    def __init__(self, *, max_items: int, **kwargs: Any) -> None:
        self.max_items = max_items
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        _refuse_over(data, self.max_items)
        return super().to_internal_value(data)


class LimitedListField(serializers.ListField):
    """A ListField whose `max_length` is refused before any item is read, in our words."""

    def to_internal_value(self, data: Any) -> Any:
        _refuse_over(data, self.max_length)
        return super().to_internal_value(data)

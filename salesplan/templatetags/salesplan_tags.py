from decimal import Decimal
from typing import Any

from django import template
from django.utils.translation import get_language

from salesplan import tables
from salesplan.formatting import format_money, format_number

register = template.Library()


@register.filter
def money(value: Decimal | int | str | None, currency: str = "RUB") -> str:
    """{{ amount|money:currency }} → `1 000 000 ₽` or `₽1,000,000` by the active language."""
    return format_money(value, currency or "RUB", get_language() or "ru")


@register.filter
def number(value: Any, places: int = 0) -> str:
    if value is None or value == "":
        return "—"
    return format_number(value, get_language() or "ru", int(places))


@register.filter
def percent(value: Any, places: int = 1) -> str:
    """A fraction (0.25) as a percentage (25 %)."""
    if value is None or value == "":
        return "—"
    text = format_number(Decimal(str(value)) * 100, get_language() or "ru", int(places))
    return f"{text} %" if not (get_language() or "ru").startswith("en") else f"{text}%"


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """{{ forms|get_item:id }}: a dict lookup by a variable key."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.inclusion_tag("_export_links.html", takes_context=True)
def export_links(context: Any, table: Any) -> dict[str, Any]:
    """{% export_links table %}: the table's XLSX and CSV links (salesplan.tables)."""
    return {"links": tables.export_links(context["request"], table), "table": table}

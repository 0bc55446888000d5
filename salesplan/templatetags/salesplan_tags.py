from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from salesplan import navigation, tables
from salesplan.formatting import format_money, format_number, format_percent

register = template.Library()

# plotly.js with only the traces the app draws and its Russian locale (static/vendor/README.md).
PLOTLY_BUNDLE = "vendor/plotly-4.1.1-salesplan.min.js"


@register.filter
def money(value: Decimal | int | str | None, currency: str = "RUB") -> str:
    """{{ amount|money:currency }} → `1 000 000 ₽` or `₽1,000,000` by the active language."""
    try:
        return format_money(value, currency or "RUB", get_language() or "ru")
    except (InvalidOperation, ValueError, TypeError):  # not a number: shown as it is
        return str(value)


@register.filter
def number(value: Any, places: int = 0) -> str:
    """{{ n|number }} → `10 656 000` (no-break spaces) or `10,656,000`; `|number:1` → `2,8`."""
    if value is None or value == "":
        return "—"
    try:
        return format_number(value, get_language() or "ru", int(places))
    except (InvalidOperation, ValueError, TypeError):
        return str(value)


@register.filter
def percent(value: Any, places: int = 1) -> str:
    """A fraction (0.25) as a percentage: `25,0 %` (a no-break space) or `25.0%`."""
    try:
        return format_percent(value, get_language() or "ru", int(places))
    except (InvalidOperation, ValueError, TypeError):
        return str(value)


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """{{ forms|get_item:id }}: a dict lookup by a variable key."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.inclusion_tag("_export_links.html", takes_context=True)
def export_links(context: Any, table: Any) -> dict[str, Any]:
    """{% export_links table %}: the table's XLSX and CSV links (salesplan.tables)."""
    return {"links": tables.export_links(context["request"], table), "table": table}


@register.simple_tag
def chart_scripts() -> SafeString:
    """{% chart_scripts %} in a page's scripts block: the vendored plotly.js partial bundle and
    static/js/charts.js, which draws every [data-plotly] figure in the page's language."""
    return format_html(
        '<script src="{}" defer></script>\n<script src="{}" defer></script>',
        static(PLOTLY_BUNDLE),
        static("js/charts.js"),
    )


@register.filter
def nav_groups(items: list[dict[str, object]]) -> dict[str, object]:
    """{% with menu=nav_items|nav_groups %}: the main items, the "More" ones, more_active."""
    return navigation.nav_groups(items or [])

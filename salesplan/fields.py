"""Form fields for numbers as people type them (the Russian way too): "1 000 000", "40,5",
"1 000 000 ₽", "1,000,000.5". Every page with a number in it uses these."""

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from salesplan.formatting import CURRENCY_SYMBOLS, NBSP, format_number
from salesplan.limits import MAX_YEAR, MIN_YEAR

HUNDRED = Decimal(100)
# Spaces people (and our own `money` filter) put between groups of digits.
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")
_MONEY_WORDS = re.compile(r"(руб\.?|rub|%)", re.IGNORECASE)


def normalize_number(text: str) -> str:
    """ "1 000 000", "1000000,50", "1 000 000 ₽", "1,000,000.5" → a string Decimal reads.

    A comma is the decimal separator in Russian and a group separator in English; when both a
    comma and a dot appear, the last one is the decimal separator.
    """
    text = _SPACES.sub("", text.strip()).replace("\u2212", "-")
    text = _MONEY_WORDS.sub("", text)
    for symbol in CURRENCY_SYMBOLS.values():
        text = text.replace(symbol, "")
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            return text.replace(".", "").replace(",", ".")
        return text.replace(",", "")
    if text.count(",") > 1 or (text.count(",") == 1 and _english()):
        return text.replace(",", "")
    if text.count(".") > 1:
        return text.replace(".", "")
    return text.replace(",", ".")


def _english() -> bool:
    return (get_language() or "ru").startswith("en")


def display_number(value: Decimal | int) -> str:
    """A number as a person would type it back: groups of digits, no trailing zeros."""
    amount = Decimal(value).normalize()
    places = max(-amount.as_tuple().exponent, 0)  # type: ignore[operator]
    text = format_number(amount, get_language() or "ru", places)
    return text.replace(",", "") if _english() else text


def percent_text(fraction: Decimal | None) -> str:
    """A fraction (0.4) as a person reads a percentage ("40 %"); "—" for none."""
    if fraction is None:
        return "—"
    text = display_number(fraction * HUNDRED)
    return f"{text}%" if _english() else f"{text}{NBSP}%"


class LocalizedDecimalField(forms.DecimalField):
    """A DecimalField that forgives spaces, a comma, a currency sign (DOMAIN: numbers with
    spaces or commas). Shown as a text box so the browser does not reject "1 000 000"."""

    widget = forms.TextInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")
        self.widget.attrs.setdefault("autocomplete", "off")

    def to_python(self, value: Any) -> Decimal | None:
        if isinstance(value, str):
            value = normalize_number(value)
        return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return display_number(value)
        return value


class MoneyField(LocalizedDecimalField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 16)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal(0))
        super().__init__(**kwargs)


class PercentField(LocalizedDecimalField):
    """Typed in percent (40), cleaned to a fraction (0.4); a fraction is shown as percent."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 9)
        kwargs.setdefault("decimal_places", 4)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Decimal | None:
        percent = super().clean(value)
        return None if percent is None else percent / HUNDRED

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return display_number(Decimal(value) * HUNDRED)
        return value


def share_percent_field(label: str) -> PercentField:
    field = PercentField(
        required=False,
        min_value=Decimal(0),
        max_value=HUNDRED,
        label=label,
        # Django fills these in with the limit (`%`-formatting): a percent sign is "%%".
        error_messages={
            "min_value": _("A share is between 0 and 100 %%."),
            "max_value": _("A share is between 0 and 100 %%."),
        },
    )
    field.widget.attrs["class"] = "share"
    return field


def year_in_range(value: date) -> None:
    """A validator of every date people and machines send (forms and serializers alike):
    its year within MIN_YEAR..MAX_YEAR, so no "month after" or "day before" overflows."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(
            _("Enter a date between the years %(min)s and %(max)s."),
            code="year_out_of_range",
            params={"min": MIN_YEAR, "max": MAX_YEAR},
        )


class DateField(forms.DateField):
    """A date a person types, within the years a plan can mean."""

    default_validators = [year_in_range]


def date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def month_from(text: str | None, default: date) -> date:
    """The first day of a month typed as "2026-12" (an <input type=month>), else ``default``'s.
    Raises ValidationError for a month outside MIN_YEAR..MAX_YEAR (a page answers 400)."""
    try:
        year, month = (int(part) for part in (text or "").strip().split("-"))
        first = date(year, month, 1)
    except (ValueError, TypeError):
        return date(default.year, default.month, 1)
    year_in_range(first)
    return first

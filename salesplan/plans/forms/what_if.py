"""The what-if form: levers a head of sales pulls on the plan page, sent to the same what-if
as the API's (`salesplan.plans.whatif`)."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from salesplan.errors import translate_errors
from salesplan.fields import HUNDRED, LocalizedDecimalField, MoneyField, normalize_number
from salesplan.formatting import NBSP, format_decimal, format_money
from salesplan.planning import PlanInput, PlanInputError, StageInput

# The example change the hint shows before a change is typed (percentage points).
HINT_POINTS = Decimal(5)


class WhatIfForm(forms.Form):
    """Levers of salesplan.planning.Changes a head of sales pulls on the plan page."""

    stage = forms.ChoiceField(label=_("Conversion of the stage"), required=False)
    conversion_pp = LocalizedDecimalField(
        label=_("Conversion change, pp"), required=False, max_digits=7, decimal_places=3
    )
    average_check_pct = LocalizedDecimalField(
        label=_("Average check change, %"), required=False, max_digits=7, decimal_places=3
    )
    revenue_target_pct = LocalizedDecimalField(
        label=_("Revenue target change, %"), required=False, max_digits=7, decimal_places=3
    )
    cost_per_lead = MoneyField(label=_("Cost per lead"), required=False)
    add_salesperson = forms.BooleanField(label=_("+1 salesperson"), required=False)
    remove_members = forms.MultipleChoiceField(
        label=_("Without these salespeople"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, inputs: PlanInput, currency: str = "RUB", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inputs = inputs
        # Only a stage with a conversion to the next one can change it.
        self.stages: dict[str, tuple[StageInput, str]] = {}
        for stage, below in zip(inputs.stages, inputs.stages[1:], strict=False):
            if stage.conversion is not None:
                self.stages[stage.name] = (stage, below.name)
        self.fields["stage"].choices = [
            (name, f"{name} → {below} ({percent(stage.conversion)})")
            for name, (stage, below) in self.stages.items()
        ]
        key_stage = next((stage.name for stage in inputs.stages if stage.is_key_stage), None)
        self.fields["stage"].initial = key_stage if key_stage in self.stages else None
        current = inputs.cost_per_lead
        self.fields["cost_per_lead"].help_text = (
            gettext("Now %(cost)s. Empty: as planned.")
            % {"cost": format_money(current, currency, get_language() or "ru")}
            if current is not None
            else gettext("The plan has none. Empty: as planned.")
        )
        self.fields["remove_members"].choices = [
            (member.key, member.name) for member in inputs.team
        ]

    # -- the hint under the conversion lever -------------------------------------------------

    def chosen_stage(self) -> str | None:
        """The stage the conversion lever applies to: as sent, else the key stage."""
        sent = self["stage"].value()
        if sent in self.stages:
            return sent
        initial = self.fields["stage"].initial
        return initial if initial in self.stages else None

    def _typed_points(self) -> Decimal | None:
        text = self["conversion_pp"].value()
        if text in (None, ""):
            return None
        try:
            points = Decimal(normalize_number(str(text)))
        except (InvalidOperation, ValueError):
            return None
        return points if points.is_finite() else None

    def conversion_hint(self) -> str:
        """What the lever does to the chosen stage's conversion, in its own numbers: the typed
        change ("40 % → 50 %"), or an example ("+5 turns 40 % into 45 %")."""
        name = self.chosen_stage()
        if name is None:
            return ""
        stage, below = self.stages[name]
        before = stage.conversion
        points = self._typed_points()
        if points is not None:
            after = before + points / HUNDRED
            return gettext("%(from)s → %(to)s: %(before)s becomes %(after)s.") % {
                "from": name,
                "to": below,
                "before": percent(before),
                "after": percent(after),
            }
        # An example that stays a conversion (no more than 100 %).
        example = HINT_POINTS if before + HINT_POINTS / HUNDRED <= 1 else -HINT_POINTS
        return gettext("%(change)s pp turns %(before)s into %(after)s (%(from)s → %(to)s).") % {
            "change": f"{'+' if example > 0 else '−'}{abs(example)}",
            "before": percent(before),
            "after": percent(before + example / HUNDRED),
            "from": name,
            "to": below,
        }

    # -- levers --------------------------------------------------------------------------------

    def levers(self) -> dict[str, Any]:
        """The levers in the API's shape: the page and the API call the same what-if."""
        data = self.cleaned_data
        levers: dict[str, Any] = {
            "average_check_pct": data.get("average_check_pct"),
            "revenue_target_pct": data.get("revenue_target_pct"),
            "cost_per_lead": data.get("cost_per_lead"),
        }
        if data.get("conversion_pp") and data.get("stage"):
            levers["conversion_pp"] = {data["stage"]: data["conversion_pp"]}
        if data.get("add_salesperson"):
            levers["add_members"] = [{"name": gettext("New salesperson")}]
        if data.get("remove_members"):
            levers["remove_members"] = list(data["remove_members"])
        return levers

    def add_engine_errors(self, error: PlanInputError) -> None:
        """Engine errors of the changed plan, next to the lever that caused them."""
        for key, texts in translate_errors(error.errors).items():
            if key.startswith(("conversion_pp", "stages")):
                field = "conversion_pp"
            elif key == "average_check" or key.startswith("product_mix"):
                field = "average_check_pct"
            elif key == "revenue_target":
                field = "revenue_target_pct"
            elif key == "cost_per_lead":
                field = "cost_per_lead"
            elif key.startswith(("remove_members", "team")):
                field = "remove_members"
            else:
                field = None
            self.add_error(field, list(texts))


def percent(fraction: Decimal) -> str:
    """A conversion as people read it: 40 %, 42,5 % (no trailing zeros; the no-break space of
    the pages before the sign in Russian, none in English)."""
    language = get_language() or "ru"
    text = format_decimal(fraction * HUNDRED, language, 2)
    return f"{text}%" if language.startswith("en") else f"{text}{NBSP}%"

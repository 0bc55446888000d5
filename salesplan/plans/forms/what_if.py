"""The what-if form: levers a head of sales pulls on the plan page, sent to the same what-if
as the API's (`salesplan.plans.whatif`)."""

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from salesplan.errors import translate_errors
from salesplan.fields import HUNDRED, LocalizedDecimalField, display_number
from salesplan.planning import PlanInputError, StageInput


class WhatIfForm(forms.Form):
    """Levers of salesplan.planning.Changes a head of sales pulls on the plan page."""

    stage = forms.ChoiceField(label=_("Stage"), required=False)
    conversion_pp = LocalizedDecimalField(
        label=_("Conversion change, pp"),
        required=False,
        max_digits=7,
        decimal_places=3,
        help_text=_("+5 turns 40 % into 45 %."),
    )
    average_check_pct = LocalizedDecimalField(
        label=_("Average check change, %"), required=False, max_digits=7, decimal_places=3
    )
    revenue_target_pct = LocalizedDecimalField(
        label=_("Revenue target change, %"), required=False, max_digits=7, decimal_places=3
    )
    add_salesperson = forms.BooleanField(label=_("+1 salesperson"), required=False)

    def __init__(self, *args: Any, stages: Sequence[StageInput], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only a stage with a conversion to the next one can change it.
        self.fields["stage"].choices = [
            (stage.name, f"{stage.name} ({display_number(stage.conversion * HUNDRED)} %)")
            for stage in stages
            if stage.conversion is not None
        ]
        key_stage = next((stage.name for stage in stages if stage.is_key_stage), None)
        self.fields["stage"].initial = key_stage

    def levers(self) -> dict[str, Any]:
        """The levers in the API's shape: the page and the API call the same what-if."""
        data = self.cleaned_data
        levers: dict[str, Any] = {
            "average_check_pct": data.get("average_check_pct"),
            "revenue_target_pct": data.get("revenue_target_pct"),
        }
        if data.get("conversion_pp") and data.get("stage"):
            levers["conversion_pp"] = {data["stage"]: data["conversion_pp"]}
        if data.get("add_salesperson"):
            levers["add_members"] = [{"name": str(_("New salesperson"))}]
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
            else:
                field = None
            self.add_error(field, list(texts))

"""The client base's settings form. It only reads what was posted; every rule is
base_settings_update's (the API calls the same), its errors put next to these fields."""

from django import forms
from django.utils.translation import gettext_lazy as _


class BaseSettingsForm(forms.Form):
    permanent_reasons = forms.CharField(
        label=_("Permanent lost reasons"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "One a line, as your CRM writes them (case and spacing do not matter). A company "
            "refused for one of these reasons is closed for good; any other refusal cools it off."
        ),
    )
    cooling_days = forms.IntegerField(
        label=_("Cooling-off period, days"),
        help_text=_("How long a company that refused is not contacted, from the day it refused."),
    )

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "permanent_reasons": data["permanent_reasons"].splitlines(),
            "cooling_days": data["cooling_days"],
        }

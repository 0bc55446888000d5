"""Forms of the funnel pages: a name and a formset of stages, conversions typed in percent;
the upload of a CRM export. funnel.services checks the name and the stages (exactly one key
stage, ...) and its errors are put back on the field or row they concern."""

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from funnel.models import Funnel
from salesplan.access import scoped
from salesplan.fields import PercentField
from salesplan.limits import MAX_STAGES

# Blank rows under the last stage, so a funnel can grow without JavaScript.
EXTRA_STAGE_ROWS = 2


class FunnelForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))

    def __init__(
        self, *args: Any, organization: Any, funnel: Funnel | None = None, **kwargs: Any
    ) -> None:
        self.organization = organization
        self.funnel = funnel
        if funnel is not None:
            kwargs.setdefault("initial", {"name": funnel.name})
        super().__init__(*args, **kwargs)


class StageForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, label=_("Stage"))
    conversion = PercentField(
        required=False,
        label=_("Conversion to the next stage, %"),
        max_digits=9,
        decimal_places=4,
    )
    is_key_stage = forms.BooleanField(required=False, label=_("Key stage"))
    is_target_lead = forms.BooleanField(required=False, label=_("Target leads"))

    def clean_conversion(self) -> Decimal | None:
        conversion = self.cleaned_data.get("conversion")
        if conversion is not None and not 0 < conversion <= 1:
            raise ValidationError(_("Enter a conversion above 0 % and at most 100 %."))
        return conversion

    def is_blank(self) -> bool:
        """An untouched or emptied row: ignored, so clearing a row removes the stage."""
        data = getattr(self, "cleaned_data", None) or {}
        if self.errors:
            return False
        return not (
            (data.get("name") or "").strip()
            or data.get("conversion") is not None
            or data.get("is_key_stage")
            or data.get("is_target_lead")
        )


# At most MAX_STAGES stages and the blank rows: a form claiming more rows is refused before
# any row is built (the service refuses more than MAX_STAGES filled ones, in its words).
StageFormSet = forms.formset_factory(
    StageForm,
    extra=EXTRA_STAGE_ROWS,
    max_num=MAX_STAGES + EXTRA_STAGE_ROWS,
    absolute_max=MAX_STAGES + EXTRA_STAGE_ROWS,
    validate_max=True,
)


def stage_initial(funnel: Funnel | None) -> list[dict[str, Any]]:
    """The funnel's stages, or for a new funnel the usual B2B one (DOMAIN 2), without numbers."""
    if funnel is not None:
        return [
            {
                "name": stage.name,
                "conversion": stage.conversion,
                "is_key_stage": stage.is_key_stage,
                "is_target_lead": stage.is_target_lead,
            }
            for stage in funnel.stages.order_by("position")
        ]
    return [
        {"name": str(_("Lead"))},
        {"name": str(_("Target lead")), "is_target_lead": True},
        {"name": str(_("Meeting scheduled"))},
        {"name": str(_("Meeting held")), "is_key_stage": True},
        {"name": str(_("Paid"))},
    ]


def stages_of(formset: Any) -> tuple[list[dict[str, Any]], list[StageForm]]:
    """The non-blank rows as the services' stage dicts, with the form each came from (so an
    error about "stages[2]" lands on the right row)."""
    rows = [form for form in formset.forms if not form.is_blank()]
    stages = [
        {
            "name": (form.cleaned_data.get("name") or "").strip(),
            "conversion": form.cleaned_data.get("conversion"),
            "is_key_stage": form.cleaned_data.get("is_key_stage", False),
            "is_target_lead": form.cleaned_data.get("is_target_lead", False),
        }
        for form in rows
    ]
    return stages, rows


def add_stage_errors(error: ValidationError, rows: list[StageForm], form: FunnelForm) -> list[str]:
    """Put "stages[i].field" errors on row i and "name" on the name; return the errors about
    the funnel's stages as a whole."""
    general: list[str] = []
    messages = error.message_dict if hasattr(error, "error_dict") else {"stages": error.messages}
    for key, texts in messages.items():
        if key == "name":
            form.add_error("name", texts)
            continue
        if key.startswith("stages[") and "]" in key:
            index = int(key[len("stages[") : key.index("]")])
            field = key.partition("].")[2] or None
            if index < len(rows):
                rows[index].add_error(field if field in StageForm.base_fields else None, texts)
                continue
        general.extend(texts)
    return general


# --- uploading a CRM export -------------------------------------------------------------------

PRESETS = [
    ("", _("Detect from the headers")),
    ("amocrm", "amoCRM"),
    ("bitrix24", "Bitrix24"),
    ("maven", "Maven CRM"),
    ("generic", _("Salesplan template")),
]


class UploadForm(forms.Form):
    file = forms.FileField(label=_("CRM export (CSV or XLSX)"))
    funnel = forms.ModelChoiceField(queryset=Funnel.objects.none(), label=_("Funnel"))
    preset = forms.ChoiceField(choices=PRESETS, required=False, label=_("Format"))

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        funnels = scoped(Funnel, organization)
        self.fields["funnel"].queryset = funnels
        only = list(funnels[:2])
        if len(only) == 1:  # most teams have one funnel: choose it for them
            self.fields["funnel"].initial = only[0]

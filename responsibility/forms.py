from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from salesplan.models import Membership, Role


def pie_members(plan: Any):
    """Who may hold a slice of the pie: the organization's active members but viewers."""
    return (
        Membership.objects.filter(organization_id=plan.organization_id, is_active=True)
        .exclude(role=Role.VIEWER)
        .select_related("user", "team")
    )


def split_candidates(plan: Any) -> list[Membership]:
    """The salespeople a head of sales can cut a metric among (read once per page)."""
    return list(pie_members(plan).filter(role=Role.SALESPERSON))


class AssignForm(forms.Form):
    """Give a metric (or a responsibility's slice) to one owner."""

    metric = forms.IntegerField(widget=forms.HiddenInput, required=False)
    responsibility = forms.IntegerField(widget=forms.HiddenInput, required=False)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=Membership.objects.none())
    pie_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, plan: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = pie_members(plan)
        self.fields["owner"].label_from_instance = lambda m: (
            f"{m.display_name} · {m.get_role_display()}"
        )


# A share typed in percent has a few digits before and after the point (the field takes 12
# characters); an exponent beyond this is no percentage.
MAX_PERCENT_DIGITS = 12


def parse_percent(value: str) -> Decimal:
    """ "50", "12,5 %" → 0.5, 0.125. InvalidOperation for anything but a plain number: "NaN",
    "Infinity" or "1e999999999" are no percentage (and would break the comparisons after)."""
    text = (value or "").replace("\xa0", "").replace(" ", "").replace("%", "").replace(",", ".")
    number = Decimal(text)
    if not number.is_finite() or abs(number.adjusted()) > MAX_PERCENT_DIGITS:
        raise InvalidOperation(text)
    return number / 100


class SplitForm(forms.Form):
    """The head of sales' cut: a share in % for each salesperson (blank or 0: none)."""

    responsibility = forms.IntegerField(widget=forms.HiddenInput)
    pie_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, plan: Any, salespeople: list[Membership] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.salespeople = salespeople if salespeople is not None else split_candidates(plan)
        for member in self.salespeople:
            self.fields[f"share_{member.pk}"] = forms.CharField(
                label=member.display_name, required=False, max_length=12
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        shares = []
        for member in self.salespeople:
            raw = cleaned.get(f"share_{member.pk}") or ""
            if not raw.strip():
                continue
            try:
                share = parse_percent(raw)
            except InvalidOperation:
                self.add_error(f"share_{member.pk}", _("Enter a percentage, e.g. 50."))
                continue
            if share < 0 or share > 1:
                self.add_error(f"share_{member.pk}", _("Between 0 and 100 %."))
            elif share > 0:
                shares.append((member, share))
        cleaned["shares"] = shares
        return cleaned

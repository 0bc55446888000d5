from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from salesplan.errors import error_dict
from salesplan.fields import DateField, LocalizedDecimalField, MoneyField, date_widget
from salesplan.models import CURRENCY_CHOICES, Invitation, Membership, Organization, Role, Team
from salesplan.services import normalize_email

User = get_user_model()


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autofocus": True})
    )

    def clean_username(self) -> str:
        return normalize_email(self.cleaned_data["username"])


class PasswordPairMixin(forms.Form):
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def _check_password(self, user: Any) -> None:
        password1 = self.cleaned_data.get("password1")
        password2 = self.cleaned_data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords do not match."))
            return
        if password1:
            try:
                password_validation.validate_password(password1, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)


class SignupForm(forms.Form):
    """The organization and its owner; the password is chosen on the link e-mailed to them.
    An e-mail that already has an account is not refused here: the page answers the same
    for every address (salesplan.accounts.signup_request)."""

    organization_name = forms.CharField(label=_("Company name"), max_length=200)
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"))
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES, initial="RUB")

    field_order = ["organization_name", "first_name", "last_name", "email", "currency"]

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])


class SignupConfirmForm(PasswordPairMixin):
    """The password of a new owner, checked against what their sign-up link carries."""

    def __init__(self, *args: Any, details: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.details = details

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self._check_password(
            User(
                username=self.details["email"],
                email=self.details["email"],
                first_name=self.details["first_name"],
                last_name=self.details["last_name"],
            )
        )
        return cleaned


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    salesperson_kind = forms.ChoiceField(
        label=_("Salesperson kind"),
        choices=[("", "—"), ("hunter", _("Hunter")), ("farmer", _("Farmer"))],
        required=False,
    )
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["team"].queryset = Team.objects.filter(organization=organization)

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        if Membership.objects.filter(organization=self.organization, user__username=email).exists():
            raise forms.ValidationError(_("This person is already a member."))
        open_invites = Invitation.objects.filter(
            organization=self.organization, email=email, accepted_at__isnull=True
        )
        if any(invitation.is_open for invitation in open_invites):
            raise forms.ValidationError(_("This person has already been invited."))
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("role") == Role.SALESPERSON and not cleaned.get("salesperson_kind"):
            self.add_error("salesperson_kind", _("Choose hunter or farmer for a salesperson."))
        return cleaned


class InvitationAcceptForm(PasswordPairMixin):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)

    field_order = ["first_name", "last_name"]

    def __init__(self, *args: Any, invitation: Invitation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invitation = invitation

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self._check_password(
            User(
                username=self.invitation.email,
                email=self.invitation.email,
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
        )
        return cleaned


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=200)
    head = forms.ModelChoiceField(
        label=_("Head of sales"), queryset=Membership.objects.none(), required=False
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["head"].queryset = Membership.objects.filter(
            organization=organization, role=Role.HEAD_OF_SALES
        ).select_related("user")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Team.objects.filter(organization=self.organization, name=name).exists():
            raise forms.ValidationError(_("A team with this name already exists."))
        return name


# --- planning inputs: products and the calendar ---------------------------------------------------
# These forms only read what was typed; salesplan.services checks it (the API calls the same).


class ProductForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    price = MoneyField(label=_("Price"), min_value=None)
    margin_pct = LocalizedDecimalField(
        label=_("Gross margin, %"), required=False, max_digits=5, decimal_places=2
    )


class CalendarDayForm(forms.Form):
    WORKING, DAY_OFF = "working", "off"

    date = DateField(label=_("Date"), widget=date_widget())
    kind = forms.ChoiceField(
        label=_("The day is"),
        choices=[(WORKING, _("a working day")), (DAY_OFF, _("a day off"))],
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "date": data["date"],
            "is_working": data["kind"] == self.WORKING,
            "note": data["note"],
        }


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError next to the fields it names (the rest above the form)."""
    for key, messages in error_dict(error).items():
        form.add_error(key if key in form.fields else None, messages)

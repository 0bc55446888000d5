"""The notification settings pages' forms. They only read what was posted (a checkbox, a
text); every rule is the update services' (salesplan.notifications.services), the same the
API calls, and their errors are put next to these fields (salesplan.forms.add_service_errors).
No max_length here either: a long text gets the service's message, not a second wording."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


def _language_choices() -> list[tuple[str, str]]:
    return [("", _("The site's default")), *settings.LANGUAGES]


class PersonSettingsForm(forms.Form):
    email_enabled = forms.BooleanField(label=_("By e-mail"), required=False)
    telegram_enabled = forms.BooleanField(label=_("In Telegram"), required=False)
    telegram_chat_id = forms.CharField(
        label=_("Telegram chat id"),
        required=False,
        help_text=_("A number such as 123456789 (how to find it: see below)."),
        widget=forms.TextInput(attrs={"inputmode": "text", "autocomplete": "off"}),
    )
    language = forms.ChoiceField(
        label=_("Language of notifications"),
        choices=_language_choices,
        required=False,
        help_text=_("For e-mails and Telegram messages; the pages follow the site's language."),
    )


class OrganizationSettingsForm(forms.Form):
    telegram_bot_token = forms.CharField(
        label=_("New bot token"),
        required=False,
        strip=True,
        help_text=_("From @BotFather. Leave empty to keep the current one."),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
    )
    remove_telegram_bot_token = forms.BooleanField(label=_("Remove the bot token"), required=False)
    telegram_chat_id = forms.CharField(
        label=_("Organization's Telegram chat id"),
        required=False,
        help_text=_(
            "A group or channel for every slip, such as -1001234567890; the bot must be in it."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    webhook_url = forms.CharField(
        label=_("Webhook URL"),
        required=False,
        help_text=_("Slip events are POSTed here as JSON. Empty: no webhook."),
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "off"}),
    )

    def service_arguments(self) -> dict:
        """organization_settings_update's arguments: a token typed replaces the stored one,
        "remove" clears it, neither keeps it."""
        data = self.cleaned_data
        token = data["telegram_bot_token"] or None
        if data["remove_telegram_bot_token"]:
            token = ""
        return {
            "telegram_bot_token": token,
            "telegram_chat_id": data["telegram_chat_id"],
            "webhook_url": data["webhook_url"],
        }

"""The CRM integrations page (/settings/integrations/): the organization's integrations with the
address to paste into the CRM, a form to add one, and the latest webhooks with a Retry on
those that failed; a Bitrix24 integration's inbound webhook URL can be replaced. Owner and
heads of sales only, as in the API. Thin: the work is in
funnel.services.integrations and funnel.services.webhooks."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from funnel.crm.bitrix24 import MAX_REST_URL_CHARS
from funnel.models import Funnel, Integration, RawRecord
from funnel.services import integrations, webhooks
from salesplan.access import access_object, may_edit_settings, require_membership, scoped, visible
from salesplan.errors import error_lines
from salesplan.forms import add_service_errors
from salesplan.models import Membership

# The webhooks the page lists: enough to see today's failures; the API pages through the rest.
RECENT_RECORDS = 50


class IntegrationForm(forms.Form):
    """Types only: integration_create checks the token, the URL and the funnel."""

    kind = forms.ChoiceField(label=gettext_lazy("CRM"), choices=Integration.Kind.choices)
    funnel = forms.ModelChoiceField(label=gettext_lazy("Funnel"), queryset=Funnel.objects.none())
    rest_url = forms.CharField(
        label=gettext_lazy("Bitrix24 inbound webhook URL"),
        required=False,
        max_length=MAX_REST_URL_CHARS,
        help_text=gettext_lazy(
            "Bitrix24: Developer resources → Other → Inbound webhook, with the crm scope, e.g. "
            "https://your-portal.bitrix24.ru/rest/1/abc123xyz/. Deals are read with it; it is "
            "stored encrypted and never shown again."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    application_token = forms.CharField(
        label=gettext_lazy("Bitrix24 application token"),
        required=False,
        max_length=200,
        help_text=gettext_lazy(
            "Bitrix24: the outbound webhook's application token (it signs every webhook)."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["funnel"].queryset = scoped(Funnel, organization).order_by("name")


def _records(member: Membership) -> QuerySet[RawRecord]:
    return visible(member, RawRecord.objects.filter(kind=RawRecord.Kind.WEBHOOK))


def integration_list(request: HttpRequest) -> HttpResponse:
    member = require_membership(request, may_edit_settings)
    organization = member.organization
    form = IntegrationForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        try:
            integrations.integration_create(organization=organization, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("The integration is added: paste its webhook address into the CRM.")
            )
            return redirect("integration_list")
    listed = visible(member, Integration.objects.select_related("funnel")).order_by("id")
    rows = [
        {
            "integration": integration,
            "webhook_url": request.build_absolute_uri(integrations.webhook_path(integration)),
            "stage_map_count": len(integration.stage_map or {}),
        }
        for integration in listed
    ]
    records = (
        _records(member).select_related("integration__funnel").order_by("-id")[:RECENT_RECORDS]
    )
    context = {
        "integrations": rows,
        "records": records,
        "form": form,
        "can_edit": True,  # the settings tabs show this page's tab to editors only
        "max_rest_url_chars": MAX_REST_URL_CHARS,
    }
    return render(request, "integrations/list.html", context)


@require_POST
def integration_rest_url(request: HttpRequest, pk: int) -> HttpResponse:
    """Replace (or, empty, remove) a Bitrix24 integration's inbound webhook URL."""
    member = require_membership(request, may_edit_settings)
    integration = access_object(member, Integration.objects.all(), pk, edit=True)
    try:
        integrations.integration_credentials_update(
            integration=integration, rest_url=request.POST.get("rest_url", "")
        )
    except ValidationError as error:
        for line in error_lines(error):
            messages.error(request, line)
    else:
        messages.success(request, _("The Bitrix24 REST URL is saved."))
    return redirect("integration_list")


@require_POST
def record_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Retry a failed webhook: from htmx, the record's row as it is now; without JavaScript,
    back to the page with a message."""
    member = require_membership(request, may_edit_settings)
    webhooks_only = RawRecord.objects.filter(kind=RawRecord.Kind.WEBHOOK)
    record = access_object(
        member, webhooks_only.select_related("integration__funnel"), pk, edit=True
    )
    retried = webhooks.record_retry(record)
    record.refresh_from_db()
    if request.headers.get("HX-Request"):
        return render(request, "integrations/_record_row.html", {"record": record})
    if retried:
        messages.success(request, _("Webhook %(id)s is queued again.") % {"id": record.pk})
    else:
        messages.info(request, _("This webhook is processed; there is nothing to retry."))
    return redirect("integration_list")

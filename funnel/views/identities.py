"""The identities page (/settings/identities/): who each name or CRM user id is, and what
channel each CRM code is, with the leads that carry them. Owner and heads of sales, as the
other settings. Thin: the work is in funnel.services.identities."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from funnel.models import Source
from funnel.services import identities
from salesplan.access import may_edit_settings, require_membership, scoped
from salesplan.errors import error_lines
from salesplan.limits import MAX_ID
from salesplan.models import Membership


def identity_list(request: HttpRequest) -> HttpResponse:
    member = require_membership(request, may_edit_settings)
    organization = member.organization
    members = scoped(Membership, organization).select_related("user")
    context = {
        **identities.identities_page(organization),
        "members": sorted(members, key=lambda m: m.display_name.casefold()),
        "sources": [(value, label) for value, label in Source.choices],
        "tab": "identities",
        "can_edit": True,
    }
    return render(request, "identities/list.html", context)


@require_POST
def person_link(request: HttpRequest) -> HttpResponse:
    member = require_membership(request, may_edit_settings)
    organization = member.organization
    text = request.POST.get("membership", "")
    chosen = None
    if text:
        pk = int(text) if text.isdigit() and int(text) <= MAX_ID else None
        chosen = scoped(Membership, organization).filter(pk=pk).first() if pk else None
        if chosen is None:
            messages.error(request, _("This member is not in your organization."))
            return redirect("identity_list")
    try:
        done = identities.person_link(
            organization=organization, written=request.POST.get("written", ""), membership=chosen
        )
    except ValidationError as error:
        for line in error_lines(error):
            messages.error(request, line)
    else:
        messages.success(
            request,
            _("Saved; %(leads)s leads already stored follow it.") % {"leads": done.leads},
        )
    return redirect("identity_list")


@require_POST
def channel_rename(request: HttpRequest) -> HttpResponse:
    member = require_membership(request, may_edit_settings)
    try:
        done = identities.channel_rename(
            organization=member.organization,
            source=request.POST.get("source", ""),
            written=request.POST.get("written", ""),
            name=request.POST.get("name", ""),
        )
    except ValidationError as error:
        for line in error_lines(error):
            messages.error(request, line)
    else:
        messages.success(
            request,
            _("Saved; %(leads)s leads already stored follow it.") % {"leads": done.leads},
        )
    return redirect("identity_list")

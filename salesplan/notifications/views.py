"""The inbox page: the open slips a person answers for or oversees (owner, metric, since when,
the gap and what it costs, a link to the metric's history), their notifications in their
language, each channel's fate (a failed delivery says why), marking read; and the unread
badge the menu loads (htmx, so no page pays a query for it). The notification settings
pages: a person's channels with a test message, and the organization's bot, chat and webhook
with the retry of failed deliveries; they call the services the API calls."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metrics.models import Slip
from salesplan.access import get_scoped_or_404, may_edit_settings, require_membership, scoped
from salesplan.forms import add_service_errors
from salesplan.models import Channel, Membership, PlanStatus, Role
from salesplan.notifications import channels, services
from salesplan.notifications.forms import OrganizationSettingsForm, PersonSettingsForm
from salesplan.notifications.messages import render as render_message

# The inbox page shows the latest ones; older ones are in the API (paginated).
INBOX_PAGE_SIZE = 100
# The open slips the inbox lists, the most costly first (the slips API has them all).
INBOX_SLIPS = 100


def open_slips(member: Membership) -> QuerySet[Slip]:
    """The open slips a member answers for or oversees: salespeople and marketers their own
    (the metrics they hold, as the slips API shows them); everyone else the organization's,
    of the plans not closed. The most costly first (the most negative part of the revenue
    gap; none attributed last), then the oldest. One query."""
    slips = scoped(Slip, member.organization, path="plan__organization").filter(
        closed_on__isnull=True
    )
    if member.role in (Role.SALESPERSON, Role.MARKETER):
        slips = slips.filter(owner=member)
    else:
        slips = slips.exclude(plan__status=PlanStatus.CLOSED)
    return slips.select_related("plan", "metric", "owner__user").order_by(
        F("attributed_revenue").asc(nulls_last=True), "since", "id"
    )


def inbox(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    notifications = list(services.inbox(membership)[:INBOX_PAGE_SIZE])
    items = [{"notification": n, "message": render_message(n)} for n in notifications]
    slips = [
        {"slip": slip, "gap_fraction": None if slip.gap_pct is None else slip.gap_pct / 100}
        for slip in open_slips(membership)[:INBOX_SLIPS]
    ]
    return render(
        request,
        "notifications/inbox.html",
        {"items": items, "slips": slips, "unread": services.unread_count(membership)},
    )


def inbox_badge(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    return render(
        request, "notifications/_badge.html", {"unread": services.unread_count(membership)}
    )


@require_POST
def inbox_read(request: HttpRequest, pk: int) -> HttpResponse:
    membership = require_membership(request)
    notification = get_scoped_or_404(services.inbox(membership), membership.organization, pk=pk)
    services.inbox_mark_read(member=membership, notification=notification)
    return redirect("inbox")


@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    marked = services.inbox_mark_all_read(member=membership)
    if marked:
        messages.success(request, _("All notifications are marked read."))
    return redirect("inbox")


# --- the settings pages ---------------------------------------------------------------------


def person_settings(request: HttpRequest) -> HttpResponse:
    """Each member's own channels: e-mail, Telegram (their chat with the organization's
    bot), the language of the messages; saved by the service the API calls."""
    membership = require_membership(request)
    item = services.person_settings(membership)
    initial = {name: getattr(item, name) for name in services.PERSON_FIELDS}
    form = PersonSettingsForm(initial=initial)
    if request.method == "POST":
        form = PersonSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.person_settings_update(member=membership, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Your notification settings are saved."))
                return redirect("notification_settings")
    context = {
        "form": form,
        "saved": item,
        "has_bot": services.organization_has_bot(membership.organization),
        "can_edit": may_edit_settings(membership),
    }
    return render(request, "settings/notifications.html", context)


@require_POST
def person_settings_test(request: HttpRequest) -> HttpResponse:
    """Send a test message now on the person's saved channels; each channel's outcome as a
    message on the page (in the reader's language)."""
    membership = require_membership(request)
    checks = services.test_message_send(member=membership)
    if not checks:
        messages.warning(
            request, _("No channel is on: turn on e-mail or Telegram, save, then test.")
        )
    labels = dict(Channel.choices)
    for check in checks:
        text = f"{labels[check.channel]}: {check.message}"
        (messages.success if check.sent else messages.error)(request, text)
    return redirect("notification_settings")


def organization_settings(request: HttpRequest) -> HttpResponse:
    """The organization's bot, its chat and its webhook, and the failed deliveries on them:
    owners and heads of sales (the token and the secret are theirs to manage)."""
    membership = require_membership(request, may_edit_settings)
    organization = membership.organization
    item = services.organization_settings(organization)
    form = OrganizationSettingsForm(
        initial={"telegram_chat_id": item.telegram_chat_id, "webhook_url": item.webhook_url}
    )
    if request.method == "POST":
        form = OrganizationSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.organization_settings_update(
                    organization=organization, **form.service_arguments()
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The organization's notification settings are saved."))
                return redirect("organization_notifications")
    context = {
        "form": form,
        "item": item,
        "has_bot_token": bool(item.telegram_bot_token_encrypted),
        "failed": services.failed_deliveries(organization),
        "signature_header": channels.SIGNATURE_HEADER,
        "event_id_header": channels.EVENT_ID_HEADER,
        "event_header": channels.EVENT_HEADER,
        "can_edit": True,
    }
    return render(request, "settings/organization_notifications.html", context)


@require_POST
def organization_secret_regenerate(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request, may_edit_settings)
    services.organization_settings_update(
        organization=membership.organization, regenerate_secret=True
    )
    messages.success(
        request,
        _("A new webhook secret is made; the old one no longer signs. Give it to your receiver."),
    )
    return redirect("organization_notifications")


@require_POST
def delivery_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a failed delivery of the organization's webhook or chat again (the service the
    API's retry calls)."""
    membership = require_membership(request, may_edit_settings)
    organization = membership.organization
    delivery = get_scoped_or_404(
        services.organization_deliveries(organization),
        organization,
        path="notification__organization",
        pk=pk,
    )
    if services.delivery_retry(delivery):
        messages.success(request, _("The delivery is queued again."))
    else:
        messages.info(request, _("This delivery is not failed; there is nothing to retry."))
    return redirect("organization_notifications")

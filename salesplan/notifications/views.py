"""The inbox page: a person's notifications in their language, each channel's fate (a failed
delivery says why), marking read; and the unread badge the menu loads (htmx, so no page
pays a query for it)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from salesplan.access import get_scoped_or_404, require_membership
from salesplan.notifications import services
from salesplan.notifications.messages import render as render_message

# The inbox page shows the latest ones; older ones are in the API (paginated).
INBOX_PAGE_SIZE = 100


def inbox(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    notifications = list(services.inbox(membership)[:INBOX_PAGE_SIZE])
    items = [{"notification": n, "message": render_message(n)} for n in notifications]
    return render(
        request,
        "notifications/inbox.html",
        {"items": items, "unread": services.unread_count(membership)},
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

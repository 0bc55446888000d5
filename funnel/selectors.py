"""Reads of the funnel app, always through salesplan.access: a salesperson sees their own
leads (salesplan.access.lead_rows), imports are the settings editors'."""

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import FileResponse, Http404
from django.utils.translation import gettext

from funnel.importers.batch_values import organization_zone
from funnel.models import ImportJob, Lead, Payment, StageEvent
from salesplan.access import access_object, visible
from salesplan.models import Membership

# The import list shows the latest this many jobs.
IMPORTS_LISTED = 50


def _local_midnight(day: date, zone: Any) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def lead_list(*, member: Membership, filters: dict[str, Any]) -> QuerySet[Lead]:
    """The leads a member may see, filtered; days are the organization's local days."""
    leads = visible(member, Lead).select_related("current_stage", "responsible__user")
    if filters.get("external_id"):
        leads = leads.filter(external_id=filters["external_id"])
    if filters.get("stage"):
        leads = leads.filter(current_stage_id=filters["stage"])
    if filters.get("reached_stage"):
        leads = leads.filter(stage_events__stage_id=filters["reached_stage"])
    if filters.get("member"):
        leads = leads.filter(responsible_id=filters["member"])
    if filters.get("channel"):
        # Exact, as marketing spend is keyed by the channel as written.
        leads = leads.filter(channel=filters["channel"])
    if filters.get("search"):
        text = filters["search"]
        leads = leads.filter(
            Q(name__icontains=text) | Q(company__icontains=text) | Q(external_id__icontains=text)
        )
    zone = organization_zone(member.organization.time_zone)
    if filters.get("start"):
        leads = leads.filter(created_at__gte=_local_midnight(filters["start"], zone))
    if filters.get("end"):
        leads = leads.filter(created_at__lt=_local_midnight(filters["end"] + timedelta(1), zone))
    return leads.order_by("-created_at", "-id")


def payments_of(member_id: int) -> Q:
    """Payments that are a person's deals: credited to them, or of a lead they hold (a head of
    sales' deal stays theirs when its bonus goes to a salesperson). A filter on payments whose
    lead side is a subquery on the leads' responsible index: a join would look up every
    payment's lead (63 ms warm, 15 s cold for a month at 1,000,000 leads; 3–6 ms this way)."""
    return Q(credited_member_id=member_id) | Q(
        lead_id__in=Lead.objects.filter(responsible_id=member_id).values("id")
    )


def lead_with_history() -> QuerySet[Lead]:
    """Leads with their stage events (funnel order) and payments, for a lead's detail."""
    return Lead.objects.select_related("current_stage", "responsible__user").prefetch_related(
        Prefetch(
            "stage_events",
            queryset=StageEvent.objects.select_related("stage", "member__user").order_by(
                "stage__position"
            ),
        ),
        Prefetch("payments", queryset=Payment.objects.order_by("paid_at", "id")),
    )


def import_list(*, member: Membership) -> QuerySet[ImportJob]:
    return visible(member, ImportJob).select_related("funnel")[:IMPORTS_LISTED]


def error_report(job: ImportJob) -> FileResponse:
    """The job's full error report (line, column, value, reason) as a CSV download: the page,
    the API and the admin serve it the same way; 404 when the import had no errors."""
    if not job.error_report:
        raise Http404(gettext("This import has no errors."))
    return FileResponse(
        job.error_report.open("rb"),
        as_attachment=True,
        filename=f"{job.original_name}-errors.csv",
        content_type="text/csv",
    )


def access_import(member: Membership, pk: Any) -> ImportJob:
    """An import job of the member's organization; only settings editors see them (403)."""
    return access_object(member, ImportJob.objects.select_related("funnel"), pk, edit=True)

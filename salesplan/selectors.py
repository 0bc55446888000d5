"""Reads of the core domain, always for one organization."""

from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from salesplan.access import scoped
from salesplan.models import CalendarDay, Invitation, Membership, Organization, Product, Team
from salesplan.planning import WorkingCalendar


def member_list(*, organization: Organization) -> QuerySet[Membership]:
    return (
        scoped(Membership, organization)
        .select_related("user", "team")
        .order_by("role", "user__first_name", "user__last_name")
    )


def team_list(*, organization: Organization) -> QuerySet[Team]:
    return (
        scoped(Team, organization)
        .select_related("head__user")
        .annotate(member_count=Count("members"))
        .order_by("name")
    )


def open_invitation_list(*, organization: Organization) -> QuerySet[Invitation]:
    return scoped(Invitation, organization).filter(
        accepted_at__isnull=True, expires_at__gt=timezone.now()
    )


def organization_summary(*, organization: Organization) -> dict[str, Any]:
    by_role = dict(
        scoped(Membership, organization)
        .filter(is_active=True)
        .values_list("role")
        .annotate(n=Count("id"))
    )
    return {"members_by_role": by_role, "members": sum(by_role.values())}


def calendar_for(organization: Organization) -> WorkingCalendar:
    """Russian production calendar plus the organization's own working days and days off."""
    days = scoped(CalendarDay, organization).values_list("date", "is_working")
    working = frozenset(day for day, is_working in days if is_working)
    off = frozenset(day for day, is_working in days if not is_working)
    return WorkingCalendar(extra_working_days=working, extra_days_off=off)


def product_list(*, organization: Organization) -> QuerySet[Product]:
    return scoped(Product, organization).order_by("name")


def calendar_day_list(*, organization: Organization) -> QuerySet[CalendarDay]:
    return scoped(CalendarDay, organization).order_by("date")

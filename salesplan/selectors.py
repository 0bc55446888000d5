"""Reads of the core domain, always for one organization."""

from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from salesplan.access import scoped
from salesplan.models import Invitation, Membership, Organization, Team


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

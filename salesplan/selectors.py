"""Reads of the core domain, always for one organization."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from salesplan.access import scoped
from salesplan.models import (
    Invitation,
    Membership,
    Organization,
    PlanStatus,
    SalesPlan,
    Team,
)


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


def current_plans(*, organization: Organization, day: date) -> QuerySet[SalesPlan]:
    """Plans whose period contains the day (drafts included), newest first."""
    return (
        scoped(SalesPlan, organization)
        .filter(period_start__lte=day, period_end__gte=day)
        .exclude(status=PlanStatus.CLOSED)
        .select_related("funnel", "organization")
        .order_by("-status", "-period_start", "name")
    )


def my_slices(*, membership: Membership, plans: Sequence[SalesPlan]) -> list[dict[str, Any]]:
    """The metrics a person holds in these plans, with their share of the planned value."""
    from responsibility.models import Responsibility

    rows = (
        Responsibility.objects.filter(plan__in=list(plans), owner=membership)
        .select_related("metric", "plan")
        .order_by("plan_id", "metric_id")
    )
    slices = []
    for row in rows:
        metric = row.metric
        value = metric.planned_value
        # A share of a volume or of money is the person's part; rates and averages stay whole.
        if (
            value is not None
            and row.parent_id
            and metric.unit != "percent"
            and metric.kind not in ("average_check",)
        ):
            value = value * row.share
        slices.append(
            {
                "plan": row.plan,
                "name": metric.display_name,
                "unit": metric.unit,
                "category": metric.category,
                "planned_value": value,
                "share": row.share if row.parent_id else None,
                "direction": metric.direction,
            }
        )
    return slices


def today_plan(*, membership: Membership, plan: SalesPlan, day: date) -> dict[str, Any] | None:
    """A salesperson's numbers for the day (their share of each stage, split over working
    days), or None when they have no share or the day is not a working day."""
    from salesplan.plan_engine import decomposition_for
    from salesplan.planning import PlanInputError, person_daily

    try:
        decomposition = decomposition_for(plan)
        days = person_daily(decomposition, str(membership.pk))
    except (PlanInputError, KeyError):
        return None
    todays = next((d for d in days if d.date == day), None)
    if todays is None:
        return None
    key_stage = next(s.name for s in decomposition.stages if s.is_key_stage)
    return {"plan": plan, "stages": dict(todays.stages), "key_stage": key_stage}

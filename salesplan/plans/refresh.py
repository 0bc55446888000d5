"""How a saved plan follows what it depends on (receivers.py and tasks.py call these): its
funnel's stages, its products' prices, new actuals. Recomputed from the stored inputs, written
in bulk; a plan a change made invalid is left as it is (its page says what is wrong)."""

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from salesplan.models import PlanStatus, SalesPlan
from salesplan.planning import PlanInputError, decompose
from salesplan.plans.selectors import with_inputs
from salesplan.plans.services import TeamShare, derive, history_of
from salesplan.plans.snapshot import history_from_json, history_to_json, plan_input, snapshot_of
from salesplan.selectors import calendar_for


@transaction.atomic
def plan_history_refresh(*, plans: QuerySet[SalesPlan]) -> int:
    """Recompute and store the history the realism check reads (new actuals, renamed stages).
    Closed plans keep theirs. Returns how many plans were refreshed."""
    refreshed = 0
    for plan in plans.exclude(status=PlanStatus.CLOSED).select_related("organization", "funnel"):
        history = history_of(
            organization=plan.organization,
            funnel=plan.funnel,
            sales_team_id=plan.sales_team_id,
            start=plan.period_start,
        )
        SalesPlan.objects.filter(pk=plan.pk).update(
            history=history_to_json(history), history_updated_at=timezone.now()
        )
        refreshed += 1
    return refreshed


@transaction.atomic
def plan_refresh(*, plans: QuerySet[SalesPlan]) -> int:
    """Plans follow a change of their funnel or products: their metrics and default pie are
    recomputed from the stored inputs. A plan the change made invalid is left as it is: its
    page says what is wrong. Closed plans are not touched. Returns how many were refreshed."""
    refreshed = 0
    calendars: dict[int, Any] = {}
    for plan in with_inputs(plans.exclude(status=PlanStatus.CLOSED)):
        if plan.organization_id not in calendars:
            calendars[plan.organization_id] = calendar_for(plan.organization)
        try:
            inputs = plan_input(
                snapshot_of(plan),
                calendar=calendars[plan.organization_id],
                history=history_from_json(plan.history),
            )
            decomposition = decompose(inputs)
        except PlanInputError:
            continue
        team = [TeamShare(m.membership, m.share) for m in plan.members.all()]
        derive(plan, inputs, decomposition, team)
        refreshed += 1
    return refreshed

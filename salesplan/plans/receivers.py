"""How a plan follows what it depends on. The lower layers announce a change (they never call
up); the plans listen here.

- a funnel's stages changed → its plans' history, metrics and default pie follow (at once);
- a product's price or margin changed → plans with it in their mix follow (at once);
- new actuals were loaded → the history of the funnel's plans is recomputed in a job, and the
  plan vs fact of its plans in progress from the earliest day the load changed (one debounced
  job per plan);
- a pie or a funnel's stages changed → the plan vs fact of its plans is recomputed whole.
"""

from typing import Any

from django.dispatch import receiver

from funnel import signals as funnel_signals
from salesplan import signals as core_signals
from salesplan.models import SalesPlan
from salesplan.plans import performance, refresh, tasks
from salesplan.queue import enqueue


@receiver(funnel_signals.stages_changed, dispatch_uid="plans_follow_their_funnel")
def funnel_stages_changed(sender: Any, *, funnel: Any, **kwargs: Any) -> None:
    plans = SalesPlan.objects.filter(funnel=funnel)
    refresh.plan_history_refresh(plans=plans)
    refresh.plan_refresh(plans=plans)
    performance.performance_refresh_plans(plans=plans)


@receiver(core_signals.product_repriced, dispatch_uid="plans_follow_their_products")
def product_repriced(sender: Any, *, product: Any, **kwargs: Any) -> None:
    refresh.plan_refresh(plans=SalesPlan.objects.filter(product_mix__product=product).distinct())


@receiver(funnel_signals.actuals_loaded, dispatch_uid="plans_follow_their_actuals")
def actuals_loaded(
    sender: Any, *, organization_id: int, funnel_id: int, since: Any = None, **kwargs: Any
) -> None:
    # After the commit, so the job sees the new actuals; a broker that is down is logged and
    # the history stays as it was (the next load or save recomputes it).
    enqueue(tasks.refresh_history.name, funnel_id, robust=True)
    performance.performance_refresh_after_load(
        organization_id=organization_id, funnel_id=funnel_id, since=since
    )


@receiver(core_signals.pie_changed, dispatch_uid="plans_follow_their_pie")
def pie_changed(sender: Any, *, plan: Any, **kwargs: Any) -> None:
    performance.performance_refresh_plans(plan_ids=[plan.pk])

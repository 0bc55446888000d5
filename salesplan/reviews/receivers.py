"""What the weekly reviews do when the layers below announce something."""

from datetime import date
from typing import Any

from django.core.cache import cache
from django.dispatch import receiver

from salesplan.models import SalesPlan
from salesplan.queue import enqueue
from salesplan.signals import performance_refreshed

# A recompute runs per plan (every 15 minutes, and after each load): one prefill refresh per
# organization in this many seconds is enough for a checklist read once a week; the next
# recompute or the nightly refresh catches up with what came in between.
PREFILL_DEBOUNCE_S = 5 * 60


@receiver(performance_refreshed, dispatch_uid="reviews.refresh_prefill")
def prefill_follows_the_figures(
    sender: Any, *, plan: SalesPlan, since: date, last: date, **kwargs: Any
) -> None:
    """New plan vs fact (new actuals, so new payments, slips and notices): the current week's
    prefill of the organization's heads of sales follows, in a job once the recompute commits.
    A broker that is down is only logged: the nightly refresh catches up."""
    if cache.add(f"reviews:prefill:{plan.organization_id}", 1, PREFILL_DEBOUNCE_S):
        enqueue("reviews.refresh_prefill", plan.organization_id, robust=True)

"""What the weekly reviews do when the layers below announce something."""

from datetime import date
from typing import Any

from django.dispatch import receiver

from salesplan.models import SalesPlan
from salesplan.queue import enqueue
from salesplan.signals import performance_refreshed


@receiver(performance_refreshed, dispatch_uid="reviews.refresh_prefill")
def prefill_follows_the_figures(
    sender: Any, *, plan: SalesPlan, since: date, last: date, **kwargs: Any
) -> None:
    """New plan vs fact (new actuals, so new payments, slips and notices): the current week's
    prefill of the organization's heads of sales follows, in a job once the recompute commits.
    A broker that is down is only logged: the nightly refresh catches up."""
    enqueue("reviews.refresh_prefill", plan.organization_id, robust=True)

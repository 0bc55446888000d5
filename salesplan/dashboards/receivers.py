"""What the dashboards layer does when the layers below announce something."""

from datetime import date
from typing import Any

from django.dispatch import receiver

from salesplan.models import SalesPlan
from salesplan.queue import enqueue
from salesplan.signals import performance_refreshed


@receiver(performance_refreshed, dispatch_uid="dashboards.marketing_summary")
def marketing_summary(
    sender: Any, *, plan: SalesPlan, since: date, last: date, **kwargs: Any
) -> None:
    """A plan's plan vs fact was recomputed from `since` to `last`: its marketing summary of
    those days follows in a job of its own, queued once the recompute commits (the page it
    serves is not the recompute's; a yearly plan at 1,000,000 leads takes it seconds). A broker
    that is down is only logged: the next recompute queues its days again, and the nightly
    full one every day of the period."""
    enqueue(
        "dashboards.refresh_marketing", plan.pk, since.isoformat(), last.isoformat(), robust=True
    )

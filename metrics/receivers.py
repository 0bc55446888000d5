"""What the metrics app does when the funnel announces something (it never calls up)."""

from typing import Any

from django.dispatch import receiver

from funnel import signals as funnel_signals
from salesplan.queue import enqueue


@receiver(funnel_signals.actuals_loaded, dispatch_uid="metrics.discipline_follows_actuals")
def actuals_loaded(sender: Any, *, organization_id: int, **kwargs: Any) -> None:
    """New tasks, calls or leads: the organization's CRM discipline is counted again in a job
    queued once the load commits. A broker that is down is only logged: the beat's run counts
    it within the hour."""
    enqueue("metrics.refresh_discipline", organization_id, robust=True)

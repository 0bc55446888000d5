"""What the metrics app does when the funnel announces something (it never calls up)."""

from typing import Any

from django.dispatch import receiver

from funnel import signals as funnel_signals
from metrics.discipline import discipline_refresh_queue


@receiver(funnel_signals.actuals_loaded, dispatch_uid="metrics.discipline_follows_actuals")
def actuals_loaded(sender: Any, *, organization_id: int, **kwargs: Any) -> None:
    """New tasks, calls or leads: the organization's CRM discipline is counted again in a job
    queued once the load commits (one per organization for a burst of loads)."""
    discipline_refresh_queue(organization_id=organization_id)

"""What the dashboards layer does when the layers below announce something."""

from datetime import date
from typing import Any

from django.dispatch import receiver

from salesplan.dashboards.marketing_data import marketing_summary_refresh
from salesplan.models import SalesPlan
from salesplan.signals import performance_refreshed


@receiver(performance_refreshed, dispatch_uid="dashboards.marketing_summary")
def marketing_summary(
    sender: Any, *, plan: SalesPlan, since: date, last: date, **kwargs: Any
) -> None:
    """A plan's plan vs fact was recomputed from `since` to `last`: its marketing summary of
    those weeks follows, in the same transaction."""
    marketing_summary_refresh(plan=plan, since=since, last=last)

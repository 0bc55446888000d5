"""What the KPIs layer does when the layers below announce something."""

from datetime import date
from typing import Any

from django.dispatch import receiver

from salesplan.kpis.services import demo_base_bonuses
from salesplan.models import SalesPlan
from salesplan.queue import enqueue
from salesplan.signals import demo_seeded, performance_refreshed


@receiver(performance_refreshed, dispatch_uid="kpis.figures")
def kpi_figures(sender: Any, *, plan: SalesPlan, since: date, last: date, **kwargs: Any) -> None:
    """A plan's plan vs fact was recomputed: the KPI figures the snapshots do not hold follow
    in a job of their own once the recompute commits. A broker that is down is only logged:
    the next recompute (every 15 minutes, nightly in full) queues it again."""
    enqueue("kpis.refresh_figures", plan.pk, robust=True)


@receiver(demo_seeded, dispatch_uid="kpis.demo")
def demo_bonuses(sender: Any, *, organization: Any, **kwargs: Any) -> None:
    """The demo's people get base bonuses, so their scorecards show money."""
    demo_base_bonuses(organization=organization)

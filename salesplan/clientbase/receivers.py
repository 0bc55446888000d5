"""How the client base follows the actuals: the funnel announces a load (it never calls up),
and the base is recomputed in a job once the load commits."""

from typing import Any

from django.dispatch import receiver

from funnel import signals as funnel_signals
from salesplan.clientbase.services import client_base_refresh_later


@receiver(funnel_signals.actuals_loaded, dispatch_uid="clientbase_follows_the_actuals")
def actuals_loaded(sender: Any, *, organization_id: int, **kwargs: Any) -> None:
    client_base_refresh_later(organization_id)

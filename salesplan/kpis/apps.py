from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KpisConfig(AppConfig):
    """Role KPIs and the bonus (issue 13): KPI schemes per role, editable per organization, a
    payout curve, each person's scorecard for a period, and the head of sales' deals whose
    bonus goes to a salesperson they choose."""

    name = "salesplan.kpis"
    label = "kpis"
    verbose_name = _("Role KPIs and bonus")

    def ready(self) -> None:
        # Connecting the receivers imports models: only once the app registry is ready.
        from salesplan.kpis import receivers  # noqa: F401

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    """The dashboards layer: pages above the plans layer, and the summaries they read that the
    plans' recompute does not store (kept current by receivers of `performance_refreshed`)."""

    name = "salesplan.dashboards"
    label = "dashboards"
    verbose_name = _("Dashboards")

    def ready(self) -> None:
        # Connecting the receivers imports models: only once the app registry is ready.
        from salesplan.dashboards import receivers  # noqa: F401

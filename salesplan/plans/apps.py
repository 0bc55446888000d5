from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    """The plan orchestration layer: a plan's save, its pages and API, and how it follows
    what it depends on. It has no models of its own (they are the kernel's)."""

    name = "salesplan.plans"
    label = "plans"
    verbose_name = _("Sales plans")

    def ready(self) -> None:
        # Connecting the receivers imports models: only once the app registry is ready.
        from salesplan.plans import receivers  # noqa: F401

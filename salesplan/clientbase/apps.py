from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientbaseConfig(AppConfig):
    """The client base not burned (issue 13, DOMAIN idea 7): refusal rates, permanent and
    cooling-off refusals, the "do not touch" list and how long the untouched base lasts."""

    name = "salesplan.clientbase"
    label = "clientbase"
    verbose_name = _("Client base")

    def ready(self) -> None:
        # Connecting the receivers imports models: only once the app registry is ready.
        from salesplan.clientbase import receivers  # noqa: F401

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    """The head of sales' weekly review (issue 13): the checklist of their functions ticked
    each week with a note, prefilled from the data, and its history."""

    name = "salesplan.reviews"
    label = "reviews"
    verbose_name = _("Weekly reviews")

    def ready(self) -> None:
        # Connecting the receivers imports models: only once the app registry is ready.
        from salesplan.reviews import receivers  # noqa: F401

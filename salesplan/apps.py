from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesplanConfig(AppConfig):
    name = "salesplan"
    verbose_name = _("Salesplan")

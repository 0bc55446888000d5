from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The Celery app must exist (and be the current one) before any task is queued from a web
# process; loading it here, when Django loads this app, keeps `salesplan/__init__.py` empty.
# `celery -A salesplan` finds it in salesplan/celery.py by itself.
from salesplan.celery import app as celery_app

__all__ = ["SalesplanConfig", "celery_app"]


class SalesplanConfig(AppConfig):
    name = "salesplan"
    verbose_name = _("Salesplan")

    def ready(self) -> None:
        from salesplan import figures  # noqa: F401  (its receiver of performance_refreshed)

from django.apps import AppConfig
from django.db.backends.signals import connection_created


class MetricsConfig(AppConfig):
    name = "metrics"

    def ready(self) -> None:
        from metrics import receivers  # noqa: F401  (connects the receivers)
        from metrics.discipline import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="metrics.goal_key")

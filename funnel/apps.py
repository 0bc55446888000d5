from django.apps import AppConfig


class FunnelConfig(AppConfig):
    name = "funnel"

    def ready(self) -> None:
        from funnel import receivers  # noqa: F401  (connects the kernel's signals)

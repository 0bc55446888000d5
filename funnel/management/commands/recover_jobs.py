from typing import Any

from django.core.management.base import BaseCommand

from funnel.services import imports


class Command(BaseCommand):
    help = (
        "Embedded default only (no REDIS_URL): the jobs of a web process that stopped died with "
        "its background thread. Imports it was running or had queued end failed with the "
        "reason (start them again), checks are reopened. Run before the server starts; "
        "idempotent. With Redis, Celery delivers an interrupted job again instead."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        failed, reopened = imports.jobs_interrupted()
        self.stdout.write(
            f"{failed} interrupted imports marked failed; {reopened} checks reopened."
        )

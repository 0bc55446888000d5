"""Core tasks. `ping` proves the queue round trip (broker → worker → result backend → DB)."""

from celery import shared_task

from salesplan import queue
from salesplan.models import Organization


@shared_task(name="salesplan.ping")
def ping(organization_id: int) -> str:
    return Organization.objects.values_list("name", flat=True).get(pk=organization_id)


@shared_task(name="salesplan.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Every WORKER_HEARTBEAT_S (CELERY_BEAT_SCHEDULE): a worker took a job from the queue."""
    queue.worker_beat()

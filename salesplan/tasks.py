"""Core tasks. `ping` proves the queue round trip (broker → worker → result backend → DB)."""

from celery import shared_task

from salesplan.models import Organization


@shared_task(name="salesplan.ping")
def ping(organization_id: int) -> str:
    return Organization.objects.values_list("name", flat=True).get(pk=organization_id)

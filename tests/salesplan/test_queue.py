"""A real Celery round trip: broker (Redis) → worker process → result backend, on the test DB."""

import pytest

from salesplan.tasks import ping
from tests.factories import OrganizationFactory

pytestmark = [pytest.mark.redis]


def test_task_runs_in_a_real_worker_and_reads_the_database(celery_worker):
    # given an organization committed to the database the worker uses
    organization = OrganizationFactory(name="Queue Co")
    # when a task is sent through Redis
    result = ping.delay(organization.pk)
    # then a worker process (not this one) executed it
    assert result.get(timeout=30) == "Queue Co"
    assert celery_worker.poll() is None

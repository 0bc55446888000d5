"""A plan saved and deleted at the same moment (issue 10): on PostgreSQL, with two real
connections, the save answers 200, 404 (gone) or 409 (conflict), the delete 204 or 404, and
the database is left whole: never a 500, a deadlock or an orphan row."""

import threading
from typing import Any

import pytest
from django.db import connection, connections

from metrics.models import PlanMetric
from responsibility.models import Responsibility
from salesplan.models import PlanMember, PlanVersion, Role, SalesPlan
from tests.conftest import service_missing
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db(transaction=True)

TRIALS = 10
# Each request of a trial must be done by then; a deadlock PostgreSQL detects takes 1 s.
REQUEST_TIMEOUT_S = 30


@pytest.fixture(autouse=True)
def _postgresql() -> None:
    if connection.vendor != "postgresql":
        service_missing("row locks between two connections need PostgreSQL (DATABASE_URL)")


def _run_at_once(*calls: Any) -> list[Any]:
    """Run each call in a thread of its own (its own database connection), released together;
    an exception a call raises is its result (the test client re-raises a view's 500)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Any) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # a crash is what the test looks for
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT_S)
    return results


def _save_and_delete(saver: Any, deleter: Any, plan_id: int) -> list[Any]:
    return _run_at_once(
        lambda: saver.patch(
            f"/api/v1/plans/{plan_id}/",
            {"revenue_target": "1200000"},
            format="json",
            HTTP_IF_MATCH='"1"',
        ),
        lambda: deleter.delete(f"/api/v1/plans/{plan_id}/"),
    )


def test_a_concurrent_save_and_delete_of_one_plan_answer_2xx_404_or_409(
    organization, funnel, make_member, api_for
):
    head = make_member(Role.HEAD_OF_SALES)
    anna = make_member(Role.SALESPERSON)
    seen = []
    for _trial in range(TRIALS):
        # given a saved plan both callers read at version 1
        plan = PlanFactory(organization=organization, funnel=funnel, team=[(anna, "1")])
        # when one saves a new target while the other deletes the plan
        save, delete = _save_and_delete(api_for(head), api_for(head), plan.pk)
        # then neither crashed; the delete won in the end and left no row of the plan behind
        assert not isinstance(save, BaseException), repr(save)
        assert not isinstance(delete, BaseException), repr(delete)
        assert save.status_code in (200, 404, 409), save.content
        assert delete.status_code in (204, 404), delete.content
        seen.append((save.status_code, delete.status_code))
        assert not SalesPlan.objects.filter(pk=plan.pk).exists()
        for model in (PlanVersion, PlanMember, PlanMetric, Responsibility):
            assert not model.objects.filter(plan_id=plan.pk).exists(), model.__name__
    assert all(delete == 204 for _save, delete in seen), seen


def test_saving_a_deleted_plan_is_a_404_not_a_crash(api, organization, funnel):
    plan = PlanFactory(organization=organization, funnel=funnel)
    assert api.delete(f"/api/v1/plans/{plan.pk}/").status_code == 204
    response = api.patch(
        f"/api/v1/plans/{plan.pk}/", {"revenue_target": "1"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 404

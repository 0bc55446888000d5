"""The plan-vs-fact recompute (`plans.refresh_performance`) in real Celery worker processes:
a rerun stores the same rows, and a worker killed (SIGKILL) in the middle of writing them
leaves the rows stored before intact, the job queued again finishing with the rows of a run
that was never interrupted.

The kill lands mid-write for certain, not by timing: the test's own transaction (a connection
of its own) holds an uncommitted snapshot row with a key the recompute is about to write, so
the recompute's write of that row waits on the unique index, inside its transaction, with the
old rows already deleted and some new ones written there. (Not a row lock on a referenced row:
Django's foreign keys are checked at COMMIT, which would then go through once released.) That
case needs PostgreSQL; both need Redis for the queue.
"""

import signal
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg2
import pytest
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from funnel.ingest.loader import load_frames
from metrics.models import PerformanceSnapshot, PerformanceStatus, PlanMetric
from salesplan.celery import app as celery_app
from salesplan.models import Role, SalesPlan
from salesplan.plans.performance import plan_performance_refresh
from salesplan.plans.tasks import refresh_performance
from tests.factories import PlanFactory
from tests.funnel.frames import frame, lead
from tests.salesplan.plan_vs_fact import snapshot_values
from tests.workers import database_url_for_worker

pytestmark = [pytest.mark.redis]

TASK_TIMEOUT_S = 120
BLOCKED_TIMEOUT_S = 120
PAID_POSITION = 4  # the worked example's last stage (tests/worked_example.py)


@contextmanager
def inline() -> Iterator[None]:
    """Tasks queued meanwhile (a saved plan queues its recompute) run here, at once, not in
    the worker: the queue then holds only what the test sends."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous


def last_month(zone: str) -> tuple[date, date]:
    """The organization's previous month: a past period, so every recompute, whenever it
    runs, covers all its days and nothing depends on the clock."""
    last = timezone.localdate(timezone=ZoneInfo(zone)).replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def won(external_id: str, who: str, day: date, amount: str) -> dict:
    """A deal paid at noon, Moscow time, on `day`."""
    moment = f"{day.isoformat()} 12:00+03:00"
    return lead(
        1,
        external_id,
        PAID_POSITION,
        responsible=who,
        created_at=f"{day.isoformat()} 09:00+03:00",
        stage_at=moment,
        is_target=True,
        won=True,
        amount=amount,
        paid_at=moment,
    )


def load(plan: SalesPlan, rows: list[dict]) -> None:
    """New actuals, and the plan marked to be recomputed from its start (what a load's
    `actuals_loaded` receiver marks; the loader alone queues nothing)."""
    rows = [{**row, "line": line} for line, row in enumerate(rows, start=1)]
    with transaction.atomic():
        result = load_frames(
            organization=plan.organization,
            funnel=plan.funnel,
            source="api",
            frames={"leads": frame("leads", rows)},
        )
    assert result.errors == []
    SalesPlan.objects.filter(pk=plan.pk).update(performance_dirty_from=F("period_start"))


def stored(plan: SalesPlan) -> list[tuple]:
    return snapshot_values(plan)


def days_of(rows: list[tuple]) -> set[date]:
    return {day for _, _, day, *_ in rows}


def revenue_to_date(plan: SalesPlan, day: date) -> Decimal:
    return PerformanceSnapshot.objects.get(
        plan=plan, metric__key="revenue", owner=None, day=day
    ).actual_to_date


def run_in_worker(plan: SalesPlan) -> int:
    """Queue the job (as a load, a plan change or the beat's sweep does) and wait for it."""
    return refresh_performance.apply_async(args=[plan.pk]).get(timeout=TASK_TIMEOUT_S)


@pytest.fixture
def plan(celery_workers, make_member) -> SalesPlan:
    """Last month's plan (the worked example's numbers) of Anna (60 %) and Boris (40 %), its
    first recompute (nothing paid yet) run when it was saved; then a deal of each paid on the
    1st, stored but not recomputed yet."""
    anna, boris = make_member(Role.SALESPERSON), make_member(Role.SALESPERSON)
    make_member(Role.HEAD_OF_SALES)
    first, last = last_month(anna.organization.time_zone)
    with inline():
        plan = PlanFactory(
            organization=anna.organization,
            name="Last month",
            period_start=first,
            period_end=last,
            team=[(anna, "0.6"), (boris, "0.4")],
        )
    assert revenue_to_date(plan, last) == 0
    load(
        plan,
        [
            won("W1", anna.user.email, first, "50000.00"),
            won("W2", boris.user.email, first, "30000.00"),
        ],
    )
    plan.salespeople = {"anna": anna, "boris": boris}
    return plan


def test_a_real_worker_stores_plan_vs_fact_and_a_rerun_stores_the_same_rows(celery_workers, plan):
    celery_workers.start()
    # when the recompute is queued and a worker process runs it
    first = run_in_worker(plan)
    # then every day of the month holds the deals paid on the 1st, for the department and
    # each salesperson (the head of sales has no personal slice)
    before = stored(plan)
    assert first == len(before) > 0
    assert revenue_to_date(plan, plan.period_end) == Decimal("80000")
    month = (plan.period_end - plan.period_start).days + 1
    assert days_of(before) == {plan.period_start + timedelta(days=n) for n in range(month)}
    owners = {owner for _, owner, *_ in before}
    assert owners == {None} | {member.pk for member in plan.salespeople.values()}
    # when it runs again over the whole period with nothing new
    SalesPlan.objects.filter(pk=plan.pk).update(performance_dirty_from=F("period_start"))
    second = run_in_worker(plan)
    # then it wrote every row again, and the same rows
    assert second == first
    assert stored(plan) == before


@contextmanager
def row_taken(plan: SalesPlan, metric: PlanMetric, day: date) -> Iterator[Any]:
    """An uncommitted department row of `metric` on `day`, held on a connection of its own
    until the block ends (then rolled back): whoever writes that key meanwhile waits."""
    with closing(psycopg2.connect(database_url_for_worker())) as taken:
        with taken.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {PerformanceSnapshot._meta.db_table} "
                "(plan_id, metric_id, owner_id, day, status, computed_at) "
                "VALUES (%s, %s, NULL, %s, %s, now())",
                [plan.pk, metric.pk, day, PerformanceStatus.NOT_ASSESSED.value],
            )
        try:
            yield taken
        finally:
            taken.rollback()


def blocked_behind(holder_pid: int) -> tuple[int, str]:
    """The backend (pid, statement) waiting for the transaction of `holder_pid`."""
    deadline = time.monotonic() + BLOCKED_TIMEOUT_S
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT pid, query FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                [holder_pid],
            )
            row = cursor.fetchone()
            if row is not None:
                return row
            time.sleep(0.05)
    raise AssertionError("no recompute came to write the row the test holds")


def wait_gone(pid: int) -> None:
    """PostgreSQL ends a dead client's backend, rolling its transaction back, when the
    backend next reads from it (here: once its statement is no longer blocked)."""
    deadline = time.monotonic() + BLOCKED_TIMEOUT_S
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone() is None:
                return
            time.sleep(0.05)
    raise AssertionError(f"the killed worker's database session {pid} is still there")


def test_a_worker_killed_mid_write_leaves_the_old_rows_and_a_new_run_finishes(celery_workers, plan):
    if connection.vendor != "postgresql":
        pytest.skip("a worker killed inside its transaction is checked on PostgreSQL")
    # given plan vs fact stored up to the month's last day but one
    last = plan.period_end
    assert plan_performance_refresh(plan_id=plan.pk, today=last - timedelta(days=1)) > 0
    before = stored(plan)
    assert last not in days_of(before)
    assert revenue_to_date(plan, last - timedelta(days=1)) == Decimal("80000")
    # and a big deal paid on the last day, not recomputed yet
    load(plan, [won("W3", plan.salespeople["anna"].user.email, last, "1000000.00")])
    # when a worker's recompute of the whole month comes to write the last day's revenue
    # while another transaction holds that row, and the worker is killed there (SIGKILL, its
    # whole process group: no goodbye to the broker or the database)
    revenue = PlanMetric.objects.get(plan=plan, key="revenue")
    worker = celery_workers.start()
    with row_taken(plan, revenue, last) as holder:
        refresh_performance.apply_async(args=[plan.pk])
        pid, statement = blocked_behind(holder.get_backend_pid())
        assert statement.lstrip().upper().startswith(("INSERT", "COPY")), statement
        celery_workers.kill(worker)
        assert worker.returncode == -signal.SIGKILL
    wait_gone(pid)
    # then the rows stored before are all there as they were: nothing half written
    assert stored(plan) == before
    # when the recompute is queued again (acks_late redelivers the lost message only after
    # the broker's visibility timeout; the beat's sweep queues it sooner) and a new worker
    # runs it
    celery_workers.start()
    written = run_in_worker(plan)
    # then the whole month is there with the big deal on its last day
    after = stored(plan)
    assert written == len(after) > len(before)
    assert days_of(after) == days_of(before) | {last}
    assert revenue_to_date(plan, last - timedelta(days=1)) == Decimal("80000")
    assert revenue_to_date(plan, last) == Decimal("1080000")
    # and those rows are what a run never interrupted stores
    SalesPlan.objects.filter(pk=plan.pk).update(performance_dirty_from=F("period_start"))
    assert plan_performance_refresh(plan_id=plan.pk) == written
    assert stored(plan) == after

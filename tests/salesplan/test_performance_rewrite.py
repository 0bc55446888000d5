"""A recompute over stored rows (PostgreSQL) updates only the rows whose figures changed, and
rewrites them all when most of them did or when they are not the same rows: either way it
stores exactly what a recompute from nothing stores (salesplan.plans.performance,
`_write_snapshots`, REWRITE_SHARE)."""

from datetime import date

import pytest
from django.db import connection

from metrics.models import PerformanceSnapshot
from salesplan.plans import performance as performance_service
from salesplan.plans.performance import plan_performance_refresh
from tests.salesplan.plan_vs_fact import (  # noqa: F401 (fixtures)
    DAY,
    _no_queued_marks,
    load,
    snapshot_values,
    won,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the comparison is PostgreSQL's write path"
    ),
]


@pytest.fixture
def actuals(organization, funnel, team):
    anna, boris = (team[k].user.email for k in ("anna", "boris"))
    rows = [won(n, anna, 1 + n) for n in range(1, 8)]
    rows += [won(10 + n, boris, 2 + 2 * n) for n in range(1, 5)]
    load(organization, funnel, rows, announce=False)


def _stamps(plan) -> dict[tuple, tuple]:
    return {
        (metric, owner, day): (pk, at)
        for pk, metric, owner, day, at in PerformanceSnapshot.objects.filter(plan=plan).values_list(
            "id", "metric_id", "owner_id", "day", "computed_at"
        )
    }


def _from_nothing(plan) -> list[tuple]:
    """What a recompute stores when nothing was stored before."""
    PerformanceSnapshot.objects.filter(plan=plan).delete()
    plan_performance_refresh(plan_id=plan.pk, today=DAY, full=True)
    return snapshot_values(plan)


def test_a_full_rerun_after_a_late_deal_updates_only_the_rows_it_moved(
    organization, funnel, plan, actuals, team
):
    # given plan vs fact stored to 15 December
    plan_performance_refresh(plan_id=plan.pk, today=DAY, full=True)
    before = _stamps(plan)
    values_before = dict(zip(before, snapshot_values(plan), strict=False))
    # when Boris's deal won on 10 December is loaded late and the whole period recomputed
    load(organization, funnel, [won(30, team["boris"].user.email, 10, "70000.00")], announce=False)
    written = plan_performance_refresh(plan_id=plan.pk, today=DAY, full=True)
    after = _stamps(plan)
    # then every row is the same row (same id): nothing deleted, nothing inserted
    assert written == len(before)
    assert {key: pk for key, (pk, _) in after.items()} == {
        key: pk for key, (pk, _) in before.items()
    }
    # the days before the deal kept their rows untouched (same computed_at) ...
    early = [key for key in before if key[2] < date(2026, 12, 10)]
    assert early and all(after[key] == before[key] for key in early)
    # ... the department's revenue from the 10th was updated, and every row of the last day
    # is stamped with this run
    revenue = PerformanceSnapshot.objects.get(
        plan=plan, metric__key="revenue", owner=None, day=date(2026, 12, 11)
    )
    assert (
        after[(revenue.metric_id, None, revenue.day)][1]
        > before[(revenue.metric_id, None, revenue.day)][1]
    )
    last_day = [key for key in after if key[2] == DAY]
    assert all(after[key][1] > before[key][1] for key in last_day)
    # rows whose figures did not move were not touched, wherever they are
    untouched = [
        key
        for key, values in zip(after, snapshot_values(plan), strict=False)
        if key[2] != DAY and values == values_before.get(key)
    ]
    assert untouched and all(after[key] == before[key] for key in untouched)
    # and the figures are exactly those of a recompute from nothing
    assert snapshot_values(plan) == _from_nothing(plan)


@pytest.mark.parametrize("share", [-1.0, 1.0], ids=["rewrite", "update"])
def test_both_ways_store_what_a_recompute_from_nothing_stores(
    organization, funnel, plan, actuals, team, monkeypatch, share
):
    # given plan vs fact stored, then a late deal on 3 December (it moves most rows)
    plan_performance_refresh(plan_id=plan.pk, today=DAY, full=True)
    ids = set(PerformanceSnapshot.objects.filter(plan=plan).values_list("id", flat=True))
    load(organization, funnel, [won(31, team["anna"].user.email, 3, "90000.00")], announce=False)
    # when the whole period is recomputed always rewriting (share -1) or never (share 1)
    monkeypatch.setattr(performance_service, "REWRITE_SHARE", share)
    plan_performance_refresh(plan_id=plan.pk, today=DAY, full=True)
    kept = set(PerformanceSnapshot.objects.filter(plan=plan).values_list("id", flat=True))
    # then a rewrite stored new rows, an update kept the rows, with the same figures
    assert (kept == ids) is (share == 1.0)
    assert not (kept & ids) if share < 0 else kept == ids
    assert snapshot_values(plan) == _from_nothing(plan)


def test_days_whose_rows_are_not_the_stored_ones_are_replaced(plan, actuals, monkeypatch):
    # given plan vs fact stored, in chunks of 5 days, and the rows of 12 December lost
    monkeypatch.setattr(performance_service, "CHUNK_DAYS", 5)
    plan_performance_refresh(plan_id=plan.pk, today=DAY, full=True)
    expected = snapshot_values(plan)
    PerformanceSnapshot.objects.filter(plan=plan, day=date(2026, 12, 12)).delete()
    kept_early = set(
        PerformanceSnapshot.objects.filter(plan=plan, day__lt=date(2026, 12, 11)).values_list(
            "id", flat=True
        )
    )
    # when the whole period is recomputed (the first chunks are unchanged: no rewrite)
    plan_performance_refresh(plan_id=plan.pk, today=DAY, full=True)
    # then the chunk of 11–15 December was replaced whole and the earlier rows kept
    assert (
        set(
            PerformanceSnapshot.objects.filter(plan=plan, day__lt=date(2026, 12, 11)).values_list(
                "id", flat=True
            )
        )
        == kept_early
    )
    assert snapshot_values(plan) == expected


@pytest.mark.django_db(transaction=True)
def test_on_its_own_connections_a_rerun_changes_only_the_last_day(
    organization, funnel, plan, actuals, settings
):
    # given no transaction around the recompute: the stored rows and the actuals are read on
    # connections of their own (`_stored_rows_beside`, `actuals_by_day_beside`)
    settings.ACTUALS_CONCURRENT_QUERIES = True
    plan_performance_refresh(plan_id=plan.pk, today=DAY, full=True)
    before = _stamps(plan)
    values = snapshot_values(plan)
    # when it is recomputed whole again with nothing new
    plan_performance_refresh(plan_id=plan.pk, today=DAY, full=True)
    after = _stamps(plan)
    # then the same rows, only the last day's stamped again, the same figures
    assert after.keys() == before.keys()
    assert all((after[key] == before[key]) is (key[2] != DAY) for key in before), (
        "only the last day's rows are stamped"
    )
    assert snapshot_values(plan) == values

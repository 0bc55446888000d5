"""What the plan-vs-fact tests share: the December team and plan, a won deal as the loader
takes it, loading rows (announced as the events API would, or not), and the stored snapshot
rows to compare. Import the fixtures into a test module to use them."""

from datetime import date

import pytest
from django.db import transaction

from funnel import signals as funnel_signals
from funnel.ingest.loader import load_frames
from funnel.models import Funnel
from metrics.models import PerformanceSnapshot
from salesplan.models import Organization, Role, SalesPlan
from tests.conftest import clear_own_cache
from tests.factories import PlanFactory
from tests.funnel.frames import frame, lead

# 15 December 2026: 11 of the month's 22 working days elapsed (1–15 December: 11 weekdays).
DAY = date(2026, 12, 15)


@pytest.fixture(autouse=True)
def _no_queued_marks():
    """The debounce marks live in the cache, which outlives each test's database."""
    clear_own_cache()
    yield
    clear_own_cache()


@pytest.fixture
def team(make_member):
    return {
        "anna": make_member(Role.SALESPERSON),
        "boris": make_member(Role.SALESPERSON),
        "head": make_member(Role.HEAD_OF_SALES),
    }


@pytest.fixture
def plan(organization, funnel, team):
    return PlanFactory(
        organization=organization, funnel=funnel, team=[(team["anna"], 0.6), (team["boris"], 0.4)]
    )


def won(line: int, who: str, day: int, amount: str = "50000.00") -> dict:
    """A December deal created, moved to the paid stage and paid on `day`."""
    moment = f"2026-12-{day:02d} 12:00+03:00"
    return lead(
        line,
        f"W{line}",
        4,
        responsible=who,
        created_at=f"2026-12-{day:02d} 09:00+03:00",
        stage_at=moment,
        is_target=True,
        won=True,
        amount=amount,
        paid_at=moment,
    )


def load(organization: Organization, funnel: Funnel, rows: list[dict], *, announce: bool) -> None:
    """Load the rows; `announce`: then say so as the events API does (plans marked, queued)."""
    with transaction.atomic():
        result = load_frames(
            organization=organization,
            funnel=funnel,
            source="api",
            frames={"leads": frame("leads", rows)},
        )
        assert result.errors == []
        if announce:
            funnel_signals.actuals_loaded.send(
                sender=None,
                organization_id=organization.pk,
                funnel_id=funnel.pk,
                since=result.earliest,
            )


def snapshot_values(plan: SalesPlan) -> list[tuple]:
    """The plan's snapshot rows, every value but when they were computed."""
    return list(
        PerformanceSnapshot.objects.filter(plan=plan)
        .order_by("day", "metric_id", "owner_id")
        .values_list(
            "metric_id",
            "owner_id",
            "day",
            "plan_to_date",
            "actual_to_date",
            "forecast",
            "status",
            "gap",
            "gap_pct",
        )
    )

"""A saved plan is checked against its funnel's history: the months before it, from actuals."""

from datetime import date

import pytest
from django.db import transaction

from funnel.ingest.loader import load_frames
from salesplan.plans.history import funnel_history
from salesplan.plans.presentation import finding_text
from salesplan.plans.selectors import decompose_plan
from salesplan.plans.services import plan_create
from salesplan.plans.snapshot import history_from_json
from tests.funnel.frames import frame, lead

pytestmark = pytest.mark.django_db


def _history(organization, funnel, month: str, count: int, won: int) -> None:
    rows = [
        lead(
            i,
            f"{month}-{i}",
            4 if i < won else 0,
            won=i < won,
            amount="50000",
            created_at=f"{month}-10 10:00:00+03:00",
            stage_at=f"{month}-20 10:00:00+03:00",
        )
        for i in range(count)
    ]
    with transaction.atomic():
        load_frames(
            organization=organization,
            funnel=funnel,
            source="file",
            frames={"leads": frame("leads", rows)},
        )


def test_the_months_before_the_plan_become_its_history(organization, funnel):
    # given two past months of actuals (and one month inside the plan, which must not count)
    _history(organization, funnel, "2026-10", 30, 10)
    _history(organization, funnel, "2026-11", 40, 12)
    _history(organization, funnel, "2026-12", 99, 50)
    plan = plan_create(
        organization=organization,
        user=None,
        funnel=funnel,
        name="December",
        period_start=date(2026, 12, 1),
        period_end=date(2026, 12, 31),
        revenue_target=1_000_000,
        average_check=50_000,
        cost_per_lead=500,
    )
    # when the plan was saved, its history was read from the actuals and stored with it
    history = history_from_json(plan.history)
    # then the two months are there with their volumes and revenue
    assert [m.month for m in history.months] == [date(2026, 10, 1), date(2026, 11, 1)]
    assert [m.stages["Lead"] for m in history.months] == [30, 40]
    assert [m.stages["Paid"] for m in history.months] == [10, 12]
    assert [int(m.revenue) for m in history.months] == [500_000, 600_000]
    # and the plan's 20 deals are more than the best month on record (12)
    decomposition = decompose_plan(plan).decomposition
    assert decomposition.verdict == "unrealistic"
    codes = {f.code for f in decomposition.reasons}
    assert "stage_above_history_best" in codes
    assert any("12" in finding_text(f) for f in decomposition.reasons)


def test_no_actuals_means_no_history(organization, funnel):
    plan = plan_create(
        organization=organization,
        user=None,
        funnel=funnel,
        name="December",
        period_start=date(2026, 12, 1),
        period_end=date(2026, 12, 31),
        revenue_target=1_000_000,
        average_check=50_000,
    )
    assert plan.history is None
    assert (
        funnel_history(
            organization=organization,
            funnel_id=funnel.pk,
            sales_team_id=None,
            before=plan.period_start,
            stage_names=["Lead"],
        )
        is None
    )

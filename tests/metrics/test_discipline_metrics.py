"""The pie's CRM-discipline metrics and the refusal rate, read from the actuals: lost deals by
the local day of their loss, leads without a next task by their creation day, tasks without a
goal by their due day; the refusal rate (lost ÷ closed) by hand through a recompute."""

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from funnel.models import Lead, Task
from metrics.actuals import actuals_by_day, cumulative_to
from metrics.models import PerformanceSnapshot
from metrics.performance import MetricRef, actual_to_date
from salesplan.plans.performance import plan_performance_refresh
from tests.funnel.frames import lead
from tests.salesplan import plan_vs_fact
from tests.salesplan.plan_vs_fact import DAY, _no_queued_marks, load, won  # noqa: F401

# The December team (Anna, Boris, the head of sales) and plan of the plan-vs-fact tests.
team = plan_vs_fact.team
plan = plan_vs_fact.plan

pytestmark = pytest.mark.django_db


def lost(line: int, who: str, moment: str) -> dict:
    """A December lead lost at `moment` (no stage: we do not know how far it got)."""
    return lead(
        line,
        f"X{line}",
        None,
        responsible=who,
        created_at="2026-12-01 09:00+03:00",
        lost=True,
        lost_reason="Дорого",
        lost_at=moment,
    )


@pytest.fixture
def closed(organization, funnel, team):
    """By 15 December: Anna won 2 and lost 1, Boris won 1 and lost 2 (one of them at 00:30 on
    16 December Moscow time, 21:30 UTC on the 15th: the 16th's); the head of sales lost one
    (the department's only); Anna lost one more on 20 December, after the day tracked."""
    anna, boris, head = (team[k].user.email for k in ("anna", "boris", "head"))
    rows = [won(1, anna, 3), won(2, anna, 5), won(3, boris, 4)]
    rows += [
        lost(10, anna, "2026-12-08 12:00+03:00"),
        lost(11, boris, "2026-12-09 12:00+03:00"),
        lost(12, boris, "2026-12-16 00:30+03:00"),
        lost(13, head, "2026-12-10 12:00+03:00"),
        lost(14, anna, "2026-12-20 12:00+03:00"),
    ]
    load(organization, funnel, rows, announce=False)


def test_lost_deals_count_on_the_local_day_of_their_loss(organization, funnel, team, closed):
    frame = actuals_by_day(
        organization=organization, funnel=funnel, start=date(2026, 12, 1), end=date(2026, 12, 31)
    )
    to_15th = cumulative_to(frame, DAY)
    # X10, X11, X13 by the 15th; X12 was lost at 00:30 on the 16th in Moscow
    assert to_15th.department["lost_deals"] == 3
    assert to_15th.member(team["anna"].pk)["lost_deals"] == 1
    assert to_15th.member(team["boris"].pk)["lost_deals"] == 1
    assert to_15th.unassigned["lost_deals"] == 1  # the head of sales' loss: the department's
    assert cumulative_to(frame, date(2026, 12, 31)).department["lost_deals"] == 5


def test_the_refusal_rate_is_lost_over_closed_through_a_recompute(plan, team, closed):
    # when plan vs fact is recomputed on 15 December
    plan_performance_refresh(plan_id=plan.pk, today=DAY)

    def rate(owner=None) -> Decimal:
        return PerformanceSnapshot.objects.get(
            plan=plan, metric__key="refusal_rate", owner=owner, day=DAY
        ).actual_to_date

    # then the department: 3 lost (X10, X11, X13) of 3 + 3 won = 6 closed → 50 %
    assert rate() == Decimal("0.5")
    # Anna: 1 lost of 1 + 2 won → 1/3; Boris: 1 lost of 1 + 1 won → 1/2
    assert rate(team["anna"]) == Decimal("0.333333")
    assert rate(team["boris"]) == Decimal("0.5")
    # on 3 December only Anna's first deal had closed, won: 0 %
    assert PerformanceSnapshot.objects.get(
        plan=plan, metric__key="refusal_rate", owner=None, day=date(2026, 12, 3)
    ).actual_to_date == Decimal("0")
    # and on 2 December nothing had closed: no rate at all (not 0 %)
    assert (
        PerformanceSnapshot.objects.get(
            plan=plan, metric__key="refusal_rate", owner=None, day=date(2026, 12, 2)
        ).actual_to_date
        is None
    )


def test_the_refusal_rate_reads_lost_and_won_from_the_totals():
    ref = MetricRef("refusal_rate", "refusal_rate", None, None, lower_is_better=True)
    totals = {"lost_deals": 3, "won_deals": 9}
    assert actual_to_date(ref, totals, target_position=1) == Fraction(1, 4)
    assert actual_to_date(ref, {"lost_deals": 0, "won_deals": 0}, target_position=1) is None


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=UTC)


def test_discipline_columns_of_the_actuals(organization, funnel, team, closed):
    anna = team["anna"]
    # given Anna's won and lost leads (closed: never "without a next task") and three open
    # ones: one with an open task, one whose only task is done, one with none
    for n in (1, 2, 3):
        Lead.objects.create(
            organization=organization,
            funnel=funnel,
            source="api",
            external_id=f"O{n}",
            created_at=at(2 + n),
            responsible=anna,
        )
    o1, o2 = Lead.objects.get(external_id="O1"), Lead.objects.get(external_id="O2")
    tasks = [
        (o1, at(10), None, "Согласовать договор"),
        (o2, at(4), at(4), ""),  # done
        (o1, at(11), None, "Перезвонить."),  # open, no goal, due the 11th
        (None, at(20), None, ""),  # no goal, due after the 15th
        (None, at(9), None, None),  # text not exported: not judged
    ]
    for n, (of, due, done, text) in enumerate(tasks):
        Task.objects.create(
            organization=organization,
            source="api",
            external_id=f"T{n}",
            lead=of,
            member=anna,
            due_at=due,
            done_at=done,
            text=text,
        )
    frame = actuals_by_day(
        organization=organization, funnel=funnel, start=date(2026, 12, 1), end=date(2026, 12, 31)
    )
    to_15th = cumulative_to(frame, DAY).member(anna.pk)
    # O2 and O3 (created the 4th and 5th) are open with no open task; O1 has one
    assert to_15th["leads_without_next_task"] == 2
    assert cumulative_to(frame, date(2026, 12, 4)).member(anna.pk)["leads_without_next_task"] == 1
    # by due day: T1 (empty, but done: still stated no goal) and T2 by the 15th; T3 on the 20th
    assert to_15th["tasks_without_goal"] == 2
    assert cumulative_to(frame, date(2026, 12, 31)).member(anna.pk)["tasks_without_goal"] == 3

"""Slips (salesplan.plans.slips): opened on the first slipped day, updated while slipped, closed
on recovery, reopened as a new slip; the owner from the pie; `since` from the stored history;
a rerun of a day opens and notifies nothing again. Snapshots are written by hand here (the
statuses are the test's input), plus one run through the real recompute."""

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from metrics.models import GapShare, PerformanceSnapshot, PlanMetric, Slip
from responsibility.models import Responsibility
from salesplan.models import Delivery, Notification, Role
from salesplan.plans.performance import plan_performance_refresh
from salesplan.plans.slips import slips_sync
from tests.conftest import clear_own_cache
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def dec(day: int) -> date:
    return date(2026, 12, day)


@pytest.fixture(autouse=True)
def _no_queued_marks():
    clear_own_cache()
    yield
    clear_own_cache()


@pytest.fixture
def team(make_member):
    return {
        "anna": make_member(Role.SALESPERSON),
        "boris": make_member(Role.SALESPERSON),
        "head": make_member(Role.HEAD_OF_SALES),
        "maria": make_member(Role.MARKETER),  # the pie gives the marketer the leads
    }


@pytest.fixture
def plan(organization, funnel, team):
    return PlanFactory(
        organization=organization, funnel=funnel, team=[(team["anna"], 0.6), (team["boris"], 0.4)]
    )


@pytest.fixture
def leads(plan) -> PlanMetric:
    return PlanMetric.objects.get(plan=plan, key="leads")


@pytest.fixture
def leads_owner(plan, leads):
    top = Responsibility.objects.filter(plan=plan, metric=leads, parent__isnull=True)
    assert top.count() == 1
    return top.get().owner


def snap(plan, metric, day: date, status: str, owner=None, gap: str = "-10", pct: str = "-25"):
    slipped = status == "slipped"
    PerformanceSnapshot.objects.update_or_create(
        plan=plan,
        metric=metric,
        owner=owner,
        day=day,
        defaults={
            "plan_to_date": Decimal(40),
            "actual_to_date": Decimal(40) + Decimal(gap if slipped else 0),
            "forecast": Decimal(400),
            "status": status,
            "gap": Decimal(gap) if slipped else Decimal(0),
            "gap_pct": Decimal(pct) if slipped else Decimal(0),
            "computed_at": timezone.now(),
        },
    )


def history(plan, metric, statuses: str, owner=None, start: int = 1) -> None:
    """One letter a day from `start`: o on track, s slipped."""
    for offset, letter in enumerate(statuses):
        snap(plan, metric, dec(start + offset), "slipped" if letter == "s" else "on_track", owner)


def test_open_update_close_and_reopen_keep_the_history(plan, leads, leads_owner):
    # given leads on track on 1–2 December, slipped on 3–5, on track on 6, slipped on 7
    history(plan, leads, "ooss")
    # when the slips are synced day by day as the daily recompute would
    assert slips_sync(plan=plan, day=dec(1)) == []
    assert slips_sync(plan=plan, day=dec(2)) == []
    opened = slips_sync(plan=plan, day=dec(3))
    # then a slip opens on the first slipped day, owned by the metric's top owner on the pie
    assert len(opened) == 1
    slip = Slip.objects.get()
    assert (slip.metric, slip.owner, slip.personal) == (leads, leads_owner, False)
    assert (slip.since, slip.closed_on, slip.updated_on) == (dec(3), None, dec(3))
    assert (slip.gap, slip.gap_pct) == (Decimal(-10), Decimal(-25))
    # the next slipped day updates the same slip with the day's figures
    snap(plan, leads, dec(4), "slipped", gap="-14", pct="-30")
    assert slips_sync(plan=plan, day=dec(4)) == []
    slip.refresh_from_db()
    assert (slip.gap, slip.gap_pct, slip.updated_on, slip.since) == (
        Decimal(-14),
        Decimal(-30),
        dec(4),
        dec(3),
    )
    # recovery closes it, its last figures kept
    history(plan, leads, "sos", start=5)
    slips_sync(plan=plan, day=dec(5))
    slips_sync(plan=plan, day=dec(6))
    slip.refresh_from_db()
    assert slip.closed_on == dec(6)
    assert slip.updated_on == dec(5)
    # slipping again opens a new slip; the closed one stays in the history
    reopened = slips_sync(plan=plan, day=dec(7))
    assert [s.since for s in reopened] == [dec(7)]
    assert list(Slip.objects.order_by("since").values_list("since", "closed_on")) == [
        (dec(3), dec(6)),
        (dec(7), None),
    ]


def test_since_is_the_first_day_of_the_current_run(plan, leads):
    # given a first sync on 6 December after leads slipped on 2, recovered on 3, slipped 4–6
    history(plan, leads, "ososss")
    # when the slips are synced for 6 December only
    (slip,) = slips_sync(plan=plan, day=dec(6))
    # then the slip runs since 4 December, the start of the current run
    assert slip.since == dec(4)


def test_slipped_on_every_day_since_the_start(plan, leads):
    history(plan, leads, "sss")
    (slip,) = slips_sync(plan=plan, day=dec(3))
    assert slip.since == dec(1)


def test_a_rerun_of_the_same_day_opens_and_notifies_nothing(
    plan, leads, leads_owner, django_capture_on_commit_callbacks
):
    # given leads slipped on 3 December, synced once: the owner got one notification
    history(plan, leads, "ooss")
    with django_capture_on_commit_callbacks(execute=True):
        first = slips_sync(plan=plan, day=dec(3))
    assert len(first) == 1
    assert Notification.objects.filter(recipient=leads_owner).count() == 1
    deliveries = Delivery.objects.count()
    sent = len(mail.outbox)
    assert sent == 1
    before = list(Slip.objects.values())
    # when the same day is synced again (a rerun of the recompute)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = slips_sync(plan=plan, day=dec(3))
    # then nothing opens, changes, is queued or sent
    assert again == []
    assert list(Slip.objects.values()) == before
    assert Notification.objects.count() == 1
    assert Delivery.objects.count() == deliveries
    assert callbacks == []
    assert len(mail.outbox) == sent


def test_a_salespersons_own_slice_slips_for_them(plan, leads, team):
    # given Anna's personal paid-deals slice slipped while the department's is on track
    paid = PlanMetric.objects.get(plan=plan, key="stage_volume:4")
    anna = team["anna"]
    assert Responsibility.objects.filter(plan=plan, metric=paid, owner=anna).exists()
    history(plan, paid, "oo")
    history(plan, paid, "os", owner=anna)
    # and the day's revenue gap credits her part of the paid deals' factor
    for owner, amount in ((anna, "-30000.00"), (team["boris"], "-20000.00")):
        GapShare.objects.create(
            plan=plan,
            day=dec(2),
            factor="conv:3",
            metric=paid,
            owner=owner,
            plan_value=Decimal(1),
            actual_value=Decimal(1),
            contribution=Decimal(amount),
        )
    # when synced
    (slip,) = slips_sync(plan=plan, day=dec(2))
    # then the slip is hers and personal, with her part of the gap
    assert (slip.owner, slip.personal, slip.since) == (anna, True, dec(2))
    assert slip.attributed_revenue == Decimal("-30000.00")


def test_department_slip_counts_every_owners_part_of_the_gap(plan, leads):
    history(plan, leads, "s")
    GapShare.objects.create(
        plan=plan,
        day=dec(1),
        factor="leads",
        metric=leads,
        owner=None,
        plan_value=Decimal(20),
        actual_value=Decimal(10),
        contribution=Decimal("-125000.50"),
    )
    (slip,) = slips_sync(plan=plan, day=dec(1))
    assert slip.attributed_revenue == Decimal("-125000.50")
    # no share for a metric: no attributed revenue (not zero)
    conversion = PlanMetric.objects.get(plan=plan, key="stage_conversion:1")
    history(plan, conversion, "s")
    (other,) = slips_sync(plan=plan, day=dec(1))
    assert other.attributed_revenue is None


def test_a_metric_nobody_owns_slips_for_the_department(plan, leads):
    Responsibility.objects.filter(plan=plan, metric=leads).delete()
    history(plan, leads, "s")
    (slip,) = slips_sync(plan=plan, day=dec(1))
    assert (slip.owner, slip.personal) == (None, False)
    assert not Notification.objects.filter(recipient__isnull=False).exists()


def test_through_the_real_recompute(plan, leads, leads_owner):
    # given the December plan with no actuals at all
    # when it is recomputed to 15 December (the recompute syncs the slips of its last day)
    plan_performance_refresh(plan_id=plan.pk, today=dec(15))
    department = PerformanceSnapshot.objects.get(plan=plan, metric=leads, owner=None, day=dec(15))
    assert department.status == "slipped"
    opened = list(Slip.objects.filter(plan=plan))
    # then leads slipped for its owner since the first day it was behind, and a rerun of the
    # recompute and the sync opens nothing more
    slip = next(s for s in opened if s.metric_id == leads.pk and not s.personal)
    first_slipped = (
        PerformanceSnapshot.objects.filter(plan=plan, metric=leads, owner=None, status="slipped")
        .order_by("day")
        .first()
        .day
    )
    assert slip.owner == leads_owner
    assert slip.since == first_slipped
    assert slip.gap == department.gap
    plan_performance_refresh(plan_id=plan.pk, today=dec(15))
    assert slips_sync(plan=plan, day=dec(15)) == []
    assert Slip.objects.filter(plan=plan).count() == len(opened)

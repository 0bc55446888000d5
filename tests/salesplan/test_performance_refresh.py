"""Plan vs fact stored by the recompute job (salesplan.plans.performance): the worked
example's December plan with actuals loaded, tracked day by day for the department and each
salesperson on the pie; a rerun stores the same rows; loads queue one recompute per plan."""

from datetime import date
from decimal import Decimal
from unittest import mock

import pytest

from funnel import signals as funnel_signals
from metrics.models import GapShare, PerformanceSnapshot, PerformanceTotals, PlanMetric
from responsibility.models import Responsibility
from salesplan.models import Role, SalesPlan
from salesplan.plans import performance as performance_service
from salesplan.plans.performance import plan_performance_refresh
from tests.conftest import clear_own_cache
from tests.factories import FunnelFactory, OrganizationFactory, PlanFactory
from tests.funnel.frames import lead
from tests.salesplan.plan_vs_fact import (  # noqa: F401 (fixtures)
    DAY,
    _no_queued_marks,
    load,
    snapshot_values,
    won,
)

pytestmark = pytest.mark.django_db

DAYS = 15


@pytest.fixture
def actuals(organization, funnel, team):
    """By 15 December: Anna won 7 deals of 50,000 ₽, Boris 4, the head of sales 1 (the
    department's only); one of Anna's on 20 December, after the day tracked."""
    anna, boris, head = (team[k].user.email for k in ("anna", "boris", "head"))
    rows = [won(n, anna, 1 + n) for n in range(1, 8)]
    rows += [won(10 + n, boris, 2 + 2 * n) for n in range(1, 5)]
    rows += [won(20, head, 14), won(21, anna, 20)]
    load(organization, funnel, rows, announce=True)


def _snapshot(plan, key: str, owner=None, day: date = DAY) -> PerformanceSnapshot:
    return PerformanceSnapshot.objects.get(plan=plan, metric__key=key, owner=owner, day=day)


def _values(plan) -> list[tuple]:
    return snapshot_values(plan)


def test_department_rows_for_each_day_and_metric(plan, actuals):
    # given the December plan and the deals above
    # when plan vs fact is recomputed on 15 December
    stored = plan_performance_refresh(plan_id=plan.pk, today=DAY)
    # then the department has a row for each day since 1 December and each metric
    metrics = PlanMetric.objects.filter(plan=plan).count()
    department = PerformanceSnapshot.objects.filter(plan=plan, owner=None)
    assert department.count() == DAYS * metrics
    assert set(department.values_list("day", flat=True)) == {
        date(2026, 12, d) for d in range(1, DAYS + 1)
    }
    assert stored == PerformanceSnapshot.objects.filter(plan=plan).count()
    # 12 deals × 50,000 ₽ = 600,000 ₽ against 1,000,000 × 11/22 = 500,000 ₽ to date; the pace
    # (600,000 ÷ 11 × 22 = 1,200,000 ₽) beats the plan
    revenue = _snapshot(plan, "revenue")
    assert revenue.status == "on_track"
    assert revenue.actual_to_date == Decimal("600000")
    assert revenue.plan_to_date == Decimal("500000")
    assert revenue.forecast == Decimal("1200000")
    assert revenue.gap == Decimal("100000")
    assert revenue.gap_pct == Decimal("20.00")
    # 600,000 ₽ for 12 deals is the planned 50,000 ₽ check
    assert _snapshot(plan, "average_check").status == "on_track"
    # 12 leads by mid-month against ~half of 420: far behind
    assert _snapshot(plan, "leads").status == "slipped"
    # no marketing spend loaded: cost per lead is 0 ₽, below the plan (lower is better)
    assert _snapshot(plan, "cost_per_lead").status == "on_track"
    # the refusal rate is not read from the actuals yet
    assert _snapshot(plan, "refusal_rate").status == "not_assessed"
    # on 1 December nothing was paid yet: revenue 0 after the first working day, slipped
    assert _snapshot(plan, "revenue", day=date(2026, 12, 1)).status == "slipped"


def test_a_rerun_stores_the_same_rows(plan, actuals):
    # given plan vs fact recomputed once
    first = plan_performance_refresh(plan_id=plan.pk, today=DAY)
    before = _values(plan)
    assert first == len(before)
    # when it is recomputed again with nothing new: only the last day is rewritten
    second = plan_performance_refresh(plan_id=plan.pk, today=DAY)
    assert second == first // DAYS
    # then the same rows with the same values are stored, as after a full recompute
    assert _values(plan) == before
    assert plan_performance_refresh(plan_id=plan.pk, today=DAY, full=True) == first
    assert _values(plan) == before


def _rows_and_gaps(plan) -> tuple[list[tuple], list[tuple]]:
    gaps = list(
        GapShare.objects.filter(plan=plan)
        .order_by("day", "factor", "owner_id")
        .values_list("day", "factor", "owner_id", "plan_value", "actual_value", "contribution")
    )
    return _values(plan), gaps


def test_an_incremental_recompute_after_a_load_equals_a_full_one(
    organization, funnel, plan, actuals, team, django_capture_on_commit_callbacks
):
    # given plan vs fact stored to 15 December (running totals kept for 9–15 December, the
    # last seven days, and Sunday 6 December)
    full = plan_performance_refresh(plan_id=plan.pk, today=DAY)
    untouched = list(
        PerformanceSnapshot.objects.filter(plan=plan, day__lt=date(2026, 12, 10)).values_list(
            "id", "computed_at"
        )
    )
    # when a deal won on 10 December is loaded late (the load marks the plan from that day)
    with django_capture_on_commit_callbacks(execute=False):
        load(
            organization,
            funnel,
            announce=True,
            rows=[won(30, team["boris"].user.email, 10, "70000.00")],
        )
    plan.refresh_from_db()
    assert plan.performance_dirty_from == date(2026, 12, 10)
    written = plan_performance_refresh(plan_id=plan.pk, today=DAY)
    # then only the days from 10 December were rewritten (from the totals of the 9th), the
    # earlier ones kept as they were
    assert written == full * (DAYS - 9) // DAYS
    assert (
        list(
            PerformanceSnapshot.objects.filter(plan=plan, day__lt=date(2026, 12, 10)).values_list(
                "id", "computed_at"
            )
        )
        == untouched
    )
    plan.refresh_from_db()
    assert plan.performance_dirty_from is None
    assert _snapshot(plan, "revenue").actual_to_date == Decimal("670000")
    incremental = _rows_and_gaps(plan)
    # and a full recompute stores exactly the same figures
    plan_performance_refresh(plan_id=plan.pk, today=DAY, full=True)
    assert _rows_and_gaps(plan) == incremental


def test_a_late_change_recomputes_from_the_sunday_before_it(
    organization, funnel, plan, actuals, team, django_capture_on_commit_callbacks
):
    # given plan vs fact stored to 24 December: running totals kept for 18–24 December and
    # the Sundays before (6, 13 December), not for every day
    full = plan_performance_refresh(plan_id=plan.pk, today=date(2026, 12, 24))
    kept = set(
        PerformanceTotals.objects.filter(plan=plan, owner=None).values_list("day", flat=True)
    )
    assert kept == {date(2026, 12, 6), date(2026, 12, 13)} | {
        date(2026, 12, day) for day in range(18, 25)
    }
    # when a deal won on Wednesday 9 December is loaded two weeks late
    with django_capture_on_commit_callbacks(execute=False):
        load(
            organization,
            funnel,
            announce=True,
            rows=[won(31, team["boris"].user.email, 9, "70000.00")],
        )
    written = plan_performance_refresh(plan_id=plan.pk, today=date(2026, 12, 24))
    # then the days from Monday 7 December are rewritten (from Sunday's totals), 18 of 24
    assert written == full * 18 // 24
    incremental = _rows_and_gaps(plan)
    # and a full recompute stores exactly the same figures
    plan_performance_refresh(plan_id=plan.pk, today=date(2026, 12, 24), full=True)
    assert _rows_and_gaps(plan) == incremental


def test_a_pie_change_recomputes_the_whole_period(plan, actuals, team):
    # given plan vs fact stored to 15 December
    first = plan_performance_refresh(plan_id=plan.pk, today=DAY)
    # when Anna's slice of the paid deals shrinks from 60 % to 50 % of the team's
    from responsibility.services import responsibility_reassign

    anna_slice = Responsibility.objects.get(
        plan=plan, owner=team["anna"], metric__key="stage_volume:4"
    )
    plan.refresh_from_db()
    responsibility_reassign(
        responsibility=anna_slice, share=Decimal("0.5"), expected_pie_version=plan.pie_version
    )
    plan.refresh_from_db()
    # then the plan is marked from its start and the recompute rewrites every day
    assert plan.performance_dirty_from == plan.period_start
    assert plan_performance_refresh(plan_id=plan.pk, today=DAY) == first
    paid = _snapshot(plan, "stage_volume:4", owner=team["anna"], day=date(2026, 12, 2))
    department = _snapshot(plan, "stage_volume:4", day=date(2026, 12, 2))
    assert paid.plan_to_date == department.plan_to_date * Decimal("0.5")


def test_a_salesperson_gets_personal_rows(plan, actuals, team):
    # given the default pie: the head of sales owns the sales metrics, split among Anna (60 %)
    # and Boris (40 %) by their plan shares
    anna = team["anna"]
    owned = Responsibility.objects.filter(plan=plan, owner=anna)
    assert owned.exists()
    paid_slice = owned.get(metric__key="stage_volume:4")
    # when plan vs fact is recomputed
    plan_performance_refresh(plan_id=plan.pk, today=DAY)
    # then Anna has a row for each day and each metric she owns, and none of hers is the
    # head of sales' (who has no personal slice)
    personal = PerformanceSnapshot.objects.filter(plan=plan, owner=anna)
    assert personal.count() == DAYS * owned.values("metric").distinct().count()
    assert not PerformanceSnapshot.objects.filter(plan=plan, owner=team["head"]).exists()
    # her 7 paid deals by 15 December (the 8th on 20 December) are her own slice, against
    # her share of the department's paid deals to date
    paid = _snapshot(plan, "stage_volume:4", owner=anna)
    assert paid.actual_to_date == Decimal(7)
    department = _snapshot(plan, "stage_volume:4")
    assert department.actual_to_date == Decimal(12)
    assert paid_slice.share == Decimal("0.6")
    assert paid.plan_to_date == department.plan_to_date * Decimal("0.6")


def test_another_organization_is_untouched(plan, actuals):
    # given another organization's plan with its own stored rows
    other = OrganizationFactory(name="Other")
    other_plan = PlanFactory(organization=other, funnel=FunnelFactory(organization=other))
    plan_performance_refresh(plan_id=other_plan.pk, today=DAY)
    theirs = _values(other_plan)
    assert theirs
    # when our plan is recomputed
    plan_performance_refresh(plan_id=plan.pk, today=DAY)
    # then theirs are as they were, and none of our deals counts for them
    assert _values(other_plan) == theirs
    assert _snapshot(other_plan, "revenue").actual_to_date == 0


def test_loading_actuals_queues_one_recompute(
    organization, funnel, plan, team, django_capture_on_commit_callbacks
):
    # given a plan in progress, the recompute its save queued already started
    performance_service.performance_refresh_started(plan_id=plan.pk)
    anna = team["anna"].user.email
    with (
        mock.patch("django.utils.timezone.localdate", return_value=DAY),
        mock.patch("salesplan.queue.enqueue") as enqueue,
    ):
        # when actuals are loaded twice within a minute
        for batch in (1, 2):
            with django_capture_on_commit_callbacks(execute=True):
                load(organization, funnel, announce=True, rows=[won(batch, anna, 3)])
                funnel_signals.actuals_loaded.send(
                    sender=None, organization_id=organization.pk, funnel_id=funnel.pk
                )
    # then one recompute of that plan is queued (beside the other apps' jobs of a load)
    recomputes = [c for c in enqueue.call_args_list if c.args[0] == "plans.refresh_performance"]
    assert recomputes == [mock.call("plans.refresh_performance", plan.pk, robust=True)]


def test_the_queued_job_recomputes_and_the_next_load_queues_again(
    organization, funnel, plan, team, django_capture_on_commit_callbacks
):
    # given a plan in progress on 15 December (the recompute its save queued started), jobs
    # run inline as in every test
    performance_service.performance_refresh_started(plan_id=plan.pk)
    anna = team["anna"].user.email
    with mock.patch("django.utils.timezone.localdate", return_value=DAY):
        for batch in (1, 2):
            # when actuals are loaded and the queued job runs
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                load(organization, funnel, announce=True, rows=[won(batch, anna, 3)])
                funnel_signals.actuals_loaded.send(
                    sender=None, organization_id=organization.pk, funnel_id=funnel.pk
                )
            # then each load (the job started after the first) queues and runs a recompute
            assert len(callbacks) >= 2  # the history's job and the plan vs fact's
            assert _snapshot(plan, "revenue").actual_to_date == Decimal(50000 * batch)


# --- the API reads what the job stored ------------------------------------------------------


def test_the_api_reads_the_stored_plan_vs_fact(plan, actuals, api_for, team):
    plan_performance_refresh(plan_id=plan.pk, today=DAY)
    api = api_for(team["head"])
    response = api.get(f"/api/v1/plans/{plan.pk}/performance/", {"date": "2026-12-15"})
    assert response.status_code == 200
    body = response.json()
    assert body["day"] == "2026-12-15"
    revenue = next(m for m in body["metrics"] if m["key"] == "revenue" and m["owner"] is None)
    assert revenue["status"] == "on_track"
    assert Decimal(revenue["actual_to_date"]) == Decimal("600000")
    assert Decimal(revenue["plan_to_date"]) == Decimal("500000")
    # a salesperson's own rows come with them as the owner
    owners = {m["owner"]["id"] for m in body["metrics"] if m["owner"]}
    assert owners and owners <= {team["anna"].pk, team["boris"].pk}


def test_the_api_answers_nothing_computed_yet_and_refuses_bad_dates(plan, api_for, team):
    api = api_for(team["head"])
    empty = api.get(f"/api/v1/plans/{plan.pk}/performance/", {"date": "2026-12-15"}).json()
    assert empty["metrics"] == [] and empty["computed_at"] is None
    bad = api.get(f"/api/v1/plans/{plan.pk}/performance/", {"date": "9999-12-31"})
    assert bad.status_code == 400
    assert "date" in bad.json()


def test_another_organizations_plan_vs_fact_is_not_found(plan, actuals, api_for, make_member):
    plan_performance_refresh(plan_id=plan.pk, today=DAY)
    outsider = make_member(Role.OWNER, org=OrganizationFactory(name="Other"))
    response = api_for(outsider).get(f"/api/v1/plans/{plan.pk}/performance/")
    assert response.status_code == 404


def test_the_tolerance_is_the_plans_own(plan, actuals):
    # given the leads far behind their plan-to-date (slipped at the default 10 %)
    plan_performance_refresh(plan_id=plan.pk, today=DAY)
    assert _snapshot(plan, "leads").status == "slipped"
    # when the plan tolerates being behind by up to 100 %
    SalesPlan.objects.filter(pk=plan.pk).update(tolerance=Decimal(100))
    plan_performance_refresh(plan_id=plan.pk, today=DAY, full=True)
    # then nothing slips, and the leads' forecast still misses the plan: at risk
    assert _snapshot(plan, "leads").status == "at_risk"
    assert not PerformanceSnapshot.objects.filter(plan=plan, status="slipped").exists()


def test_the_api_splits_the_revenue_gap_by_factor_and_owner(plan, actuals, api_for, team):
    # given plan vs fact recomputed on 15 December
    plan_performance_refresh(plan_id=plan.pk, today=DAY)
    # when the head of sales reads the attribution
    answer = api_for(team["head"]).get(f"/api/v1/plans/{plan.pk}/attribution/?date={DAY}")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    factors = {item["factor"]: item for item in body["factors"]}
    # then the factors are the revenue formula's, in its order, and add up to the gap exactly
    names = list(factors)
    assert (names[0], names[-1]) == ("leads", "average_check")
    assert any(name.startswith("stage_conversion:") for name in factors)
    contributions = [Decimal(str(item["contribution"])) for item in body["factors"]]
    assert sum(contributions) == Decimal(str(body["gap"]))
    # 12 deals against a plan-to-date of 10 (by whole days) earned the gap with fewer leads:
    # the leads cost revenue, the conversions brought it
    assert Decimal(str(factors["leads"]["contribution"])) < 0
    assert Decimal(str(body["gap"])) > 0
    # each factor's part is credited to its owners, and a split below the head of sales adds
    # up to the head's part to the kopeck
    for item in body["factors"]:
        for owner in item["owners"]:
            if owner["split"]:
                parts = [Decimal(str(part["contribution"])) for part in owner["split"]]
                assert sum(parts) == Decimal(str(owner["contribution"]))
    split_people = {
        part["id"]
        for item in body["factors"]
        for owner in item["owners"]
        for part in owner["split"]
    }
    assert split_people <= {team["anna"].pk, team["boris"].pk}


def test_another_organizations_attribution_is_not_found(plan, actuals, api_for, make_member):
    plan_performance_refresh(plan_id=plan.pk, today=DAY)
    stranger = make_member(Role.HEAD_OF_SALES, org=OrganizationFactory(name="Other"))
    answer = api_for(stranger).get(f"/api/v1/plans/{plan.pk}/attribution/")
    assert answer.status_code == 404


def test_the_nightly_sweep_recomputes_every_plan_in_progress_whole(
    plan, actuals, django_capture_on_commit_callbacks
):
    # given a plan in progress whose plan vs fact is stored, nothing marked
    plan_performance_refresh(plan_id=plan.pk, today=DAY)
    plan.refresh_from_db()
    assert plan.performance_dirty_from is None
    # when the nightly sweep runs (the 15-minute one leaves the mark alone)
    clear_own_cache()
    with django_capture_on_commit_callbacks(execute=False):
        assert performance_service.performance_refresh_all(today=DAY) == 1
    plan.refresh_from_db()
    assert plan.performance_dirty_from is None
    clear_own_cache()
    with django_capture_on_commit_callbacks(execute=False):
        assert performance_service.performance_refresh_all(today=DAY, full=True) == 1
    # then the plan is marked from its start: its next recompute rewrites every day
    plan.refresh_from_db()
    assert plan.performance_dirty_from == plan.period_start


def test_refresh_plans_recomputes_plan_vs_fact_after_a_migration(plan, actuals, capsys):
    # given a plan in progress on 15 December with nothing stored yet
    from django.core.management import call_command

    PerformanceSnapshot.objects.filter(plan=plan).delete()
    with mock.patch.object(performance_service.timezone, "localdate", return_value=DAY):
        # when an operator runs refresh_plans (after `migrate`)
        call_command("refresh_plans")
    # then the plan vs fact of every day to today is stored, and the command says so
    metrics = PlanMetric.objects.filter(plan=plan).count()
    assert PerformanceSnapshot.objects.filter(plan=plan, owner=None).count() == metrics * DAYS
    assert "Plan vs fact recomputed" in capsys.readouterr().out


def test_money_from_earlier_leads_is_split_to_the_whole_revenue_gap(
    organization, funnel, plan, actuals, team, api_for
):
    # given a deal whose lead came in November (every stage then) paid 80,000 ₽ in December:
    # December's paid stage has more deals than its meetings held
    old = lead(
        40,
        "OLD40",
        4,
        responsible=team["anna"].user.email,
        created_at="2026-11-10 09:00+03:00",
        stage_at="2026-11-20 12:00+03:00",
        is_target=True,
        won=True,
        amount="80000.00",
        paid_at="2026-12-08 12:00+03:00",
    )
    load(organization, funnel, announce=True, rows=[old])
    plan_performance_refresh(plan_id=plan.pk, today=DAY, full=True)
    # when the attribution is read
    body = api_for(team["head"]).get(f"/api/v1/plans/{plan.pk}/attribution/?date={DAY}").json()
    # then its parts add up to the revenue gap the plan vs fact shows (680,000 − 500,000 ₽),
    # to the kopeck: every stage has a deal in December, so the factors multiply to revenue
    revenue = _snapshot(plan, "revenue")
    assert revenue.actual_to_date == Decimal("680000")
    contributions = sum(Decimal(str(item["contribution"])) for item in body["factors"])
    assert contributions == revenue.actual_to_date - revenue.plan_to_date == Decimal("180000")
    assert Decimal(str(body["gap"])) == Decimal("180000")

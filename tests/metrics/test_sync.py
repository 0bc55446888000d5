"""A plan's metrics follow its saves (metrics.services.plan_metrics_sync through plan_create
and plan_update): upsert by key, the user's judgement kept, dropped metrics gone with their
slices of the pie, a bounded number of queries. Expected values are worked out by hand."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from funnel.models import Funnel
from metrics.catalog import PlannedMetric, plan_metrics
from metrics.models import PlanMetric
from metrics.services import metric_update, plan_metrics_sync
from responsibility.models import Responsibility
from salesplan.models import Membership, Organization, Role, SalesPlan
from salesplan.planning import StageInput, decompose
from salesplan.plans.services import plan_update
from tests.factories import FunnelFactory, PlanFactory
from tests.metrics.expected import COST_METRICS, DECEMBER_VALUES, DOUBLED_VALUES
from tests.planning.builders import worked_example

pytestmark = pytest.mark.django_db

D = Decimal

WRITES = ("INSERT", "UPDATE", "DELETE")
# Read, insert, update; the delete takes the metrics, their slices and the slices' splits
# (Django's cascade: three reads, two deletes) and their stored plan vs fact, gap shares and
# slips (one delete each, no read: nothing below them); a savepoint around it all.
SYNC_MAX_QUERIES = 13


@pytest.fixture
def seats(make_member) -> dict[str, Membership]:
    """Who holds slices of a default pie: a head of sales, a marketer and a hunter."""
    return {
        "head": make_member(Role.HEAD_OF_SALES),
        "marketer": make_member(Role.MARKETER),
        "anna": make_member(Role.SALESPERSON),
    }


@pytest.fixture
def plan(organization: Organization, funnel: Funnel, seats: dict[str, Membership]) -> SalesPlan:
    """The worked example's December plan, saved with anna carrying all of it."""
    return PlanFactory(organization=organization, funnel=funnel, team=[(seats["anna"], "1")])


def planned_values(plan: SalesPlan) -> dict[str, Decimal | None]:
    return dict(PlanMetric.objects.filter(plan=plan).values_list("key", "planned_value"))


def rows(plan: SalesPlan) -> list[dict[str, Any]]:
    return list(PlanMetric.objects.filter(plan=plan).order_by("id").values())


def pks(plan: SalesPlan) -> dict[str, int]:
    return dict(PlanMetric.objects.filter(plan=plan).values_list("key", "id"))


def statements(captured: CaptureQueriesContext) -> list[str]:
    return [query["sql"].split(maxsplit=1)[0].upper() for query in captured.captured_queries]


def stage_inputs(stages: Sequence[dict[str, Any]]) -> tuple[StageInput, ...]:
    """A funnel's stage dicts (as FunnelFactory takes them) as the planning engine's."""
    return tuple(
        StageInput(
            stage["name"],
            stage.get("conversion"),
            is_key_stage=bool(stage.get("is_key_stage")),
            is_target_lead=bool(stage.get("is_target_lead")),
        )
        for stage in stages
    )


def funnel_stages(count: int) -> list[dict[str, Any]]:
    """`count` stages: lead, target lead, then 90 % steps, the one before paid the key stage."""
    stages: list[dict[str, Any]] = [
        {"name": "Lead", "conversion": D("0.6")},
        {"name": "Target lead", "conversion": D("0.5"), "is_target_lead": True},
    ]
    stages += [
        {"name": f"Step {index}", "conversion": D("0.9"), "is_key_stage": index == count - 2}
        for index in range(2, count - 1)
    ]
    stages.append({"name": "Paid"})
    return stages


# --- what a save stores ---------------------------------------------------------------------


def test_a_saved_plan_has_the_worked_examples_metrics(plan):
    # when the worked example's plan is saved (by the factory, through plan_create)
    values = planned_values(plan)

    # then it has exactly the metrics and planned values worked out by hand
    assert values == DECEMBER_VALUES


def test_a_saved_metric_carries_its_kinds_direction_unit_category_and_defaults(plan):
    # when the saved plan's metrics are read
    by_key = {metric.key: metric for metric in PlanMetric.objects.filter(plan=plan)}

    # then each carries its kind's facts and the catalog's default judgement
    cost = by_key["cost_per_lead"]
    assert (cost.kind, cost.direction, cost.unit, cost.category) == (
        "cost_per_lead",
        "lower",
        "money",
        "marketing",
    )
    assert (cost.controllable, cost.weight) == (True, 1)
    assert (by_key["revenue"].category, by_key["revenue"].weight) == ("management", 3)
    conversion = by_key["stage_conversion:2"]
    assert (conversion.kind, conversion.unit, conversion.weight) == (
        "stage_conversion",
        "percent",
        2,
    )
    assert (conversion.stage_position, conversion.name) == (2, "Meeting scheduled → Meeting held")
    held = by_key["stage_volume:3"]
    assert (held.kind, held.stage_position, held.name) == ("stage_volume", 3, "Meeting held")


# --- re-syncing -----------------------------------------------------------------------------


def test_syncing_the_same_metrics_again_writes_nothing(plan):
    # given the saved plan, its rows and its pie
    before = rows(plan)
    pie_before = list(Responsibility.objects.filter(plan=plan).order_by("id").values())
    same = plan_metrics(worked_example(), decompose(worked_example()))

    # when its metrics are synced again with the same planned metrics
    with CaptureQueriesContext(connection) as captured:
        plan_metrics_sync(plan=plan, planned=same)

    # then no row is written and every row is as it was (same pks, same values)
    assert not [sql for sql in statements(captured) if sql in WRITES]
    assert rows(plan) == before
    assert list(Responsibility.objects.filter(plan=plan).order_by("id").values()) == pie_before


def test_a_changed_plan_updates_in_place_and_keeps_the_users_judgement(plan):
    # given the user's judgement on two metrics
    ids = pks(plan)
    metric_update(metric=PlanMetric.objects.get(pk=ids["revenue"]), controllable=False, weight=7)
    metric_update(metric=PlanMetric.objects.get(pk=ids["stage_volume:4"]), weight=9)

    # when the plan's revenue target is doubled
    plan_update(plan=plan, user=None, expected_version=plan.version, revenue_target=D("2000000"))

    # then every metric is updated in place to the values worked out by hand
    assert pks(plan) == ids
    assert planned_values(plan) == DOUBLED_VALUES
    # and the judgement survives, while the other metrics keep the catalog's defaults
    judgement = {
        key: (controllable, weight)
        for key, controllable, weight in PlanMetric.objects.filter(plan=plan).values_list(
            "key", "controllable", "weight"
        )
    }
    assert judgement["revenue"] == (False, 7)
    assert judgement["stage_volume:4"] == (True, 9)
    assert judgement["stage_volume:3"] == (True, 1)


def test_a_plan_without_cost_per_lead_drops_the_cost_metrics_and_their_slices(plan, seats):
    # given the plan's cost metrics, held by the marketer on the default pie
    ids = pks(plan)
    dropped = [ids[key] for key in COST_METRICS]
    held = Responsibility.objects.filter(metric_id__in=dropped, owner=seats["marketer"])
    assert held.count() == len(COST_METRICS)

    # when the plan is saved with no cost per lead (so no budget either)
    plan_update(plan=plan, user=None, expected_version=plan.version, cost_per_lead=None)

    # then the cost metrics and their slices are gone; the rest are the same rows
    assert pks(plan) == {key: pk for key, pk in ids.items() if key not in COST_METRICS}
    assert not PlanMetric.objects.filter(pk__in=dropped).exists()
    assert not Responsibility.objects.filter(metric_id__in=dropped).exists()
    assert planned_values(plan) == {
        key: value for key, value in DECEMBER_VALUES.items() if key not in COST_METRICS
    }


def test_a_sync_runs_the_same_bounded_queries_for_5_and_12_stages(
    organization, seats, django_assert_max_num_queries
):
    counts: dict[int, int] = {}
    for count in (5, 12):
        # given a plan on a funnel of `count` stages, missing its revenue metric
        stages = funnel_stages(count)
        funnel = FunnelFactory(organization=organization, stages=stages)
        plan = PlanFactory(organization=organization, funnel=funnel, team=[(seats["anna"], "1")])
        PlanMetric.objects.filter(plan=plan, key="revenue").delete()
        before = pks(plan)
        # and planned metrics for twice the revenue with no cost per lead
        inputs = worked_example(
            stages=stage_inputs(stages), revenue_target=D("2000000"), cost_per_lead=None
        )
        planned: list[PlannedMetric] = plan_metrics(inputs, decompose(inputs))

        # when the metrics are synced (an insert, updates and deletes at once)
        with django_assert_max_num_queries(SYNC_MAX_QUERIES) as captured:
            plan_metrics_sync(plan=plan, planned=planned)
        counts[count] = len(captured)

        # then it did all three: revenue is back, volumes doubled, the cost metrics are gone
        after = pks(plan)
        assert "revenue" in after and "revenue" not in before
        assert set(before) - set(after) == COST_METRICS
        assert planned_values(plan)[f"stage_volume:{count - 1}"] == D("40")
        assert {"INSERT", "UPDATE", "DELETE"} <= set(statements(captured))
    # and the number of queries does not grow with the stages
    assert counts[5] == counts[12]

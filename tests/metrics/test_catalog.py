"""The metric catalog and a plan's metrics (metrics/catalog.py). Pure: no database.

Expected values come from DOMAIN and the worked example (tests/worked_example.py), or are
worked out by hand in the test; never from the code under test.
"""

from decimal import Decimal

import pytest

from metrics.catalog import CATALOG, KINDS, Category, MetricKind, PlannedMetric, plan_metrics
from salesplan.planning import PlanInput, StageInput, decompose
from tests.metrics.expected import (
    DECEMBER_VALUES,
    DOMAIN_KINDS,
    EXTRA_KINDS,
    LOWER_IS_BETTER,
    SPEC,
)
from tests.planning.builders import worked_example
from tests.worked_example import DEALS, MARKETING_BUDGET, REQUIRED

D = Decimal


def metrics_of(plan: PlanInput, *, has_farmers: bool = False) -> dict[str, PlannedMetric]:
    """The plan's metrics by key (decomposed by the planning engine, as a save does)."""
    return {m.key: m for m in plan_metrics(plan, decompose(plan), has_farmers=has_farmers)}


def values_of(plan: PlanInput, *, has_farmers: bool = False) -> dict[str, Decimal | None]:
    return {key: m.planned_value for key, m in metrics_of(plan, has_farmers=has_farmers).items()}


# --- the catalog ----------------------------------------------------------------------------


def test_the_catalog_holds_every_domain_metric_and_the_extras():
    # given the catalog
    codes = [kind.code for kind in KINDS]

    # then it has DOMAIN's kinds, the budget, the farmer's metric and CRM discipline's, each once
    assert set(codes) == DOMAIN_KINDS | EXTRA_KINDS
    assert len(codes) == len(set(codes)) == len(CATALOG)
    assert all(CATALOG[kind.code] is kind for kind in KINDS)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.code)
def test_every_kind_has_its_direction_unit_and_category(kind: MetricKind):
    # given one kind of the catalog
    direction, unit, category = SPEC[kind.code]

    # then it carries what DOMAIN says of it, a label to translate and a weight the API allows
    assert (kind.direction, kind.unit, kind.category) == (direction, unit, category)
    assert isinstance(kind.category, Category)
    assert kind.label.strip()
    assert 1 <= kind.weight <= 10


def test_lower_is_better_kinds_are_costs_spend_and_failures():
    # when the catalog is asked which metrics slip when they are above plan
    lower = {kind.code for kind in KINDS if kind.direction == "lower"}

    # then those are the costs, the spend and the failure counts (DOMAIN 3: cost per lead)
    assert lower == LOWER_IS_BETTER
    assert CATALOG["cost_per_lead"].direction == "lower"


def test_only_stage_metrics_are_per_stage_and_only_two_belong_to_a_salesperson_kind():
    # given the catalog
    per_stage = {kind.code for kind in KINDS if kind.per_stage}
    by_kind = {kind.code: kind.for_salesperson_kind for kind in KINDS if kind.for_salesperson_kind}

    # then stage volume and conversion repeat per stage; hunters win new clients, farmers grow
    # the existing base (DOMAIN idea 4)
    assert per_stage == {"stage_volume", "stage_conversion"}
    assert by_kind == {"new_clients": "hunter", "existing_client_revenue": "farmer"}


# --- plan_metrics on the worked example -----------------------------------------------------


def test_worked_example_metrics_have_the_hand_worked_planned_values():
    # given the worked example's December plan
    plan = worked_example()

    # when its metrics are derived from its decomposition
    values = values_of(plan)

    # then they are exactly the metrics and values worked out by hand
    assert values == DECEMBER_VALUES


def test_cost_per_target_lead_is_the_budget_over_target_leads_in_kopecks():
    # given the budget and the target leads worked out by hand
    by_hand = (MARKETING_BUDGET / REQUIRED["Target lead"]).quantize(D("0.01"))

    # when the worked example's metrics are derived
    metric = metrics_of(worked_example())["cost_per_target_lead"]

    # then the cost per target lead is 210,000 / 252 rounded to kopecks
    assert by_hand == D("833.33")
    assert metric.planned_value == by_hand
    assert metric.planned_value.as_tuple().exponent == -2


def test_every_metric_key_names_its_kind():
    # when the worked example's metrics are derived (with a farmer in the team)
    metrics = plan_metrics(worked_example(), decompose(worked_example()), has_farmers=True)

    # then keys are unique, and a key is its kind, or kind:position for per-stage kinds
    assert len({m.key for m in metrics}) == len(metrics)
    for metric in metrics:
        assert metric.meta is CATALOG[metric.kind]
        if metric.meta.per_stage:
            assert metric.key == f"{metric.kind}:{metric.stage_position}"
        else:
            assert metric.key == metric.kind


def test_stage_metrics_name_their_stages_from_the_target_lead_stage_down():
    # when the worked example's metrics are derived
    metrics = metrics_of(worked_example())

    # then volumes follow the target-lead stage and conversions start at it
    assert sorted(key for key in metrics if key.startswith("stage_volume:")) == [
        "stage_volume:2",
        "stage_volume:3",
        "stage_volume:4",
    ]
    assert sorted(key for key in metrics if key.startswith("stage_conversion:")) == [
        "stage_conversion:1",
        "stage_conversion:2",
        "stage_conversion:3",
    ]
    conversion = metrics["stage_conversion:1"]
    assert (conversion.stage_position, conversion.stage_name, conversion.next_stage_name) == (
        1,
        "Target lead",
        "Meeting scheduled",
    )
    assert conversion.name == "Target lead → Meeting scheduled"
    paid = metrics["stage_volume:4"]
    assert (paid.stage_position, paid.stage_name, paid.name) == (4, "Paid", "Paid")
    # and the top two stages are the marketer's leads and target leads
    assert (metrics["leads"].stage_position, metrics["leads"].stage_name) == (0, "Lead")
    assert (metrics["target_leads"].stage_position, metrics["target_leads"].stage_name) == (
        1,
        "Target lead",
    )


def test_revenue_from_existing_clients_only_when_the_team_has_farmers():
    # given the worked example
    plan = worked_example()

    # when its metrics are derived without and with a farmer in the team
    without = metrics_of(plan)
    with_farmers = metrics_of(plan, has_farmers=True)

    # then only the farmers' plan tracks revenue from existing clients (no target yet)
    assert "existing_client_revenue" not in without
    assert with_farmers["existing_client_revenue"].planned_value is None
    assert set(with_farmers) - set(without) == {"existing_client_revenue"}


def test_no_cost_metrics_without_a_cost_per_lead():
    # given the worked example with no cost per lead (and no cost per target lead)
    plan = worked_example(cost_per_lead=None)

    # when its metrics are derived
    values = values_of(plan)

    # then there is no cost per lead, and with no budget no spend or cost per target lead
    assert set(DECEMBER_VALUES) - set(values) == {
        "cost_per_lead",
        "cost_per_target_lead",
        "marketing_spend",
    }
    assert set(values) <= set(DECEMBER_VALUES)


def test_a_cost_per_target_lead_alone_sets_the_budget():
    # given a cost per target lead of 1,000 instead of a cost per lead
    plan = worked_example(cost_per_lead=None, cost_per_target_lead=D("1000"))

    # when its metrics are derived
    values = values_of(plan)

    # then the budget is 252 target leads × 1,000 and there is no cost-per-lead metric
    assert "cost_per_lead" not in values
    assert values["cost_per_target_lead"] == D("1000")
    assert values["marketing_spend"] == D("252000")


def test_a_gross_margin_target_becomes_a_metric():
    # given the worked example with a gross margin target of 300,000
    plan = worked_example(gross_margin_target=D("300000"))

    # when its metrics are derived
    values = values_of(plan)

    # then the margin is planned at its target (and the worked example alone has none)
    assert values["gross_margin"] == D("300000")
    assert "gross_margin" not in values_of(worked_example())


def test_a_target_lead_stage_further_down_splits_marketing_from_sales_there():
    # given a funnel with a contact stage between lead and target lead
    plan = worked_example(
        stages=(
            StageInput("Lead", D("0.65")),
            StageInput("Contact made", D("0.6")),
            StageInput("Target lead", D("0.25"), is_target_lead=True),
            StageInput("Meeting scheduled", D("0.8")),
            StageInput("Meeting held", D("0.4"), is_key_stage=True),
            StageInput("Paid", None),
        )
    )

    # when its metrics are derived
    values = values_of(plan)

    # then by hand: 252 target leads → ⌈252 / 0.6⌉ = 420 contacts → ⌈420 / 0.65⌉ = 647 leads;
    # the share is 252 / 647 = 0.3894899… to six places; the budget 647 × 500 = 323,500
    assert values["leads"] == D("647")
    assert values["target_leads"] == D("252")
    assert values["target_lead_share"] == D("0.389490")
    assert values["marketing_spend"] == D("323500")
    assert values["cost_per_target_lead"] == D("1283.73")  # 323,500 / 252 = 1283.7301…
    # and the stages above the target-lead stage are no sales metrics
    stage_keys = {key for key in values if key.startswith("stage_")}
    assert stage_keys == {
        "stage_conversion:2",
        "stage_conversion:3",
        "stage_conversion:4",
        "stage_volume:3",
        "stage_volume:4",
        "stage_volume:5",
    }
    assert values["stage_volume:5"] == D(DEALS)

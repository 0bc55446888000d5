"""A seed-like team (one marketer, two hunters, one head of sales) and a December plan."""

import pytest

from salesplan.models import Role
from tests.factories import PlanFactory


@pytest.fixture
def team(make_member):
    return {
        "head": make_member(Role.HEAD_OF_SALES),
        "marketer": make_member(Role.MARKETER),
        "anna": make_member(Role.SALESPERSON, salesperson_kind="hunter"),
        "boris": make_member(Role.SALESPERSON, salesperson_kind="hunter"),
    }


@pytest.fixture
def plan_id(organization, funnel, team) -> int:
    """The worked example's department plan, half each for Anna and Boris."""
    plan = PlanFactory(
        organization=organization,
        funnel=funnel,
        team=[(team["anna"], "0.5"), (team["boris"], "0.5")],
    )
    return plan.pk

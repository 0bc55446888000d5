"""A seed-like team (one marketer, two hunters, one head of sales) and a December plan."""

import pytest

from salesplan.models import Role
from tests.worked_example import DECEMBER, WORKED_STAGES


@pytest.fixture
def team(make_member):
    return {
        "head": make_member(Role.HEAD_OF_SALES),
        "marketer": make_member(Role.MARKETER),
        "anna": make_member(Role.SALESPERSON, salesperson_kind="hunter"),
        "boris": make_member(Role.SALESPERSON, salesperson_kind="hunter"),
    }


@pytest.fixture
def plan_id(api_for, team) -> int:
    api = api_for(team["head"])
    funnel = api.post("/api/v1/funnels/", {"name": "B2B", "stages": WORKED_STAGES}, format="json")
    body = {
        "funnel": funnel.json()["id"],
        "name": "December",
        **DECEMBER,
        "team": [
            {"membership": team["anna"].pk, "share": "0.5"},
            {"membership": team["boris"].pk, "share": "0.5"},
        ],
    }
    response = api.post("/api/v1/plans/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]

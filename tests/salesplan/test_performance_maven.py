"""Plan vs fact on real data: the Maven CRM data set imported through the API as it is (dollars
summed as the organization's money, no conversion), a June 2017 plan whose pie gives every
agent a slice of revenue and of the paid deals, recomputed; the stored numbers read through
GET /api/v1/plans/{id}/performance/ are checked against pandas reading the CSV on its own.

What a won deal is, on both sides: a deal is won on its lead's first payment's local day
(metrics.actuals). The data set has one row per opportunity, a won one paid once, on its
close_date (a date, midnight in the organization's time zone): so on the pandas side a won
deal of June is a row with deal_stage Won and close_date in June, its revenue close_value.
"""

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pandas as pd
import pytest

from salesplan.models import Role, Team
from salesplan.plans.demo import DATA_DIR
from salesplan.plans.performance import plan_performance_refresh
from tests.funnel.jobs import media, post_job, ru_funnel, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]
__all__ = ["media", "ru_funnel"]

PIPELINE = DATA_DIR / "sales_pipeline.csv"
TEAMS = DATA_DIR / "sales_teams.csv"
MONTH_START, MONTH_END = date(2017, 6, 1), date(2017, 6, 30)
PAID = "stage_volume:4"  # the last stage of tests/funnel/jobs.py's funnel: the plan's deals
SHARE_PLACES = 6  # the API's share fields


# --- the pandas side: the CSV files only, nothing of the app --------------------------------


def expected_june() -> pd.DataFrame:
    """Won deals and revenue per agent in June 2017, every agent of sales_teams.csv (zeros
    for those without a deal), with their manager."""
    pipeline = pd.read_csv(PIPELINE, parse_dates=["close_date"])
    assert pipeline["opportunity_id"].is_unique  # one payment per won deal: its first
    won = pipeline[
        (pipeline["deal_stage"] == "Won")
        & (pipeline["close_date"] >= pd.Timestamp(MONTH_START))
        & (pipeline["close_date"] <= pd.Timestamp(MONTH_END))
    ]
    per_agent = won.groupby("sales_agent").agg(
        deals=("opportunity_id", "size"), revenue=("close_value", "sum")
    )
    teams = pd.read_csv(TEAMS).set_index("sales_agent")
    table = teams.join(per_agent).fillna({"deals": 0, "revenue": 0})
    assert per_agent.index.isin(teams.index).all()  # every June agent has a manager
    table["deals"] = table["deals"].astype(int)
    table["revenue"] = [Decimal(str(value)) for value in table["revenue"]]
    return table


# --- the app side: people, import, plan, pie through the API ---------------------------------


def equal_shares(count: int) -> list[str]:
    """`count` shares of 6 decimals adding up to exactly 1 (the first ones get the rest)."""
    unit = 10**SHARE_PLACES
    base, rest = divmod(unit, count)
    return [str(Decimal(base + (1 if i < rest else 0)) / unit) for i in range(count)]


@pytest.fixture
def people(make_member) -> dict[str, Any]:
    """Each manager of sales_teams.csv a head of sales leading a team of their agents, each
    agent a salesperson named as the pipeline names them (that is how the import finds
    them); and the owner who imports and plans."""
    teams = pd.read_csv(TEAMS)
    agents, heads = {}, []
    for (manager, office), rows in teams.groupby(["manager", "regional_office"]):
        first, last = manager.split(" ", 1)
        head = make_member(Role.HEAD_OF_SALES, user__first_name=first, user__last_name=last)
        heads.append(head)
        team = Team.objects.create(
            organization=head.organization, name=f"{office}: {manager}", head=head
        )
        head.team = team
        head.save(update_fields=["team"])
        for agent in rows["sales_agent"]:
            first, last = agent.split(" ", 1)
            agents[agent] = make_member(
                Role.SALESPERSON, team=team, user__first_name=first, user__last_name=last
            )
    return {"owner": make_member(Role.OWNER), "agents": agents, "heads": heads}


def import_maven(api: Any, funnel: Any, capture: Any) -> None:
    body = upload(api, funnel, PIPELINE)
    assert body["preset"] == "maven"
    stage_map = {stage["value"]: stage["maps_to"] for stage in body["preview"]["crm_stages"]}
    response = post_job(api, capture, body["id"], "confirm", stage_map=stage_map)
    assert response.status_code == 202, response.json()
    job = api.get(f"/api/v1/imports/{body['id']}/").json()
    assert job["status"] == "done", job
    assert job["counts"]["leads"]["inserted"] == 8800


def create_june_plan(api: Any, funnel: Any, agents: list[Any]) -> int:
    """A department plan for June 2017 shared equally by the agents; on its pie the paid
    deals are split among them by default, and revenue and the average check are split the
    same way here, so each agent has a personal row of each."""
    team = [
        {"membership": member.pk, "share": share}
        for member, share in zip(agents, equal_shares(len(agents)), strict=True)
    ]
    response = api.post(
        "/api/v1/plans/",
        {
            "funnel": funnel.pk,
            "name": "June 2017",
            "revenue_target": "1200000",
            "average_check": "2500",
            "period_start": MONTH_START.isoformat(),
            "period_end": MONTH_END.isoformat(),
            "team": team,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    plan_id = response.json()["id"]
    pie = api.get(f"/api/v1/plans/{plan_id}/pie/").json()
    by_key = {metric["key"]: metric for owner in pie["owners"] for metric in owner["metrics"]}
    assert {part["membership"] for part in by_key[PAID]["split"]} == {m.pk for m in agents}
    for key in ("revenue", "average_check"):
        split = api.post(
            f"/api/v1/plans/{plan_id}/responsibilities/{by_key[key]['responsibility']}/split/",
            {"members": team},
            format="json",
        )
        assert split.status_code == 200, split.json()
    return plan_id


@pytest.fixture
def june(api_for, people, ru_funnel, django_capture_on_commit_callbacks) -> dict[str, Any]:
    """Given the Maven people, the data set imported through the API and a June 2017 plan,
    when its plan vs fact is recomputed (what the job runs): the rows the API answers for
    30 June by (metric key, owner id or None for the department)."""
    api = api_for(people["owner"])
    import_maven(api, ru_funnel, django_capture_on_commit_callbacks)
    agents = people["agents"]
    plan_id = create_june_plan(api, ru_funnel, list(agents.values()))
    assert plan_performance_refresh(plan_id=plan_id, today=MONTH_END) > 0
    response = api.get(f"/api/v1/plans/{plan_id}/performance/?date={MONTH_END.isoformat()}")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["day"] == MONTH_END.isoformat()
    rows = {
        (row["key"], row["owner"]["id"] if row["owner"] else None): row for row in body["metrics"]
    }
    return {"rows": rows, "agents": agents, "heads": people["heads"]}


def actual(rows: dict, key: str, owner: int | None) -> Decimal:
    return Decimal(rows[(key, owner)]["actual_to_date"])


def won_deals(rows: dict, owner: int | None) -> int:
    """Won deals as the engine counts them (first payments), read back from the average
    check it stored (revenue ÷ won deals, 6 decimals): the count whose check that is."""
    check = rows[("average_check", owner)]["actual_to_date"]
    revenue = Fraction(actual(rows, "revenue", owner))
    if check is None:  # no deal: no average check (not assessed)
        assert revenue == 0
        return 0
    deals = round(revenue / Fraction(check))
    assert abs(revenue / deals - Fraction(check)) <= Fraction(1, 2 * 10**6)
    return deals


def test_maven_june_revenue_and_won_deals_match_pandas(june):
    rows, agents = june["rows"], june["agents"]
    expected = expected_june()
    # then the department's revenue and won deals are pandas' (nobody unassigned in Maven)
    assert actual(rows, "revenue", None) == sum(expected["revenue"]) == Decimal(1338466)
    assert won_deals(rows, None) == expected["deals"].sum() == 531
    # each agent's personal slice is their own June, zeros for those without a deal
    ours = pd.DataFrame(
        [
            {
                "sales_agent": name,
                "revenue": actual(rows, "revenue", member.pk),
                "deals": won_deals(rows, member.pk),
            }
            for name, member in agents.items()
        ]
    ).set_index("sales_agent")
    assert len(ours) == len(expected) == 35
    assert (ours["deals"] > 0).sum() == 30
    assert ours["revenue"].to_dict() == expected["revenue"].to_dict()
    assert ours["deals"].to_dict() == expected["deals"].to_dict()
    # each manager's, the sum of their agents' slices, is pandas' per manager
    ours["manager"] = expected["manager"]
    totals = {"revenue": ("revenue", "sum"), "deals": ("deals", "sum")}
    assert (
        ours.groupby("manager").agg(**totals).to_dict()
        == expected.groupby("manager").agg(**totals).to_dict()
    )
    # a head of sales has no personal slice (DOMAIN idea 5), and no agent is left out
    owners = {owner for _, owner in rows if owner is not None}
    assert owners == {member.pk for member in agents.values()}
    assert not owners & {head.pk for head in june["heads"]}


def test_maven_june_paid_stage_counts_the_deals_won_in_june(june):
    rows, agents = june["rows"], june["agents"]
    expected = expected_june()
    # then the plan's deals (the paid stage's volume) are the deals won in June
    assert actual(rows, PAID, None) == int(expected["deals"].sum())
    paid = {name: int(actual(rows, PAID, member.pk)) for name, member in agents.items()}
    assert paid == expected["deals"].to_dict()

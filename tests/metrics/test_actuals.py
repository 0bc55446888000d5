"""Actual-to-date figures from the actuals: local days, stages once per lead, who is credited,
the head of sales' deals for the department only, nothing of another organization."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from django.core.files import File
from django.db import connection, transaction

from funnel.ingest.loader import load_frames
from funnel.models import Payment
from funnel.services import imports, uploads
from metrics.actuals import (
    ActualsFrame,
    actuals_by_day,
    actuals_by_day_beside,
    cumulative_to,
    running_totals,
)
from salesplan.models import Membership, Role
from salesplan.plans.demo import DATA_DIR, seed_funnel, seed_people
from tests.factories import FunnelFactory, OrganizationFactory
from tests.funnel.frames import frame, lead

pytestmark = pytest.mark.django_db

JANUARY, FEBRUARY_END = date(2026, 1, 1), date(2026, 2, 28)


def _load(organization, funnel, **frames: pd.DataFrame) -> None:
    with transaction.atomic():
        result = load_frames(organization=organization, funnel=funnel, source="api", frames=frames)
    assert result.errors == []


def _deal(line: int, external_id: str, who: str, created: str, **extra) -> dict:
    stage = extra.pop("stage", None)
    return lead(line, external_id, stage, responsible=who, created_at=created, **extra)


def _won(line, external_id, who, created, paid_at, amount, **extra) -> dict:
    return _deal(
        line,
        external_id,
        who,
        created,
        stage=4,
        stage_at=paid_at,
        won=True,
        amount=amount,
        paid_at=paid_at,
        **extra,
    )


@pytest.fixture
def team(organization, make_member):
    return {
        "anna": make_member(Role.SALESPERSON),
        "boris": make_member(Role.SALESPERSON),
        "head": make_member(Role.HEAD_OF_SALES),
    }


@pytest.fixture
def actuals(organization, funnel, team):
    """January–February 2026 in Moscow: two salespeople, the head of sales, a nobody's lead."""
    anna, boris, head = (team[k].user.email for k in ("anna", "boris", "head"))
    leads = frame(
        "leads",
        [
            # reached "Meeting held" (position 3): counts for positions 0–3
            _deal(
                1,
                "L1",
                anna,
                "2026-01-10 10:00+03:00",
                stage=3,
                stage_at="2026-01-20 12:00+03:00",
                is_target=True,
            ),
            # paid at 23:30 Moscow on 31 January (20:30 UTC): January's
            _won(
                2,
                "L2",
                anna,
                "2026-01-12 09:00+03:00",
                "2026-01-31 23:30+03:00",
                "100000.00",
                gross_margin="30000.00",
                is_new_client=True,
                is_target=True,
            ),
            # paid at 00:30 Moscow on 1 February (21:30 UTC on 31 January): February's
            _won(
                3,
                "L3",
                boris,
                "2026-01-15 09:00+03:00",
                "2026-02-01 00:30+03:00",
                "50000.00",
                gross_margin="10000.00",
                is_new_client=False,
            ),
            # the head of sales' own deal (paid below, the bonus credited to Anna)
            _deal(
                4, "L4", head, "2026-01-05 09:00+03:00", stage=3, stage_at="2026-01-24 10:00+03:00"
            ),
            # nobody we know is responsible
            _deal(5, "L5", "Someone Unknown", "2026-01-20 09:00+03:00", is_target=False),
        ],
    )
    payments = frame(
        "payments",
        [
            {
                "line": 1,
                "external_id": "P4",
                "lead_external_id": "L4",
                "amount": "70000.00",
                "paid_at": "2026-01-25 12:00+03:00",
                "is_new_client": True,
                "credited": anna,
            },
            # a second payment of L2: revenue, not a second won deal
            {
                "line": 2,
                "external_id": "P2b",
                "lead_external_id": "L2",
                "amount": "20000.00",
                "paid_at": "2026-02-03 12:00+03:00",
                "is_new_client": False,
                "credited": anna,
            },
        ],
    )
    spend = frame(
        "spend",
        [
            {"line": 1, "channel": "Яндекс Директ", "date": "2026-01-10", "amount": "1000.50"},
            {"line": 2, "channel": "Сайт", "date": "2026-01-10", "amount": "500.00"},
            {"line": 3, "channel": "Сайт", "date": "2026-03-01", "amount": "999.00"},
        ],
    )
    calls = frame(
        "calls",
        [
            {"line": 1, "external_id": "C1", "member": anna, "lead_external_id": "L1",
             "at": "2026-01-10 11:00+03:00", "connected": True},
            {"line": 2, "external_id": "C2", "member": anna, "lead_external_id": "L1",
             "at": "2026-01-11 11:00+03:00", "connected": False},
        ],
    )  # fmt: skip
    tasks = frame(
        "tasks",
        [
            # done a day late: overdue
            {"line": 1, "external_id": "T1", "member": anna, "lead_external_id": "L1",
             "due_at": "2026-01-15 18:00+03:00", "done_at": "2026-01-16 10:00+03:00"},
            # done in time
            {"line": 2, "external_id": "T2", "member": anna, "lead_external_id": "L1",
             "due_at": "2026-01-16 18:00+03:00", "done_at": "2026-01-16 10:00+03:00"},
            # never done: overdue
            {"line": 3, "external_id": "T3", "member": anna, "lead_external_id": "L1",
             "due_at": "2026-01-20 18:00+03:00", "done_at": None},
        ],
    )  # fmt: skip
    _load(organization, funnel, leads=leads, payments=payments)
    _load(organization, funnel, spend=spend, calls=calls, tasks=tasks)
    # another organization's deal and spend in the same days must never show
    other = OrganizationFactory(name="Other")
    other_funnel = FunnelFactory(organization=other, name="B2B")
    stranger = Membership.objects.create(
        organization=other, user=team["anna"].user, role=Role.SALESPERSON
    )
    _load(
        other,
        other_funnel,
        leads=frame(
            "leads",
            [
                _won(
                    1,
                    "L2",
                    stranger.user.email,
                    "2026-01-12 09:00+03:00",
                    "2026-01-20 12:00+03:00",
                    "999999.00",
                )
            ],
        ),
        spend=frame(
            "spend", [{"line": 1, "channel": "Сайт", "date": "2026-01-10", "amount": "777.00"}]
        ),
    )
    return actuals_by_day(organization=organization, funnel=funnel, start=JANUARY, end=FEBRUARY_END)


def test_payments_fall_on_moscow_days(actuals, team):
    # given a payment at 23:30 Moscow on 31 January and one at 00:30 on 1 February
    rows = actuals.rows.set_index(["member_id", "day"])
    # then the first is Anna's on 31 January, the second Boris's on 1 February
    assert rows.loc[(team["anna"].pk, date(2026, 1, 31)), "revenue"] == Decimal("100000.00")
    assert rows.loc[(team["boris"].pk, date(2026, 2, 1)), "revenue"] == Decimal("50000.00")
    assert (team["boris"].pk, date(2026, 1, 31)) not in rows.index
    # and January to date holds the first, not the second
    january = cumulative_to(actuals, date(2026, 1, 31))
    assert january.member(team["anna"].pk)["revenue"] == Decimal("100000.00")
    assert january.member(team["boris"].pk)["revenue"] == Decimal(0)
    assert january.member(team["boris"].pk)["won_deals"] == 0


def test_a_stage_counts_once_per_lead_and_implies_the_ones_above(actuals, team):
    # when the month is summed
    total = cumulative_to(actuals, FEBRUARY_END)
    anna = total.member(team["anna"].pk)
    # then L1 (meeting held) and L2 (paid) count for every stage up to theirs, once each
    assert [anna[f"stage:{p}"] for p in range(5)] == [2, 2, 2, 2, 1]
    # the department: five leads; L1–L4 reached meeting held; L2 and L3 paid
    assert [total.department[f"stage:{p}"] for p in range(5)] == [5, 4, 4, 4, 2]
    # L1's stages above the first are on the day it reached meeting held, the first on creation
    rows = actuals.rows.set_index(["member_id", "day"])
    assert rows.loc[(team["anna"].pk, date(2026, 1, 10)), "stage:0"] == 1
    assert rows.loc[(team["anna"].pk, date(2026, 1, 20)), ["stage:1", "stage:3"]].tolist() == [
        1,
        1,
    ]


def test_the_head_of_sales_deal_counts_for_the_department_only(actuals, team):
    # given the head of sales' deal L4, paid in January with the bonus credited to Anna
    january = cumulative_to(actuals, date(2026, 1, 31))
    # then it is in the department's revenue and in nobody's personal slice
    assert january.department["revenue"] == Decimal("170000.00")
    assert january.department["won_deals"] == 2
    assert january.unassigned["revenue"] == Decimal("70000.00")
    assert january.member(team["anna"].pk)["revenue"] == Decimal("100000.00")
    assert team["head"].pk not in january.by_member
    # the head of sales' lead and the unknown person's are the department's leads only
    assert january.unassigned["leads"] == 2
    assert january.unassigned["stage:3"] == 1


def test_to_date_totals_per_member_and_department(actuals, team):
    total = cumulative_to(actuals, FEBRUARY_END)
    anna, boris = total.member(team["anna"].pk), total.member(team["boris"].pk)
    department = total.department
    # leads and target leads by creation day
    assert (department["leads"], department["target_leads"]) == (5, 2)
    assert (anna["leads"], boris["leads"]) == (2, 1)
    # a second payment of L2 is revenue, not a second won deal
    assert (anna["won_deals"], anna["revenue"]) == (1, Decimal("120000.00"))
    assert (department["won_deals"], department["revenue"]) == (3, Decimal("240000.00"))
    assert department["gross_margin"] == Decimal("40000.00")
    # new clients: L2 and L4 paid as new; existing clients' revenue: L3 and L2's second payment
    assert department["new_clients"] == 2
    assert department["new_client_revenue"] == Decimal("170000.00")
    assert department["existing_client_revenue"] == Decimal("70000.00")
    assert boris["existing_client_revenue"] == Decimal("50000.00")
    # spend is the department's, within the period, this organization's only
    assert department["marketing_spend"] == Decimal("1500.50")
    assert total.unassigned["marketing_spend"] == Decimal("1500.50")
    # calls and tasks
    assert (anna["calls"], anna["missed_calls"]) == (2, 1)
    assert (anna["tasks_due"], anna["overdue_tasks"]) == (3, 2)
    # money stays exact decimal
    assert all(isinstance(department[c], Decimal) for c in ("revenue", "marketing_spend"))


def test_running_totals_give_actual_to_date_for_every_day(actuals, team):
    running = running_totals(actuals).set_index(["member_id", "day"])
    anna = team["anna"].pk
    assert running.loc[(anna, date(2026, 1, 30)), "revenue"] == Decimal(0)
    assert running.loc[(anna, date(2026, 1, 31)), "revenue"] == Decimal("100000.00")
    assert running.loc[(anna, FEBRUARY_END), "revenue"] == Decimal("120000.00")
    # the department on a day is the sum over every row of that day, nobody's included
    last = running.xs(FEBRUARY_END, level="day")
    assert last["revenue"].sum() == Decimal("240000.00")
    assert last["stage:0"].sum() == 5
    assert len(running) == len(set(actuals.rows["member_id"].tolist())) * 59


def test_another_organization_sees_only_its_own(actuals, team):
    other = OrganizationFactory._meta.model.objects.get(name="Other")
    theirs = actuals_by_day(
        organization=other, funnel=other.funnels.get(), start=JANUARY, end=FEBRUARY_END
    )
    total = cumulative_to(theirs, FEBRUARY_END)
    assert total.department["revenue"] == Decimal("999999.00")
    assert total.department["marketing_spend"] == Decimal("777.00")
    assert total.department["leads"] == 1


def test_a_constant_number_of_queries(organization, funnel, actuals, django_assert_num_queries):
    # the stages, the heads of sales, then one aggregate per kind of actual, whatever the volume
    # (on PostgreSQL two more: the aggregates' memory and JIT settings, for the stage events'
    # query and for the others); the lost deals are the seventh aggregate
    with django_assert_num_queries(11 if connection.vendor == "postgresql" else 9):
        actuals_by_day(organization=organization, funnel=funnel, start=JANUARY, end=FEBRUARY_END)


@pytest.mark.django_db(transaction=True)
def test_the_queries_run_side_by_side_read_the_same_actuals(organization, funnel, actuals):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent reads are PostgreSQL's (SQLite reads them one after another)")
    # given committed actuals (other connections see only what is committed)
    one_by_one = actuals_by_day(
        organization=organization, funnel=funnel, start=JANUARY, end=FEBRUARY_END
    )
    assert one_by_one.rows["stage:0"].sum() > 0 and one_by_one.rows["revenue"].sum() > 0
    # when the aggregate queries run at once on connections of their own
    side_by_side = actuals_by_day(
        organization=organization,
        funnel=funnel,
        start=JANUARY,
        end=FEBRUARY_END,
        concurrent=True,
    )
    # then every figure is the same, member by member and day by day
    pd.testing.assert_frame_equal(one_by_one.rows, side_by_side.rows)
    # and the same when every query runs off this connection (the recompute deletes on it
    # meanwhile)
    beside = actuals_by_day_beside(
        organization=organization, funnel=funnel, start=JANUARY, end=FEBRUARY_END
    ).result(timeout=60)
    pd.testing.assert_frame_equal(one_by_one.rows, beside.rows)


def test_no_actuals_is_an_empty_frame(organization, funnel):
    empty = actuals_by_day(organization=organization, funnel=funnel, start=JANUARY, end=JANUARY)
    assert isinstance(empty, ActualsFrame)
    assert empty.rows.empty
    total = cumulative_to(empty, JANUARY)
    assert total.department["revenue"] == Decimal(0)
    assert total.department["stage:0"] == 0
    assert total.by_member == {}


# --- the Maven CRM data set, checked against pandas reading the CSV on its own -----------------

MAVEN = Path(DATA_DIR) / "sales_pipeline.csv"


def test_maven_won_revenue_and_deals_per_salesperson_match_pandas():
    # given the Maven people and the data set imported as it is, through the real import path
    organization, _ = seed_people()
    funnel = seed_funnel(organization)
    owner = Membership.objects.get(organization=organization, role=Role.OWNER)
    with open(MAVEN, "rb") as handle:
        job = uploads.import_create(
            membership=owner,
            funnel=funnel,
            uploaded=File(handle, name="sales_pipeline.csv"),
            preset="maven",
            wait=True,
        )
    imports.import_confirm(job=job, settings=imports.ImportSettings(), wait=True)
    assert Payment.objects.filter(organization=organization).exists()
    # when June 2017's actuals are read
    month = actuals_by_day(
        organization=organization, funnel=funnel, start=date(2017, 6, 1), end=date(2017, 6, 30)
    )
    total = cumulative_to(month, date(2017, 6, 30))
    names = {
        m.pk: m.user.get_full_name()
        for m in Membership.objects.filter(organization=organization).select_related("user")
    }
    ours = {
        names[member]: (figures["won_deals"], figures["revenue"])
        for member, figures in total.by_member.items()
        if figures["won_deals"]
    }
    # then pandas, reading the CSV by itself, finds the same deals and revenue per agent
    pipeline = pd.read_csv(MAVEN, parse_dates=["close_date"])
    won = pipeline[
        (pipeline["deal_stage"] == "Won")
        & (pipeline["close_date"] >= "2017-06-01")
        & (pipeline["close_date"] <= "2017-06-30")
    ]
    expected = {
        agent: (len(deals), Decimal(int(deals["close_value"].sum())))
        for agent, deals in won.groupby("sales_agent")
    }
    assert len(expected) > 20
    assert ours == expected
    assert total.department["revenue"] == Decimal(int(won["close_value"].sum()))
    assert total.unassigned["revenue"] == Decimal(0)

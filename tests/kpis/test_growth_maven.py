"""Growth against the same month last year on real data: the Maven CRM data set's won deals of
May–July 2017 (DOMAIN section 5) stored as last year's payments (each on its close date, at
midnight in the organization's time zone, as the Maven import stores them), and a head of
sales' June 2018 and July 2018. The data set's won deals (sales_pipeline.csv, deal_stage Won):

    2017-05: 438 deals, 1 025 713        2017-06: 531 deals, 1 338 466
    2017-07: 308 deals,   696 932

(sums of close_value, read from the CSV by hand). Only the same month counts: June 2018 is
compared with June 2017, not with May or July."""

import csv
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from funnel.models import Lead, Payment, Source
from salesplan.kpis import services
from salesplan.kpis.models import BaseBonus, FigureKey, KpiFigure
from salesplan.kpis.selectors import member_scorecard
from salesplan.models import Role
from salesplan.plans.demo import DATA_DIR
from salesplan.plans.performance import plan_performance_refresh
from tests.factories import PaymentFactory, PlanFactory

pytestmark = pytest.mark.django_db

D = Decimal
JUNE_2017 = D(1338466)
JULY_2017 = D(696932)


def _store_maven_won(funnel, months: set[str]) -> int:
    """The data set's won deals closed in `months` ("2017-06") as leads with one payment."""
    zone = ZoneInfo(funnel.organization.time_zone)
    with open(DATA_DIR / "sales_pipeline.csv", encoding="utf-8", newline="") as handle:
        rows = [
            row
            for row in csv.DictReader(handle)
            if row["deal_stage"] == "Won" and row["close_date"][:7] in months
        ]
    leads = Lead.objects.bulk_create(
        Lead(
            organization=funnel.organization,
            funnel=funnel,
            source=Source.MAVEN,
            external_id=row["opportunity_id"],
            created_at=datetime.fromisoformat(row["engage_date"]).replace(tzinfo=zone),
            company=row["account"],
        )
        for row in rows
    )
    Payment.objects.bulk_create(
        Payment(
            organization=funnel.organization,
            lead=lead,
            source=Source.MAVEN,
            external_id=row["opportunity_id"],
            amount=D(row["close_value"]),
            paid_at=datetime.fromisoformat(row["close_date"]).replace(tzinfo=zone),
        )
        for lead, row in zip(leads, rows, strict=True)
    )
    return len(rows)


@pytest.fixture
def head(make_member):
    head = make_member(Role.HEAD_OF_SALES)
    BaseBonus.objects.create(organization=head.organization, member=head, amount=D(100000))
    return head


def _plan(organization, funnel, month: int, days: int):
    return PlanFactory(
        organization=organization,
        funnel=funnel,
        name=f"2018-{month:02}",
        status="active",
        period_start=date(2018, month, 1),
        period_end=date(2018, month, days),
        gross_margin_target=None,
    )


def test_june_2018_against_june_2017(organization, funnel, head):
    # given May, June and July 2017 of the data set as last year's payments
    assert _store_maven_won(funnel, {"2017-05", "2017-06", "2017-07"}) == 438 + 531 + 308
    # and June 2018: three deals of 500 000 ₽ (1 500 000 ₽), the department's plan
    june = _plan(organization, funnel, 6, 30)
    for day in (4, 14, 25):
        PaymentFactory(
            lead__funnel=funnel,
            lead__organization=organization,
            amount=D(500000),
            paid_at=datetime(2018, 6, day, 12, tzinfo=ZoneInfo("Europe/Moscow")),
        )
    # when plan vs fact is recomputed at the month's end, and the KPI figures after it
    plan_performance_refresh(plan_id=june.pk, today=date(2018, 6, 30))
    services.kpi_figures_refresh(plan=june)
    # then last year's June is the data set's June, and only June
    figure = KpiFigure.objects.get(
        organization=organization, period=date(2018, 6, 1), key=FigureKey.LAST_YEAR_REVENUE
    )
    assert figure.value == JUNE_2017
    card = member_scorecard(head, date(2018, 6, 1), today=date(2018, 6, 30))
    growth = next(line for line in card.score.lines if line.metric == "growth")
    # growth's plan: 1 338 466 × 1.1 = 1 472 312.60; 1 500 000 / 1 472 312.60 = 101.8805 %
    assert growth.plan == D("1472312.60")
    assert growth.actual == D(1500000)
    assert growth.fulfilment == D("1.018805")
    # 1 500 000 / 1 338 466 − 1 = 12.07 % growth
    assert card.growth["growth"] == D("0.1207")
    # department revenue 1 500 000 of 1 000 000 (150 %: capped at 120 %), no gross margin
    # plan (nothing), growth 101.8805 %:
    # 100 000 × (0.5 × 1.2 + 0.25 × 0 + 0.25 × 1.018805) = 100 000 × 0.85470125 = 85 470.13
    assert card.score.bonus_to_date == D("85470.13")


def test_july_is_compared_with_july(organization, funnel, head):
    _store_maven_won(funnel, {"2017-06", "2017-07"})
    july = _plan(organization, funnel, 7, 31)
    services.kpi_figures_refresh(plan=july)
    figure = KpiFigure.objects.get(
        organization=organization, period=date(2018, 7, 1), key=FigureKey.LAST_YEAR_REVENUE
    )
    assert figure.value == JULY_2017


def test_no_sales_last_year_leaves_growth_without_a_plan(organization, funnel, head):
    june = _plan(organization, funnel, 6, 30)
    services.kpi_figures_refresh(plan=june)
    card = member_scorecard(head, date(2018, 6, 1), today=date(2018, 6, 30))
    growth = next(line for line in card.score.lines if line.metric == "growth")
    assert growth.plan is None and growth.payout == 0
    assert card.notes["growth"] == "no_last_year"

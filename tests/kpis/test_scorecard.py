"""Scorecards read from the stored plan vs fact: a hunter, the head of sales whose deal's bonus
is given to the hunter (counted in the hunter's scorecard, still the department's), a farmer's
retention; the API, the page, who sees whose scorecard, and the schemes' editing. Every
expected figure is worked out by hand in the comments.

The worked example's December plan (tests/worked_example.py): revenue 1 000 000 ₽, average
check 50 000 ₽ → 20 deals (new clients), gross margin target 300 000 ₽; 22 working days, 11
passed on 15 December, so a sum's forecast is twice its actual to date."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from funnel.models import Spend, StageEvent
from metrics.models import PerformanceSnapshot
from responsibility.models import Responsibility
from salesplan.kpis import services
from salesplan.kpis.models import BaseBonus, BonusRecipient, KpiFigure, KpiScheme
from salesplan.kpis.selectors import member_scorecard
from salesplan.models import Role, SalespersonKind, Team
from salesplan.plans.performance import plan_performance_refresh
from tests.factories import (
    LeadFactory,
    MembershipFactory,
    OrganizationFactory,
    PaymentFactory,
    PlanFactory,
)

pytestmark = pytest.mark.django_db

D = Decimal
DECEMBER = date(2026, 12, 1)
MID_DECEMBER = date(2026, 12, 15)


def _at(day: int, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, 9, tzinfo=UTC)


@pytest.fixture
def shop(organization, make_member):
    """An owner; a head of sales leading a team of a hunter and a farmer; another head of
    sales of another team with a salesperson; a marketer; the team's December plan with the
    hunter's share 1, whose revenue, new clients and gross margin are the hunter's on the
    pie; base bonuses."""
    owner = make_member(Role.OWNER)
    head = make_member(Role.HEAD_OF_SALES)
    other_head = make_member(Role.HEAD_OF_SALES)
    team = Team.objects.create(organization=organization, name="South", head=head)
    other_team = Team.objects.create(organization=organization, name="North", head=other_head)
    hunter = make_member(Role.SALESPERSON, team=team, salesperson_kind=SalespersonKind.HUNTER)
    farmer = make_member(Role.SALESPERSON, team=team, salesperson_kind=SalespersonKind.FARMER)
    other_seller = make_member(Role.SALESPERSON, team=other_team)
    marketer = make_member(Role.MARKETER)
    plan = PlanFactory(
        organization=organization,
        sales_team=team,
        status="active",
        gross_margin_target=D(300000),
        team=[(hunter, "1")],
    )
    for key in ("revenue", "new_clients", "gross_margin"):
        top = Responsibility.objects.get(plan=plan, metric__key=key, parent=None)
        Responsibility.objects.filter(parent=top).delete()
        Responsibility.objects.create(
            plan=plan, metric=top.metric, owner=hunter, parent=top, share=D(1)
        )
    for member, amount in ((hunter, 60000), (head, 100000), (farmer, 30000)):
        BaseBonus.objects.create(organization=organization, member=member, amount=D(amount))
    return {
        "owner": owner,
        "head": head,
        "other_head": other_head,
        "hunter": hunter,
        "farmer": farmer,
        "other_seller": other_seller,
        "marketer": marketer,
        "plan": plan,
    }


def _pay(
    funnel, responsible, amount, day, *, margin=None, new=True, company="", month=12, year=2026
):
    return PaymentFactory(
        lead__funnel=funnel,
        lead__organization=funnel.organization,
        lead__responsible=responsible,
        lead__company=company,
        amount=D(amount),
        gross_margin=None if margin is None else D(margin),
        is_new_client=new,
        paid_at=_at(day, month, year),
    )


@pytest.fixture
def december(shop):
    """Eight hunter deals of 50 000 ₽ (margin 15 000 ₽, new clients) on 10 December; the
    head of sales' own deal of 100 000 ₽ (margin 30 000 ₽) on 12 December; last December's
    department revenue 800 000 ₽; recomputed on 15 December."""
    funnel = shop["plan"].funnel
    for _ in range(8):
        _pay(funnel, shop["hunter"], 50000, 10, margin=15000)
    head_deal = _pay(funnel, shop["head"], 100000, 12, margin=30000)
    _pay(funnel, shop["hunter"], 800000, 10, year=2025)
    plan_performance_refresh(plan_id=shop["plan"].pk, today=MID_DECEMBER)
    services.kpi_figures_refresh(plan=shop["plan"])
    return {**shop, "head_deal": head_deal}


def _line(card, metric):
    return next(line for line in card.score.lines if line.metric == metric)


def _department_revenue(plan):
    row = PerformanceSnapshot.objects.get(
        plan=plan, day=MID_DECEMBER, metric__key="revenue", owner=None
    )
    return row.actual_to_date, row.forecast


def test_hunter_scorecard_from_the_snapshots(december):
    # given the hunter's 8 deals; when their scorecard is read on 15 December
    card = member_scorecard(december["hunter"], DECEMBER, today=MID_DECEMBER)
    # then each KPI's plan is their share (1) of the plan, the actuals are theirs only
    assert card.day == MID_DECEMBER
    assert [(line.metric, line.plan, line.actual, line.forecast) for line in card.score.lines] == [
        ("new_clients", D(20), D(8), D(16)),
        ("turnover", D("1000000.00"), D(400000), D(800000)),
        ("gross_margin", D("300000.00"), D(120000), D(240000)),
    ]
    # to date every KPI is at 40 % (below 80 %: nothing); at this pace 80 % each (0.8 × 1.0)
    assert card.score.bonus_to_date == D("0.00")
    # 60 000 × (0.4 × 0.8 + 0.4 × 0.8 + 0.2 × 0.8) = 48 000
    assert card.score.bonus_forecast == D("48000.00")


def test_head_scorecard_with_growth_against_last_year(december):
    # given the department's December: 8 × 50 000 + 100 000 = 500 000 ₽ to date (forecast
    # 1 000 000), margin 150 000 (forecast 300 000); last December 800 000 ₽
    card = member_scorecard(december["head"], DECEMBER, today=MID_DECEMBER)
    lines = {line.metric: line for line in card.score.lines}
    assert (lines["department_revenue"].actual, lines["department_revenue"].forecast) == (
        D(500000),
        D(1000000),
    )
    # growth's plan: 800 000 × 1.1 = 880 000; forecast 1 000 000 / 880 000 = 113.6364 %
    assert lines["growth"].plan == D("880000.00")
    assert lines["growth"].fulfilment_forecast == D("1.136364")
    assert card.growth["last_year_revenue"] == D(800000)
    # to date: 50 %, 50 %, 56.8 %: nothing. At this pace:
    # 100 000 × (0.5 × 1 + 0.25 × 1 + 0.25 × 1.136364) = 103 409.10
    assert card.score.bonus_to_date == D("0.00")
    assert card.score.bonus_forecast == D("103409.10")


def test_the_heads_deal_given_to_the_hunter_counts_for_both(december, api_for):
    # given the head of sales' 100 000 ₽ deal; when they give its bonus to the hunter
    head, hunter = december["head"], december["hunter"]
    payment = december["head_deal"]
    response = api_for(head).post(
        f"/api/v1/payments/{payment.pk}/bonus-recipient/", {"recipient": hunter.pk}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["recipient"] == hunter.pk
    assert response.json()["history"][0]["chosen_by"] == head.pk
    # and plan vs fact is recomputed
    plan_performance_refresh(plan_id=december["plan"].pk, today=MID_DECEMBER)
    # then the department still counts it: 500 000 to date
    assert _department_revenue(december["plan"]) == (D(500000), D(1000000))
    # and the hunter's scorecard lists it and counts it: turnover 400 000 + 100 000,
    # new clients 9, margin 150 000; forecast 900 000, 17, 270 000
    card = member_scorecard(hunter, DECEMBER, today=MID_DECEMBER)
    assert [deal.payment_id for deal in card.given] == [payment.pk]
    assert [(line.actual, line.forecast) for line in card.score.lines] == [
        (D(9), D(17)),
        (D(500000), D(900000)),
        (D(150000), D(270000)),
    ]
    # 60 000 × (0.4 × 0.85 + 0.4 × 0.9 + 0.2 × 0.9) = 60 000 × 0.88 = 52 800
    assert card.score.bonus_forecast == D("52800.00")
    # the hunter's own snapshot is unchanged: the deal is not theirs in plan vs fact
    own = PerformanceSnapshot.objects.get(
        plan=december["plan"], day=MID_DECEMBER, metric__key="revenue", owner=hunter
    )
    assert own.actual_to_date == D(400000)


def test_the_latest_choice_wins_and_the_history_is_kept(december, api_for):
    head, hunter, farmer = december["head"], december["hunter"], december["farmer"]
    payment = december["head_deal"]
    url = f"/api/v1/payments/{payment.pk}/bonus-recipient/"
    api_for(head).post(url, {"recipient": hunter.pk}, format="json")
    response = api_for(december["owner"]).post(url, {"recipient": farmer.pk}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["recipient"] == farmer.pk
    assert [(h["recipient"], h["chosen_by"], h["is_current"]) for h in body["history"]] == [
        (farmer.pk, december["owner"].pk, True),
        (hunter.pk, head.pk, False),
    ]
    assert member_scorecard(hunter, DECEMBER, today=MID_DECEMBER).given == ()
    assert BonusRecipient.objects.filter(payment=payment).count() == 2


def test_only_a_heads_deal_to_an_active_salesperson(december, api_for):
    head = december["head"]
    hunter_payment = PaymentFactory(
        lead__funnel=december["plan"].funnel,
        lead__organization=head.organization,
        lead__responsible=december["hunter"],
    )
    api = api_for(head)
    # a salesperson's own deal is not given
    response = api.post(
        f"/api/v1/payments/{hunter_payment.pk}/bonus-recipient/",
        {"recipient": december["farmer"].pk},
        format="json",
    )
    assert response.status_code == 400 and "payment" in response.json()
    url = f"/api/v1/payments/{december['head_deal'].pk}/bonus-recipient/"
    # nor to the marketer, an inactive salesperson, or another organization's
    december["farmer"].is_active = False
    december["farmer"].save(update_fields=["is_active"])
    stranger = MembershipFactory(organization=OrganizationFactory(), role=Role.SALESPERSON)
    for recipient in (december["marketer"].pk, december["farmer"].pk, stranger.pk, "x", None):
        response = api.post(url, {"recipient": recipient}, format="json")
        assert response.status_code == 400, recipient
        assert "recipient" in response.json()
    # another head of sales may not give this head's deal; a salesperson may not either
    response = api_for(december["other_head"]).post(
        url, {"recipient": december["hunter"].pk}, format="json"
    )
    assert response.status_code == 403
    response = api_for(december["hunter"]).post(
        url, {"recipient": december["hunter"].pk}, format="json"
    )
    assert response.status_code == 403
    # another organization's member: 404
    response = api_for(MembershipFactory(role=Role.OWNER)).post(
        url, {"recipient": december["hunter"].pk}, format="json"
    )
    assert response.status_code == 404


def test_the_page_action_gives_the_bonus(december, client_for):
    client = client_for(december["head"])
    page = client.get("/kpi/?period=2026-12")
    assert page.status_code == 200
    assert f'data-payment="{december["head_deal"].pk}"'.encode() in page.content
    response = client.post(
        f"/kpi/payments/{december['head_deal'].pk}/bonus-recipient/",
        {"recipient": december["hunter"].pk, "period": "2026-12"},
    )
    assert response.status_code == 302
    current = BonusRecipient.objects.get(payment=december["head_deal"], is_current=True)
    assert (current.recipient, current.chosen_by) == (december["hunter"], december["head"])


def test_farmer_retention_and_a_typed_plan(shop):
    # given the farmer's clients of November: A, B, C, D; in December A and C buy again
    # (150 000 ₽ from existing clients, credited to the farmer), B buys from the hunter's lead
    # the month after, not in December, and E is a new client of December
    funnel, farmer = shop["plan"].funnel, shop["farmer"]
    for company in ("A", "B", "C", "D"):
        _pay(funnel, farmer, 10000, 15, month=11, company=company, new=False)
    _pay(funnel, farmer, 100000, 3, company="a ", new=False)  # the same company, spelt loosely
    _pay(funnel, farmer, 50000, 20, company="C", new=False)
    _pay(funnel, farmer, 70000, 21, company="E", new=True)
    _pay(funnel, shop["hunter"], 10000, 5, month=1, year=2027, company="B", new=False)
    plan = shop["plan"]
    plan_performance_refresh(plan_id=plan.pk, today=date(2026, 12, 31))
    services.kpi_figures_refresh(plan=plan)
    # and the plan of revenue from existing clients typed by the head of sales: 180 000 ₽
    services.manual_value_set(
        member=farmer,
        period=DECEMBER,
        metric="existing_client_revenue",
        plan="180000",
        actual=None,
        by=shop["head"],
    )
    card = member_scorecard(farmer, DECEMBER, today=date(2026, 12, 31))
    retention = next(line for line in card.score.lines if line.metric == "retention")
    # then retention is 2 of 4 = 50 % against 60 %: 83.3333 %
    assert (retention.plan, retention.actual, retention.fulfilment) == (
        D("0.6"),
        D("0.5"),
        D("0.833333"),
    )
    revenue = next(line for line in card.score.lines if line.metric == "existing_client_revenue")
    assert card.plan is None  # the farmer has no share of the team's plan: typed by hand
    assert revenue.plan == D("180000.00")


def test_scheme_editing_through_the_api(shop, api_for):
    api = api_for(shop["head"])
    schemes = api.get("/api/v1/kpi-schemes/").json()
    assert [s["role"] for s in schemes] == ["marketer", "hunter", "farmer", "head_of_sales"]
    hunter = next(s for s in schemes if s["role"] == "hunter")
    url = f"/api/v1/kpi-schemes/{hunter['id']}/"
    # weights adding up to 90 %: a clear 400 naming the field
    response = api.patch(
        url,
        {
            "items": [
                {"metric": "turnover", "weight": "60"},
                {"metric": "new_clients", "weight": "30"},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert "100" in response.json()["items"][0]
    # five KPIs mixing the personal and the department's plan: saved, with two warnings
    items = [
        {"metric": "turnover", "weight": "30"},
        {"metric": "new_clients", "weight": "20"},
        {"metric": "gross_margin", "weight": "20"},
        {"metric": "department_revenue", "weight": "20"},
        {"metric": "nps", "weight": "10"},
    ]
    curve = [{"fulfilment": "0.9", "payout": "0.5"}, {"fulfilment": "1.5", "payout": "1.5"}]
    response = api.put(url, {"items": items, "payout_curve": curve}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["weights_total"] == "100.00"
    assert [w["code"] for w in body["warnings"]] == ["personal_and_department", "too_many_kpis"]
    assert body["payout_curve"] == curve
    # a salesperson may read the schemes but not change them
    response = api_for(shop["hunter"]).patch(url, {"payout_curve": curve}, format="json")
    assert response.status_code == 403
    # another organization's scheme: 404
    response = api_for(MembershipFactory(role=Role.OWNER)).get(url)
    assert response.status_code == 404


def test_head_scheme_with_a_personal_plan_is_warned_on_the_page(shop, client_for):
    services.schemes_for(organization=shop["head"].organization)
    scheme = KpiScheme.objects.get(organization=shop["head"].organization, role="head_of_sales")
    services.scheme_update(
        scheme=scheme,
        by=shop["owner"],
        items=[
            services.parse_items(
                [
                    {"metric": "turnover", "weight": "50"},
                    {"metric": "department_revenue", "weight": "50"},
                ]
            )
        ][0],
    )
    page = client_for(shop["owner"]).get("/kpi/schemes/")
    assert page.status_code == 200
    assert b'data-code="head_personal_plan"' in page.content
    assert b'data-code="personal_and_department"' in page.content


def test_the_schemes_page_saves_through_the_service(shop, client_for):
    client = client_for(shop["head"])
    client.get("/kpi/schemes/")
    scheme = KpiScheme.objects.get(organization=shop["head"].organization, role="marketer")
    form = {
        "scheme": scheme.pk,
        "metric_0": "leads",
        "weight_0": "50",
        "metric_1": "cost_per_lead",
        "weight_1": "40",
        "curve_f_0": "80",
        "curve_p_0": "80",
        "curve_f_1": "120",
        "curve_p_1": "120",
    }
    response = client.post("/kpi/schemes/", form)
    assert response.status_code == 400
    page = response.content.decode()
    # the error in words, without the API's field code; the total is the one typed (90 %)
    assert "100" in page and "items:" not in page
    total = re.search(r"data-scheme-total[^>]*>([^<]*)<", page)
    assert total is not None and "90" in total[1]
    form["weight_0"] = "oops"
    response = client.post("/kpi/schemes/", form)
    assert response.status_code == 400
    assert "items[0]" not in response.content.decode()
    form["weight_0"] = "50"
    form["weight_1"] = "50"
    response = client.post("/kpi/schemes/", form)
    assert response.status_code == 302
    scheme.refresh_from_db()
    assert [(i.metric, i.weight) for i in scheme.items.all()] == [
        ("leads", D(50)),
        ("cost_per_lead", D(50)),
    ]
    assert scheme.payout_curve == [
        {"fulfilment": "0.8", "payout": "0.8"},
        {"fulfilment": "1.2", "payout": "1.2"},
    ]


def test_base_bonus_rules(shop, api_for):
    # the head sets their team member's, not another team's (404) nor their own (403)
    api = api_for(shop["head"])
    response = api.put(
        f"/api/v1/members/{shop['hunter'].pk}/base-bonus/", {"amount": "75000"}, format="json"
    )
    assert response.status_code == 200 and response.json()["amount"] == "75000.00"
    response = api.put(
        f"/api/v1/members/{shop['other_seller'].pk}/base-bonus/", {"amount": "1"}, format="json"
    )
    assert response.status_code == 404
    response = api.put(
        f"/api/v1/members/{shop['head'].pk}/base-bonus/", {"amount": "1"}, format="json"
    )
    assert response.status_code == 403
    response = api.put(
        f"/api/v1/members/{shop['hunter'].pk}/base-bonus/", {"amount": "lots"}, format="json"
    )
    assert response.status_code == 400 and "amount" in response.json()


# --- who sees whose scorecard -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("owner", 200),  # everyone's
        ("head", 200),  # their team's
        ("other_head", 404),  # not another team's
        ("hunter", 200),  # their own
        ("farmer", 404),  # not a teammate's
        ("marketer", 404),
        ("outsider", 404),  # another organization
    ],
)
def test_who_sees_the_hunters_scorecard(shop, api_for, client_for, viewer, expected):
    member = shop.get(viewer) or MembershipFactory(role=Role.OWNER)
    url = f"/api/v1/members/{shop['hunter'].pk}/scorecard/?period=2026-12"
    response = api_for(member).get(url)
    assert response.status_code == expected
    page = client_for(member).get(f"/kpi/?member={shop['hunter'].pk}&period=2026-12")
    assert page.status_code == expected


def test_a_head_sees_their_own_and_the_owner_anyones(shop, api_for):
    assert (
        api_for(shop["head"]).get(f"/api/v1/members/{shop['head'].pk}/scorecard/").status_code
        == 200
    )
    assert (
        api_for(shop["owner"])
        .get(f"/api/v1/members/{shop['other_seller'].pk}/scorecard/")
        .status_code
        == 200
    )
    assert (
        api_for(shop["hunter"]).get(f"/api/v1/members/{shop['head'].pk}/scorecard/").status_code
        == 404
    )


@pytest.mark.parametrize("period", ["2026-13", "2026-1", "december", "0999-01", "2026-12-01"])
def test_a_bad_period_is_a_400_naming_the_field(shop, api_for, client_for, period):
    response = api_for(shop["hunter"]).get(
        f"/api/v1/members/{shop['hunter'].pk}/scorecard/", {"period": period}
    )
    assert response.status_code == 400
    assert "period" in response.json()
    assert client_for(shop["hunter"]).get("/kpi/", {"period": period}).status_code == 400


def test_the_api_scorecard_fields(december, api_for):
    body = (
        api_for(december["hunter"])
        .get(f"/api/v1/members/{december['hunter'].pk}/scorecard/?period=2026-12")
        .json()
    )
    assert {"bonus_to_date", "bonus_forecast", "kpis", "given_deals", "base_bonus"} <= set(body)
    assert body["role"] == "hunter" and body["period"] == "2026-12"
    assert [k["metric"] for k in body["kpis"]] == ["new_clients", "turnover", "gross_margin"]
    assert set(body["kpis"][0]) >= {"plan", "actual", "fulfilment", "weight", "payout"}


def test_the_page_shows_money_the_russian_way(december, client_for):
    client = client_for(december["hunter"])
    page = client.get("/kpi/?period=2026-12", HTTP_ACCEPT_LANGUAGE="ru")
    assert page.status_code == 200
    text = page.content.decode()
    assert "60\u00a0000\u00a0₽" in text  # the base bonus
    assert "1\u00a0000\u00a0000\u00a0₽" in text  # the turnover plan


def test_marketer_scorecard_lower_is_better_and_lead_to_deal(organization, make_member):
    # given the department's December plan: 420 leads, 20 deals (lead → deal 20/420 =
    # 4.7619 %), 500 ₽ per lead; 100 leads came, 4 of them paid, 60 000 ₽ were spent
    marketer = make_member(Role.MARKETER)
    BaseBonus.objects.create(organization=organization, member=marketer, amount=D(40000))
    plan = PlanFactory(organization=organization, status="active")
    funnel = plan.funnel
    first, last = (
        funnel.stages.order_by("position").first(),
        funnel.stages.order_by("position").last(),
    )
    leads = [
        LeadFactory(funnel=funnel, organization=organization, created_at=_at(2)) for _ in range(100)
    ]
    StageEvent.objects.bulk_create(
        StageEvent(organization=organization, lead=lead, stage=first, reached_at=_at(2))
        for lead in leads
    )
    StageEvent.objects.bulk_create(
        StageEvent(organization=organization, lead=lead, stage=last, reached_at=_at(10))
        for lead in leads[:4]
    )
    Spend.objects.create(
        organization=organization, channel="Ads", date=date(2026, 12, 2), amount=D(60000)
    )
    plan_performance_refresh(plan_id=plan.pk, today=date(2026, 12, 31))
    # when the marketer's scorecard is read at the month's end
    card = member_scorecard(marketer, DECEMBER, today=date(2026, 12, 31))
    lines = {line.metric: line for line in card.score.lines}
    # then leads 100 of 420 (23.8 %: nothing); cost per lead 600 ₽ against 500 ₽ (lower is
    # better: 500/600 = 83.3333 %); lead → deal 4 % against 4.7619 % (84.0001 %)
    assert (lines["leads"].plan, lines["leads"].actual, lines["leads"].payout) == (
        D(420),
        D(100),
        0,
    )
    assert (lines["cost_per_lead"].actual, lines["cost_per_lead"].fulfilment) == (
        D(600),
        D("0.833333"),
    )
    assert (lines["lead_to_deal"].plan, lines["lead_to_deal"].actual) == (D("0.047619"), D("0.04"))
    assert lines["lead_to_deal"].fulfilment == D("0.840001")
    # 40 000 × (0.4 × 0 + 0.3 × 0.833333 + 0.3 × 0.840001) = 40 000 × 0.5020002 = 20 080.01
    assert card.score.bonus_to_date == D("20080.01")


def test_the_figures_follow_a_recompute(december, django_capture_on_commit_callbacks):
    # given the figures gone; when plan vs fact is recomputed (its signal queues the job)
    KpiFigure.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        plan_performance_refresh(plan_id=december["plan"].pk, today=MID_DECEMBER)
    # then last December's revenue is stored again for the head's growth
    figure = KpiFigure.objects.get(
        organization=december["plan"].organization, period=DECEMBER, key="last_year_revenue"
    )
    assert figure.value == D(800000)


def test_the_scorecard_reads_a_bounded_number_of_queries(
    december, api_for, django_assert_max_num_queries
):
    services.bonus_recipient_choose(
        payment=december["head_deal"], recipient_id=december["hunter"].pk, by=december["head"]
    )
    api = api_for(december["owner"])
    url = f"/api/v1/members/{december['hunter'].pk}/scorecard/?period=2026-12"
    with django_assert_max_num_queries(QUERIES_PER_SCORECARD):
        assert api.get(url).status_code == 200


# Authentication, the member, the scheme, the plan, its metrics, the snapshots, the pie's
# shares, the values typed by hand, the figures, the given deals, the base bonus: whatever
# the number of people, deals or days.
QUERIES_PER_SCORECARD = 15


def test_the_support_admin_shows_every_kpi_row(december, admin_client):
    services.bonus_recipient_choose(
        payment=december["head_deal"], recipient_id=december["hunter"].pk, by=december["head"]
    )
    services.schemes_for(organization=december["head"].organization)
    for model in (KpiScheme, BaseBonus, BonusRecipient, KpiFigure):
        row = model.objects.first()
        base = f"/admin/kpis/{model._meta.model_name}/"
        assert admin_client.get(base).status_code == 200, model
        assert admin_client.get(f"{base}{row.pk}/change/").status_code == 200, model
        assert admin_client.get(f"{base}add/").status_code == 403, model


def test_a_given_deal_counts_from_the_day_it_is_paid(december):
    # given the head's deal of 12 December given to the hunter
    services.bonus_recipient_choose(
        payment=december["head_deal"], recipient_id=december["hunter"].pk, by=december["head"]
    )
    # when the hunter's figures of 11 December are read: not yet; of 12 December: counted
    before = member_scorecard(december["hunter"], DECEMBER, today=date(2026, 12, 11))
    after = member_scorecard(december["hunter"], DECEMBER, today=date(2026, 12, 12))
    assert before.given == () and _line(before, "turnover").actual == D(400000)
    assert _line(after, "turnover").actual == D(500000)


def test_nps_typed_by_hand_through_the_api(shop, api_for):
    # given the hunter's scheme with NPS (20 %) beside turnover (80 %)
    hunter, head = shop["hunter"], shop["head"]
    scheme = services.scheme_get_or_create(organization=hunter.organization, role="hunter")
    services.scheme_update(
        scheme=scheme,
        by=shop["owner"],
        items=services.parse_items(
            [{"metric": "turnover", "weight": "80"}, {"metric": "nps", "weight": "20"}]
        ),
    )
    url = f"/api/v1/members/{hunter.pk}/kpi-values/"
    # when their head of sales types December's NPS: plan 50, actual 45
    body = {"period": "2026-12", "metric": "nps", "plan": "50", "actual": "45"}
    response = api_for(head).put(url, body, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["plan"], response.json()["actual"]) == ("50", "45")
    # then the hunter's scorecard pays NPS at 90 %: 60 000 × 0.2 × 0.9 = 10 800 (no turnover
    # yet in December: nothing for it)
    card = member_scorecard(hunter, DECEMBER, today=MID_DECEMBER)
    assert _line(card, "nps").fulfilment == D("0.9")
    assert card.score.bonus_to_date == D("10800.00")
    # a person does not type their own; another team's head does not see them; a bad period
    assert api_for(hunter).put(url, body, format="json").status_code == 403
    assert api_for(shop["other_head"]).put(url, body, format="json").status_code == 404
    response = api_for(head).put(url, {**body, "period": "12.2026"}, format="json")
    assert response.status_code == 400 and "period" in response.json()
    response = api_for(head).put(url, {**body, "metric": "mood"}, format="json")
    assert response.status_code == 400 and "metric" in response.json()
    # both empty: removed
    response = api_for(head).put(url, {**body, "plan": None, "actual": ""}, format="json")
    assert response.json()["plan"] is None
    assert _line(member_scorecard(hunter, DECEMBER, today=MID_DECEMBER), "nps").plan is None


def _queries_of(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_pages_queries_do_not_grow_with_the_people(shop, client_for, make_member):
    # given the owner's pages with the shop's people; when 20 more salespeople and their base
    # bonuses join; then the schemes page and the head's scorecard run the same queries
    client = client_for(shop["owner"])
    _queries_of(client, "/kpi/schemes/")  # the first visit makes the default schemes
    schemes = _queries_of(client, "/kpi/schemes/")
    head = f"/kpi/?member={shop['head'].pk}&period=2026-12"
    scorecard = _queries_of(client, head)
    for _ in range(20):
        person = make_member(Role.SALESPERSON)
        BaseBonus.objects.create(organization=person.organization, member=person, amount=D(1))
    assert _queries_of(client, "/kpi/schemes/") == schemes
    assert _queries_of(client, head) == scorecard


def test_a_scheme_saved_over_a_newer_one_is_refused(shop, api_for, client_for):
    # given the hunter's scheme read at version 1 by the API and by the page
    api = api_for(shop["head"])
    hunter = next(s for s in api.get("/api/v1/kpi-schemes/").json() if s["role"] == "hunter")
    assert hunter["version"] == 1
    url = f"/api/v1/kpi-schemes/{hunter['id']}/"
    items = [{"metric": "turnover", "weight": "60"}, {"metric": "new_clients", "weight": "40"}]
    # when one save based on version 1 goes through (version 2) ...
    saved = api.patch(url, {"items": items, "version": 1}, format="json")
    assert saved.status_code == 200 and saved.json()["version"] == 2
    # ... then a second save based on version 1 is refused with the version now, unchanged
    stale = api.patch(
        url, {"items": [{"metric": "turnover", "weight": "100"}], "version": 1}, format="json"
    )
    assert stale.status_code == 409
    assert stale.json()["version"] == 2
    scheme = KpiScheme.objects.get(pk=hunter["id"])
    assert [(i.metric, i.weight) for i in scheme.items.all()] == [
        ("turnover", D(60)),
        ("new_clients", D(40)),
    ]
    # and the page's form, rendered at version 1, is refused the same way
    form = {
        "scheme": hunter["id"],
        "version": "1",
        "metric_0": "turnover",
        "weight_0": "100",
        "curve_f_0": "80",
        "curve_p_0": "80",
    }
    page = client_for(shop["owner"]).post("/kpi/schemes/", form, follow=True)
    with translation.override(page["Content-Language"]):
        said = translation.gettext(
            "Someone saved this scheme after you opened it: nothing was changed. "
            "Here it is as it is now."
        )
    assert said in page.content.decode()
    assert KpiScheme.objects.get(pk=hunter["id"]).version == 2

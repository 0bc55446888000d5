"""Role KPIs and bonus: reads. Who sees whose scorecard, a role's scheme, and a person's
scorecard for a month, read from what is stored: the plan-vs-fact snapshots of the monthly
plan covering the month (metrics.models.PerformanceSnapshot), the pie's shares of the plan,
the figures the job stores (`KpiFigure`), the given deals (`BonusRecipient`) and the values
typed by hand. Nothing here reads the actuals (leads, payments, …)."""

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from metrics.models import EVERY_OWNER, PerformanceSnapshot, PlanMetric
from responsibility.models import Responsibility
from salesplan.access import led_team_ids, scoped
from salesplan.kpis.bonus import (
    DEFAULT_CURVE,
    DEFAULT_ITEMS,
    KPI_CATALOG,
    CurvePoint,
    ItemSpec,
    KpiInput,
    Score,
    score,
)
from salesplan.kpis.models import (
    BaseBonus,
    BonusRecipient,
    FigureKey,
    KpiFigure,
    KpiScheme,
    ManualKpiValue,
    SchemeRole,
)
from salesplan.limits import MAX_ID, MAX_YEAR, MIN_YEAR
from salesplan.models import Membership, PeriodKind, PlanStatus, Role, SalespersonKind, SalesPlan

# --- who --------------------------------------------------------------------------------------


def scheme_role_of(member: Membership) -> str | None:
    """The scheme a person is paid by: marketers, hunters, farmers, heads of sales; an owner
    and a viewer have none."""
    if member.role == Role.MARKETER:
        return SchemeRole.MARKETER
    if member.role == Role.HEAD_OF_SALES:
        return SchemeRole.HEAD_OF_SALES
    if member.role == Role.SALESPERSON:
        return (
            SchemeRole.FARMER
            if member.salesperson_kind == SalespersonKind.FARMER
            else SchemeRole.HUNTER
        )
    return None


def scorecard_members(viewer: Membership) -> QuerySet[Membership]:
    """Whose scorecards a member sees: the owner everyone's, a head of sales their own and
    their teams' members', anyone else only their own."""
    people = scoped(Membership, viewer.organization).select_related("user", "team")
    if viewer.role == Role.OWNER:
        return people
    if viewer.role == Role.HEAD_OF_SALES:
        teams = led_team_ids(viewer)
        return people.filter(pk=viewer.pk) | people.filter(team_id__in=teams)
    return people.filter(pk=viewer.pk)


def access_scorecard_member(viewer: Membership, pk: Any) -> Membership:
    """The person whose scorecard is asked for; 404 for anyone the viewer may not see (another
    organization's person included: their existence is not revealed)."""
    text = str(pk).strip()
    if not text.isdigit() or int(text) > MAX_ID:
        raise Http404("Not found")
    try:
        return scorecard_members(viewer).get(pk=int(text))
    except Membership.DoesNotExist as exc:
        raise Http404("Not found") from exc


def may_manage_bonuses(viewer: Membership, member: Membership) -> bool:
    """Who sets a person's base bonus and their KPI values typed by hand: the owner for
    anyone; a head of sales for the members of the teams they lead (not for themselves)."""
    if viewer.organization_id != member.organization_id:
        return False
    if viewer.role == Role.OWNER:
        return True
    return (
        viewer.role == Role.HEAD_OF_SALES
        and member.pk != viewer.pk
        and member.team_id in led_team_ids(viewer)
    )


def may_edit_schemes(viewer: Membership | None) -> bool:
    return viewer is not None and viewer.role in (Role.OWNER, Role.HEAD_OF_SALES)


def bonus_managed_members(viewer: Membership) -> QuerySet[Membership]:
    """The people whose base bonus the viewer sets (the schemes page lists them)."""
    people = scoped(Membership, viewer.organization).filter(is_active=True)
    people = people.select_related("user", "team", "base_bonus")
    if viewer.role == Role.OWNER:
        return people.exclude(role__in=[Role.OWNER, Role.VIEWER])
    if viewer.role == Role.HEAD_OF_SALES:
        return people.filter(team_id__in=led_team_ids(viewer)).exclude(pk=viewer.pk)
    return people.none()


# --- the period -------------------------------------------------------------------------------


def parse_period(value: str | None, *, default: date) -> date:
    """`YYYY-MM` as the month's first day; `default` (a first day) when empty. A ValueError
    for anything else (the caller says which field)."""
    if value in (None, ""):
        return default
    text = str(value)
    if len(text) != 7 or text[4] != "-" or not (text[:4].isdigit() and text[5:].isdigit()):
        raise ValueError(text)
    year, month = int(text[:4]), int(text[5:])
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12):
        raise ValueError(text)
    return date(year, month, 1)


def this_month(member: Membership) -> date:
    """The first day of the organization's current month (its own time zone)."""
    today = timezone.localdate(timezone=ZoneInfo(member.organization.time_zone))
    return today.replace(day=1)


def month_end(period: date) -> date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


# --- schemes ----------------------------------------------------------------------------------


def curve_of(scheme: KpiScheme) -> tuple[CurvePoint, ...]:
    points = scheme.payout_curve or []
    try:
        return tuple(
            CurvePoint(Decimal(str(p["fulfilment"])), Decimal(str(p["payout"]))) for p in points
        )
    except (KeyError, TypeError, ArithmeticError):
        return DEFAULT_CURVE


def scheme_for_role(organization: Any, role: str) -> KpiScheme | None:
    return (
        KpiScheme.objects.filter(organization=organization, role=role)
        .prefetch_related("items")
        .first()
    )


def scheme_items(organization: Any, role: str) -> tuple[list[ItemSpec], tuple[CurvePoint, ...]]:
    """A role's KPIs and curve: the organization's scheme, or the defaults while it has
    never been opened (a read does not write them: the schemes page and API do)."""
    scheme = scheme_for_role(organization, role)
    if scheme is None:
        return list(DEFAULT_ITEMS[role]), DEFAULT_CURVE
    items = [ItemSpec(item.metric, item.weight, item.target) for item in scheme.items.all()]
    return items, curve_of(scheme)


# --- the scorecard ----------------------------------------------------------------------------


def period_plan(member: Membership, period: date) -> SalesPlan | None:
    """The monthly plan covering the month whose figures are the person's: a salesperson's
    plan with their share; a head of sales' team's plan, else the department's; anyone else's
    the department's. An active plan before a draft, then the newest. Closed plans count (a
    past month's)."""
    plans = scoped(SalesPlan, member.organization).filter(
        period_kind=PeriodKind.MONTH, period_start=period, period_end=month_end(period)
    )
    if member.role == Role.SALESPERSON:
        plans = plans.filter(members__membership=member)
    elif member.role == Role.HEAD_OF_SALES:
        teams = led_team_ids(member)
        team_plans = plans.filter(sales_team_id__in=teams)
        plans = team_plans if team_plans.exists() else plans.filter(sales_team__isnull=True)
    else:
        plans = plans.filter(sales_team__isnull=True)
    order = {PlanStatus.ACTIVE: 0, PlanStatus.CLOSED: 1, PlanStatus.DRAFT: 2}
    candidates = sorted(plans.distinct(), key=lambda p: (order.get(p.status, 3), -p.pk))
    return candidates[0] if candidates else None


@dataclass(frozen=True)
class GivenDeal:
    payment_id: int
    head_name: str
    amount: Decimal
    gross_margin: Decimal | None
    is_new_client: bool | None
    chosen_at: Any


@dataclass(frozen=True)
class Scorecard:
    member: Membership
    period: date
    role: str | None
    plan: SalesPlan | None
    day: date | None  # the snapshots' day read (None: nothing computed yet)
    score: Score
    currency: str
    given: tuple[GivenDeal, ...] = ()
    # KPI code → why it has no plan or actual ("no_plan", "no_snapshot", …)
    notes: dict[str, str] = field(default_factory=dict)
    growth: dict[str, Decimal | None] = field(default_factory=dict)


# The snapshot metric each KPI reads, and whose row (the person's slice or the department's).
SNAPSHOT_METRIC = {
    "leads": ("leads", False),
    "cost_per_lead": ("cost_per_lead", False),
    "new_clients": ("new_clients", True),
    "turnover": ("revenue", True),
    "gross_margin": ("gross_margin", True),
    "existing_client_revenue": ("existing_client_revenue", True),
    "department_revenue": ("revenue", False),
    "department_gross_margin": ("gross_margin", False),
    "growth": ("revenue", False),
}
MONEY_KPIS = frozenset({"turnover", "gross_margin", "existing_client_revenue"})
CENT = Decimal("0.01")


def _personal_shares(plan: SalesPlan, member: Membership) -> dict[int, Decimal]:
    """The person's share of each metric of the plan on its pie (a slice below a head of
    sales: that slice's share of the parent's), as the recompute reads it."""
    shares: dict[int, Decimal] = {}
    rows = Responsibility.objects.filter(plan=plan, owner=member).values_list(
        "metric_id", "share", "parent__share"
    )
    for metric_id, share, parent_share in rows:
        part = share * (parent_share if parent_share is not None else Decimal(1))
        shares[metric_id] = shares.get(metric_id, Decimal(0)) + part
    return shares


def _latest_day(plan: SalesPlan, until: date) -> date | None:
    return (
        PerformanceSnapshot.objects.filter(EVERY_OWNER, plan=plan, day__lte=until)
        .aggregate(day=Max("day"))
        .get("day")
    )


def _given_deals(member: Membership, period: date, day: date | None) -> tuple[GivenDeal, ...]:
    """The heads of sales' deals given to the person, paid in the month up to `day` (the
    snapshots' day: the figures they are added to)."""
    rows = BonusRecipient.objects.filter(
        organization=member.organization, recipient=member, period=period, is_current=True
    )
    if day is not None:
        rows = rows.filter(paid_on__lte=day)
    rows = rows.select_related("head__user").order_by("chosen_at", "id")
    return tuple(
        GivenDeal(
            payment_id=row.payment_id,
            head_name=row.head.display_name,
            amount=row.amount,
            gross_margin=row.gross_margin,
            is_new_client=row.is_new_client,
            chosen_at=row.chosen_at,
        )
        for row in rows
    )


def base_bonus_of(member: Membership) -> Decimal:
    found = BaseBonus.objects.filter(member=member).values_list("amount", flat=True).first()
    return found if found is not None else Decimal(0)


def member_scorecard(member: Membership, period: date, *, today: date | None = None) -> Scorecard:
    """The person's KPIs for the month: each one's plan, actual to date and forecast (the
    snapshots' of the day read: today's, or the month's last for a past month), fulfilment,
    weight and payout, and the bonus to date and at the current pace."""
    organization = member.organization
    role = scheme_role_of(member)
    items, curve = scheme_items(organization, role) if role else ([], DEFAULT_CURVE)
    plan = period_plan(member, period) if items else None
    today = today or timezone.localdate(timezone=ZoneInfo(organization.time_zone))
    day = _latest_day(plan, min(today, month_end(period))) if plan else None

    # The snapshot rows of the day: the department's and the person's.
    metrics: dict[str, PlanMetric] = {}
    rows: dict[tuple[str, bool], PerformanceSnapshot] = {}
    shares: dict[int, Decimal] = {}
    if plan is not None:
        metrics = {m.key: m for m in PlanMetric.objects.filter(plan=plan)}
        if day is not None:
            snapshots = PerformanceSnapshot.objects.filter(plan=plan, day=day).filter(
                Q(owner__isnull=True) | Q(owner=member)
            )
            by_id = {m.pk: m.key for m in metrics.values()}
            for row in snapshots:
                rows[(by_id.get(row.metric_id, ""), row.owner_id is not None)] = row
        shares = _personal_shares(plan, member)
    manual = {
        value.metric: value for value in ManualKpiValue.objects.filter(member=member, period=period)
    }
    figures = {
        (figure.key, figure.member_id): figure
        for figure in KpiFigure.objects.filter(organization=organization, period=period).filter(
            member__isnull=True
        )
        | KpiFigure.objects.filter(organization=organization, period=period, member=member)
    }
    given = _given_deals(member, period, day) if member.role == Role.SALESPERSON else ()
    given_amount = sum((deal.amount for deal in given), Decimal(0))
    given_margin = sum((deal.gross_margin or Decimal(0) for deal in given), Decimal(0))
    given_new = sum(1 for deal in given if deal.is_new_client)
    given_existing = sum((deal.amount for deal in given if deal.is_new_client is False), Decimal(0))
    extra = {
        "turnover": given_amount,
        "gross_margin": given_margin,
        "new_clients": Decimal(given_new),
        "existing_client_revenue": given_existing,
    }

    notes: dict[str, str] = {}
    growth: dict[str, Decimal | None] = {}
    inputs = []
    for item in items:
        meta = KPI_CATALOG[item.metric]
        plan_value = actual = forecast = None
        if item.metric in SNAPSHOT_METRIC:
            key, personal = SNAPSHOT_METRIC[item.metric]
            metric = metrics.get(key)
            row = rows.get((key, personal))
            if metric is not None and metric.planned_value is not None:
                if personal:
                    share = shares.get(metric.pk)
                    plan_value = metric.planned_value * share if share is not None else None
                else:
                    plan_value = metric.planned_value
            if row is not None:
                actual, forecast = row.actual_to_date, row.forecast
            if extra.get(item.metric):  # the head of sales' deals given to this person
                actual = (actual or Decimal(0)) + extra[item.metric]
                forecast = (forecast or Decimal(0)) + extra[item.metric]
            if item.metric == "growth":
                last_year = figures.get((FigureKey.LAST_YEAR_REVENUE, None))
                last = last_year.value if last_year else None
                target = item.target or Decimal(0)
                plan_value = (last * (1 + target)).quantize(CENT) if last else None
                growth = {
                    "last_year_revenue": last,
                    "target": target,
                    "growth": (actual / last - 1).quantize(Decimal("0.0001"))
                    if last and actual is not None
                    else None,
                }
                if last_year is None or not last:
                    notes[item.metric] = "no_last_year"
        elif item.metric == "lead_to_deal":
            plan_value, actual, forecast = _lead_to_deal(metrics, rows)
        elif item.metric == "retention":
            figure = figures.get((FigureKey.RETENTION, member.pk))
            plan_value = item.target
            actual = forecast = figure.value if figure else None
        typed = manual.get(item.metric)
        if typed is not None:
            if typed.plan is not None:
                plan_value = typed.plan
            if meta.scope == "manual" or typed.actual is not None:
                actual = forecast = typed.actual
        if plan_value is not None and item.metric in MONEY_KPIS:
            plan_value = plan_value.quantize(CENT)
        if item.metric not in notes:
            if plan_value is None:
                notes[item.metric] = "no_plan"
            elif actual is None:
                notes[item.metric] = "no_actual"
        inputs.append(
            KpiInput(
                metric=item.metric,
                weight=item.weight,
                plan=plan_value,
                actual=actual,
                forecast=forecast,
                lower_is_better=meta.lower_is_better,
            )
        )
    return Scorecard(
        member=member,
        period=period,
        role=role,
        plan=plan,
        day=day,
        score=score(base_bonus_of(member), inputs, curve),
        currency=organization.currency,
        given=given,
        notes=notes,
        growth=growth,
    )


def _lead_to_deal(
    metrics: dict[str, PlanMetric], rows: dict[tuple[str, bool], PerformanceSnapshot]
) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """Paid deals ÷ leads: the plan's (its last stage's volume over its leads), to date and at
    the forecast, from the department's rows."""
    stages = [m for m in metrics.values() if m.kind == "stage_volume"]
    if not stages or "leads" not in metrics:
        return None, None, None
    paid = max(stages, key=lambda m: m.stage_position or 0)
    leads = metrics["leads"]

    def ratio(deals: Decimal | None, count: Decimal | None) -> Decimal | None:
        if deals is None or not count:
            return None
        return (deals / count).quantize(Decimal("0.000001"))

    plan_value = ratio(paid.planned_value, leads.planned_value)
    deal_row, lead_row = rows.get((paid.key, False)), rows.get(("leads", False))
    if deal_row is None or lead_row is None:
        return plan_value, None, None
    return (
        plan_value,
        ratio(deal_row.actual_to_date, lead_row.actual_to_date),
        ratio(deal_row.forecast, lead_row.forecast),
    )


def bonus_history(payment_id: int, organization: Any) -> QuerySet[BonusRecipient]:
    return (
        BonusRecipient.objects.filter(organization=organization, payment_id=payment_id)
        .select_related("recipient__user", "chosen_by__user", "head__user")
        .order_by("-chosen_at", "-id")
    )

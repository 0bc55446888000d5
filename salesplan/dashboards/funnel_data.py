"""Reads of the funnel dashboard (issue 12): which period, team and plan a request asks for,
and the plan vs fact the recompute job stored for them (PerformanceSnapshot, GapShare through
salesplan.plans.selectors). A constant number of queries whatever the number of people, days
or leads; nothing here aggregates the actuals. The drill-down reads the stage events behind a
cell, one page at a time, through the (organization, stage, reached_at) index."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from funnel.models import Lead, Payment, Stage, StageEvent
from metrics.actuals import local_day_bounds
from metrics.models import PerformanceSnapshot, PlanMetric
from salesplan.access import led_team_ids, plans_queryset, scoped, sees_only_own_leads, visible
from salesplan.models import Membership, Organization, Role, SalesPlan, Team
from salesplan.plans import selectors

PERIOD_KINDS = ("month", "last_month", "quarter")
DEFAULT_PERIOD = "month"
# The plans a period's selector offers: a team has one plan a month, a department a few;
# more than this are older drafts nobody picks from a dashboard.
MAX_PLANS = 50
# Metrics whose figure counts the leads that reached one stage (metrics.performance): these
# cells drill down to their leads.
STAGE_KINDS = ("leads", "target_leads", "stage_volume")
# Metrics whose figure sums payments (metrics.actuals): these cells drill down to them.
PAYMENT_KINDS = ("revenue",)
# The salesperson table's key metrics, in this order (a person's slice of the pie).
KEY_KINDS = (
    "revenue",
    "gross_margin",
    "existing_client_revenue",
    "new_clients",
    "stage_volume",
    "average_check",
)


def today_for(organization: Organization) -> date:
    """The organization's local today (its time zone, DOMAIN section 2)."""
    return timezone.localtime(timezone.now(), ZoneInfo(organization.time_zone)).date()


# --- the period -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: str  # month, last_month or quarter
    start: date
    end: date
    month: str = ""  # YYYY-MM of a chosen month ("" for this month)
    note: str = ""  # why the address's period was not used


def _month_bounds(first: date) -> tuple[date, date]:
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def _month_of(text: str) -> date | None:
    try:
        year, month = text.strip().split("-")
        return date(int(year), int(month), 1)
    except (ValueError, TypeError):
        return None


def resolve_period(params: Mapping[str, str], today: date) -> Period:
    """`period` (month, last_month, quarter) and, for a chosen month, `month=YYYY-MM`; a value
    that is none of these falls back to this month with a note saying so."""
    kind = params.get("period") or DEFAULT_PERIOD
    note = ""
    if kind not in PERIOD_KINDS:
        note = gettext("“%(text)s” is not a period: showing this month.") % {"text": kind[:40]}
        kind = DEFAULT_PERIOD
    this_month = today.replace(day=1)
    if kind == "last_month":
        start, end = _month_bounds((this_month - timedelta(days=1)).replace(day=1))
        return Period(kind, start, end, note=note)
    if kind == "quarter":
        first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        end = _month_bounds(date(first.year, first.month + 2, 1))[1]
        return Period(kind, first, end, note=note)
    text = params.get("month") or ""
    if text and not note:
        chosen = _month_of(text)
        if chosen is None or not 2000 <= chosen.year <= 2100:
            note = gettext("“%(text)s” is not a month (YYYY-MM): showing this month.") % {
                "text": text[:40]
            }
        else:
            start, end = _month_bounds(chosen)
            month = "" if chosen == this_month else chosen.strftime("%Y-%m")
            return Period(kind, start, end, month=month)
    start, end = _month_bounds(this_month)
    return Period(kind, start, end, note=note)


# --- teams and plans ------------------------------------------------------------------------


def sees_every_team(member: Membership) -> bool:
    """The owner, the marketer and a viewer look at every team; a head of sales at the teams
    they lead, a salesperson at their own (and, both, at the department's plans)."""
    return member.role not in (Role.HEAD_OF_SALES, Role.SALESPERSON)


def visible_teams(member: Membership) -> list[Team]:
    """The teams the dashboard's filter offers the member. One query (two for a head of
    sales, whose led teams are cached on the membership)."""
    teams = scoped(Team, member.organization).order_by("name")
    if member.role == Role.HEAD_OF_SALES:
        teams = teams.filter(pk__in=led_team_ids(member))
    elif member.role == Role.SALESPERSON:
        teams = teams.filter(pk=member.team_id) if member.team_id else teams.none()
    return list(teams)


def resolve_team(text: str | None, teams: list[Team]) -> tuple[Team | None, str]:
    """The team of `team=<id>` among those the member may see, or None (all of them) with a
    note when the address names another."""
    if not text:
        return None, ""
    team = next((team for team in teams if str(team.pk) == text.strip()), None)
    if team is None:
        return None, gettext("That team is not one you may see: showing all your teams.")
    return team, ""


def candidate_plans(
    member: Membership, period: Period, team: Team | None, teams: list[Team]
) -> list[SalesPlan]:
    """The plans of the team (of the member's teams and the department's when no team is
    chosen) whose period overlaps the dashboard's; the one covering the whole period first,
    active before draft and closed, then the newest. One query."""
    plans = scoped(plans_queryset(), member.organization).filter(
        period_start__lte=period.end, period_end__gte=period.start
    )
    if team is not None:
        plans = plans.filter(sales_team=team)
    elif not sees_every_team(member):
        plans = plans.filter(Q(sales_team__isnull=True) | Q(sales_team__in=[t.pk for t in teams]))
    found = list(plans.order_by("-period_start", "name", "pk")[:MAX_PLANS])

    def rank(plan: SalesPlan) -> tuple[bool, bool]:
        covers = plan.period_start <= period.start and plan.period_end >= period.end
        return (not covers, plan.status != "active")

    return sorted(found, key=rank)  # stable: newest first within a rank


def resolve_plan(text: str | None, plans: list[SalesPlan]) -> tuple[SalesPlan | None, str]:
    """The plan of `plan=<id>` among the period's, else the first. A plan of another period
    or team (the filters just changed) gives way silently; an address that is no id at all
    says so."""
    if not plans:
        return None, ""
    text = (text or "").strip()
    chosen = next((plan for plan in plans if str(plan.pk) == text), None)
    if chosen is not None:
        return chosen, ""
    if text and not text.isdigit():
        return plans[0], gettext("“%(text)s” is not a plan: showing %(name)s.") % {
            "text": text[:40],
            "name": plans[0].name,
        }
    return plans[0], ""


# --- the stored plan vs fact ----------------------------------------------------------------


def snapshot_day(plan: SalesPlan, period: Period, today: date) -> date | None:
    """The last day stored for the plan up to the period's end (and today): what the page
    shows. One index-only query: the department's rows (owner NULL) are stored for every day
    with any row, so their partial unique index (plan, day, metric) answers it."""
    cap = min(period.end, plan.period_end, today)
    if cap < plan.period_start:
        return None
    return (
        PerformanceSnapshot.objects.filter(
            plan=plan, owner__isnull=True, day__lte=cap, day__gte=plan.period_start
        )
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )


@dataclass(frozen=True)
class StageMetric:
    key: str
    position: int


@dataclass
class PlanShape:
    """The plan's funnel stages, the metrics that count them, and its revenue metric."""

    stages: list[tuple[int, str]] = field(default_factory=list)  # (position, name)
    stage_ids: dict[int, int] = field(default_factory=dict)  # by position
    stage_metrics: dict[int, StageMetric] = field(default_factory=dict)  # by position
    revenue_metric_id: int | None = None

    def position_of(self, key: str) -> int | None:
        return next((m.position for m in self.stage_metrics.values() if m.key == key), None)


def plan_shape(plan: SalesPlan) -> PlanShape:
    """Two queries: the funnel's stages and the plan's stage and revenue metrics."""
    shape = PlanShape()
    stages = Stage.objects.filter(funnel_id=plan.funnel_id).order_by("position")
    for pk, position, name in stages.values_list("pk", "position", "name"):
        shape.stages.append((position, name))
        shape.stage_ids[position] = pk
    metrics = PlanMetric.objects.filter(plan=plan, kind__in=(*STAGE_KINDS, "revenue")).values_list(
        "pk", "key", "kind", "stage_position"
    )
    for pk, key, kind, position in metrics:
        if kind == "revenue":
            shape.revenue_metric_id = pk
        elif position is not None:
            shape.stage_metrics[position] = StageMetric(key, position)
    return shape


def burn_up(plan: SalesPlan, shape: PlanShape, day: date) -> list[dict[str, Any]]:
    """The department's revenue each stored day of the plan up to `day`: plan to date, actual
    to date and forecast of the period's end (one query on the department's unique index)."""
    if shape.revenue_metric_id is None:
        return []
    return list(
        PerformanceSnapshot.objects.filter(
            plan=plan,
            metric_id=shape.revenue_metric_id,
            owner__isnull=True,
            day__gte=plan.period_start,
            day__lte=day,
        )
        .order_by("day")
        .values("day", "plan_to_date", "actual_to_date", "forecast")
    )


def dashboard_figures(plan: SalesPlan, day: date) -> dict[str, Any]:
    """Everything the dashboard shows of a plan on a stored day, read from what the
    recompute stored: the metrics (department and personal rows), the revenue per day and
    the gap's attribution. A constant number of queries."""
    shape = plan_shape(plan)
    performance = selectors.plan_performance(plan, day)
    return {
        "shape": shape,
        "rows": performance["metrics"],
        "computed_at": performance["computed_at"],
        "burn_up": burn_up(plan, shape, day),
        "attribution": selectors.plan_attribution(plan, day),
    }


# --- the drill-down -------------------------------------------------------------------------


def personal_slice(member_id: int) -> Q:
    """The stage events that count for a member's personal slice (metrics.actuals): the
    event's member, else the lead's responsible; never a lead of a head of sales."""
    return (Q(member_id=member_id) | Q(member__isnull=True, lead__responsible_id=member_id)) & ~Q(
        lead__responsible__role=Role.HEAD_OF_SALES
    )


def stage_events(
    *,
    viewer: Membership,
    plan: SalesPlan,
    stage_id: int,
    start: date,
    end: date,
    member_id: int | None,
) -> QuerySet[StageEvent]:
    """The leads that reached a stage from `start` to `end` (local days): the leads counted
    in the stage's actual-to-date on `end`, a member's personal slice of it with `member_id`.
    Scoped to the viewer's organization and the leads their role shows (a salesperson: their
    own). The caller paginates it."""
    since, until = local_day_bounds(start, end, ZoneInfo(plan.organization.time_zone))
    events = scoped(StageEvent, viewer.organization).filter(
        stage_id=stage_id, reached_at__gte=since, reached_at__lt=until
    )
    if sees_only_own_leads(viewer):  # the leads salesplan.access shows them, no other
        events = events.filter(lead__in=visible(viewer, Lead).values("pk"))
    if member_id is not None:
        events = events.filter(personal_slice(member_id))
    return events.select_related("lead__responsible__user", "member__user").order_by(
        "reached_at", "id"
    )


def personal_payments(member_id: int) -> Q:
    """The payments that count for a member's personal slice (metrics.actuals): the credited
    member, else the lead's responsible; never a head of sales' deal."""
    return (
        Q(credited_member_id=member_id)
        | Q(credited_member__isnull=True, lead__responsible_id=member_id)
    ) & ~Q(lead__responsible__role=Role.HEAD_OF_SALES)


def payments(
    *,
    viewer: Membership,
    plan: SalesPlan,
    start: date,
    end: date,
    member_id: int | None,
) -> QuerySet[Payment]:
    """The payments of the plan's funnel from `start` to `end` (local days): the revenue to
    date on `end`, a member's personal slice of it with `member_id`; scoped and limited to the
    leads the viewer's role shows, as `stage_events`. The caller paginates it."""
    since, until = local_day_bounds(start, end, ZoneInfo(plan.organization.time_zone))
    rows = scoped(Payment, viewer.organization).filter(
        lead__funnel_id=plan.funnel_id, paid_at__gte=since, paid_at__lt=until
    )
    if sees_only_own_leads(viewer):
        rows = rows.filter(lead__in=visible(viewer, Lead).values("pk"))
    if member_id is not None:
        rows = rows.filter(personal_payments(member_id))
    return rows.select_related("lead__responsible__user").order_by("paid_at", "id")

"""The marketer's page (`marketing`): a plan's leads, target leads, their share, cost per lead
and per target lead by channel and by week against the plan, spend against the budget,
non-target reasons and missed calls, and what marketing is owed if paid only for target
leads (DOMAIN idea 2).

It reads the stored summary (`MarketingWeek`, kept by the plan-vs-fact recompute:
marketing_data.py) and the plan's decomposition: a constant number of queries whatever the
number of leads. Query parameters: `plan` (an id), `period` (`month` — with `month=YYYY-MM`
a chosen month —, `last_month`, `quarter`); a value it cannot use falls back with a note.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from salesplan.access import (
    access_object,
    led_team_ids,
    may_see_marketing,
    plans_queryset,
    require_membership,
)
from salesplan.dashboards import marketing_charts
from salesplan.dashboards.marketing_data import (
    MarketingFigures,
    default_plan,
    marketing_days,
    marketing_figures,
    marketing_plan_choices,
    shown_weeks,
)
from salesplan.figures import cached_page
from salesplan.limits import MAX_ID, MAX_YEAR, MIN_YEAR
from salesplan.models import Membership, Role, SalesPlan
from salesplan.plans.selectors import decompose_plan, with_inputs
from salesplan.tables import Column, Table, export_response, query_with

PERIODS = {
    "month": gettext_lazy("This month"),
    "last_month": gettext_lazy("Last month"),
    "quarter": gettext_lazy("This quarter"),
}
# Characters of a bad parameter echoed back in a note.
ECHO_CHARS = 40


@dataclass(frozen=True)
class Period:
    key: str
    start: date
    end: date

    @property
    def month(self) -> str:
        return f"{self.start:%Y-%m}"


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _parse_month(text: str) -> date | None:
    try:
        year, month = (int(part) for part in text.strip().split("-"))
        first = date(year, month, 1)
    except (ValueError, TypeError):
        return None
    return first if MIN_YEAR <= first.year <= MAX_YEAR else None


def _echo(text: str) -> str:
    return text[:ECHO_CHARS]


def period_of(params: Any, today: date) -> tuple[Period, list[str]]:
    """The period the page shows, and notes for the values it could not use."""
    notes = []
    key = params.get("period") or "month"
    if key not in PERIODS:
        notes.append(
            gettext("There is no period “%(value)s”: showing this month.") % {"value": _echo(key)}
        )
        key = "month"
    this_month = today.replace(day=1)
    if key == "last_month":
        first = (this_month - timedelta(days=1)).replace(day=1)
        return Period(key, first, _month_end(first)), notes
    if key == "quarter":
        first = this_month.replace(month=(today.month - 1) // 3 * 3 + 1)
        last = _month_end(first.replace(month=first.month + 2))
        return Period(key, first, last), notes
    first = this_month
    text = params.get("month")
    if text:
        chosen = _parse_month(text)
        if chosen is None:
            notes.append(
                gettext(
                    "“%(value)s” is not a month between %(min)s and %(max)s: pick one as "
                    "YYYY-MM. Showing this month."
                )
                % {"value": _echo(text), "min": MIN_YEAR, "max": MAX_YEAR}
            )
        else:
            first = chosen
    return Period(key, first, _month_end(first)), notes


def _plan_of(member: Membership, pk: int) -> SalesPlan:
    return access_object(member, with_inputs(plans_queryset()), pk)


def _chosen_plan(
    member: Membership, text: str | None, choices: list[SalesPlan], period: Period
) -> tuple[SalesPlan | None, list[str]]:
    """The plan of `?plan=` when the member may see it, else the default one for the period."""
    if text:
        try:
            pk = int(text)
            if not 0 < pk <= MAX_ID:
                raise ValueError(text)
            return _plan_of(member, pk), []
        except (ValueError, Http404):
            note = gettext("There is no plan “%(value)s” you can see: showing the default plan.")
            notes = [note % {"value": _echo(text)}]
    else:
        notes = []
    teams = led_team_ids(member) if member.role == Role.HEAD_OF_SALES else set()
    if member.team_id:
        teams = teams | {member.team_id}
    chosen = default_plan(choices, team_ids=teams, start=period.start, end=period.end)
    return (_plan_of(member, chosen.pk) if chosen else None), notes


def _channel(name: str) -> str:
    return name or gettext("no channel")


def _reason(name: str | None) -> str:
    if name is None:
        return gettext("other reasons")
    return name or gettext("no reason given")


def tables_of(figures: MarketingFigures) -> dict[str, Table]:
    """The page's tables (each exports as XLSX and CSV)."""
    channels = Table(
        "channels",
        gettext("Marketing by channel"),
        [
            Column("channel", gettext("Channel")),
            Column("leads", gettext("Leads"), "int"),
            Column("target_leads", gettext("Target leads"), "int"),
            Column("target_share", gettext("Share of target leads"), "percent"),
            Column("non_target_leads", gettext("Non-target leads"), "int"),
            Column("spend", gettext("Spend"), "money"),
            Column("cost_per_lead", gettext("Cost per lead"), "money"),
            Column("cost_per_target_lead", gettext("Cost per target lead"), "money"),
            Column("missed_calls", gettext("Missed calls"), "int"),
            Column("owed", gettext("Owed for target leads"), "money"),
        ],
        [row | {"channel": _channel(row["channel"])} for row in figures.channels],
    )
    weeks = Table(
        "weeks",
        gettext("Marketing by week"),
        [
            Column("week", gettext("Week from"), "date"),
            Column("week_end", gettext("Week to"), "date"),
            Column("planned_leads", gettext("Leads planned"), "int"),
            Column("leads", gettext("Leads"), "int"),
            Column("planned_target_leads", gettext("Target leads planned"), "int"),
            Column("target_leads", gettext("Target leads"), "int"),
            Column("target_share", gettext("Share of target leads"), "percent"),
            Column("cost_per_lead", gettext("Cost per lead"), "money"),
            Column("cost_per_target_lead", gettext("Cost per target lead"), "money"),
            Column("missed_calls", gettext("Missed calls"), "int"),
            Column("owed", gettext("Owed for target leads"), "money"),
        ],
        figures.weeks,
    )
    spend = Table(
        "spend",
        gettext("Spend against the budget"),
        [
            Column("week", gettext("Week from"), "date"),
            Column("budget", gettext("Budget"), "money"),
            Column("spend", gettext("Spend"), "money"),
            Column("cumulative_budget", gettext("Budget, cumulative"), "money"),
            Column("cumulative_spend", gettext("Spend, cumulative"), "money"),
        ],
        figures.weeks,
    )
    reasons = Table(
        "reasons",
        gettext("Non-target reasons"),
        [
            Column("reason", gettext("Reason")),
            Column("leads", gettext("Non-target leads"), "int"),
            Column("share", gettext("Share"), "percent"),
        ],
        [row | {"reason": _reason(row["reason"])} for row in figures.reasons],
    )
    return {"channels": channels, "weeks": weeks, "spend": spend, "reasons": reasons}


@cached_page
def marketing(request: HttpRequest) -> HttpResponse:
    member = require_membership(request, may_see_marketing)
    organization = member.organization
    today = timezone.localdate(timezone=ZoneInfo(organization.time_zone))
    period, notes = period_of(request.GET, today)
    choices = marketing_plan_choices(organization=organization, start=period.start, end=period.end)
    plan, plan_notes = _chosen_plan(member, request.GET.get("plan"), choices, period)
    notes += plan_notes
    context: dict[str, Any] = {
        "period": period,
        "periods": PERIODS,
        "choices": choices,
        "plan": plan,
        "notes": notes,
        "today": today,
    }
    if plan is not None and plan not in choices:
        choices.insert(0, plan)
    if plan is None:
        return render(request, "dashboards/marketing.html", context)
    start, end = period.start, period.end
    if plan.period_end < start or plan.period_start > end:
        notes.append(
            gettext("The plan “%(plan)s” does not cover the chosen period: showing its own.")
            % {"plan": plan.name}
        )
        start, end = plan.period_start, plan.period_end
    start, end = max(start, plan.period_start), min(end, plan.period_end)
    item = decompose_plan(plan)
    if item.decomposition is None:
        context["problems"] = True
        return render(request, "dashboards/marketing.html", context)
    weeks = shown_weeks(item.decomposition, start, end)
    rows = marketing_days(plan=plan, start=weeks[0].start, end=weeks[-1].end) if weeks else []
    figures = marketing_figures(decomposition=item.decomposition, rows=rows, start=start, end=end)
    tables = tables_of(figures)
    if response := export_response(request, *tables.values()):
        return response
    labels = {"channels": [_channel(row["channel"]) for row in figures.channels]}
    context.update(
        start=start,
        end=end,
        figures=figures,
        tables=tables,
        charts=marketing_charts.charts(figures, labels["channels"], tables["reasons"].rows),
        period_links=[
            {
                "key": key,
                "label": label,
                "query": query_with(request, period=key, month=None, plan=None),
            }
            for key, label in PERIODS.items()
        ],
    )
    return render(request, "dashboards/marketing.html", context)

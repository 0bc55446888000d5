"""Reads of the responsibility pie: the pure Pie for the rules, the tree for the page/API."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, gettext

from metrics.catalog import CATALOG
from metrics.models import PerformanceSnapshot, PlanMetric
from responsibility.models import Responsibility
from responsibility.rules import Assignment, MetricView, OwnerView, Pie, check_pie
from salesplan.formatting import format_decimal, no_break
from salesplan.models import Membership, Role, SalespersonKind, SalesPlan
from salesplan.planning import Finding


def owner_view(member: Membership) -> OwnerView:
    return OwnerView(
        key=str(member.pk),
        name=member.display_name,
        role=member.role,
        salesperson_kind=member.salesperson_kind,
    )


def metric_view(metric: PlanMetric, last_position: int) -> MetricView:
    return MetricView(
        key=str(metric.pk),
        name=metric.display_name,
        kind=metric.kind,
        category=metric.category,
        controllable=metric.controllable,
        weight=metric.weight,
        is_last_stage=metric.kind == "stage_volume" and metric.stage_position == last_position,
    )


def pie_from(
    plan: SalesPlan,
    metrics: Sequence[PlanMetric],
    rows: Sequence[Responsibility],
    owners: tuple[OwnerView, ...],
) -> Pie:
    """The plan's pie for the rules (responsibility.rules) from its metrics, its
    responsibility rows and the organization's people as owners: one shape whoever reads it
    (the pie page, the owner's roll-up)."""
    last_position = max((m.stage_position or 0 for m in metrics), default=0)
    return Pie(
        metrics=tuple(metric_view(m, last_position) for m in metrics),
        owners=owners,
        assignments=tuple(
            Assignment(
                key=str(r.pk),
                metric=str(r.metric_id),
                owner=str(r.owner_id),
                share=r.share,
                parent=str(r.parent_id) if r.parent_id else None,
            )
            for r in rows
        ),
        max_metric_share=plan.organization.max_metric_share,
    )


def pie_of(plan: SalesPlan) -> tuple[Pie, list[PlanMetric], list[Responsibility]]:
    """Three queries, whatever the size of the pie."""
    metrics = list(PlanMetric.objects.filter(plan=plan).order_by("id"))
    rows = list(
        Responsibility.objects.filter(plan=plan)
        .select_related("owner__user", "owner__team")
        .order_by("id")
    )
    members = {
        m.pk: m
        for m in Membership.objects.filter(organization_id=plan.organization_id).select_related(
            "user"
        )
    }
    pie = pie_from(plan, metrics, rows, tuple(owner_view(m) for m in members.values()))
    return pie, metrics, rows


ROLE_LABELS = dict(Role.choices)
KIND_LABELS = dict(SalespersonKind.choices)


def finding_payload(finding: Finding) -> dict[str, Any]:
    """The finding in the user's language: role and kind codes become their labels."""
    params = dict(finding.params)
    for name in ("role",):
        if params.get(name) in ROLE_LABELS:
            params[name] = str(ROLE_LABELS[params[name]])
    for name in ("kind", "wanted"):
        if params.get(name) in KIND_LABELS:
            params[name] = str(KIND_LABELS[params[name]]).lower()
    language = get_language() or "ru"
    for name in ("percent", "limit"):
        if isinstance(params.get(name), int | float | Decimal):
            params[name] = format_decimal(params[name], language)
    return {
        "code": finding.code,
        "severity": finding.severity,
        "text": no_break(gettext(finding.message).format(**params)),
    }


def pie_tree(plan: SalesPlan) -> dict[str, Any]:
    """Owners → their metrics → the team split, with weights, plus the rules' findings."""
    return _pie_tree(plan)[0]


def _pie_tree(plan: SalesPlan) -> tuple[dict[str, Any], dict[int, Responsibility]]:
    """The tree and its responsibilities by id (their owners and teams joined)."""
    pie, metrics, rows = pie_of(plan)
    metric_by_id = {m.pk: m for m in metrics}
    children: dict[int, list[Responsibility]] = {}
    for row in rows:
        if row.parent_id:
            children.setdefault(row.parent_id, []).append(row)
    owners: dict[int, dict[str, Any]] = {}
    for row in rows:
        if row.parent_id:
            continue
        metric = metric_by_id[row.metric_id]
        owner = owners.setdefault(
            row.owner_id,
            {
                "membership": row.owner_id,
                "name": row.owner.display_name,
                "role": row.owner.role,
                "weight": 0,
                "metrics": [],
            },
        )
        owner["weight"] += metric.weight
        owner["metrics"].append(
            {
                "responsibility": row.pk,
                "metric": metric.pk,
                "key": metric.key,
                "name": metric.display_name,
                "category": metric.category,
                "unit": metric.unit,
                "direction": metric.direction,
                "planned_value": _plain(metric.planned_value),
                "weight": metric.weight,
                "split": [
                    {
                        "responsibility": child.pk,
                        "membership": child.owner_id,
                        "name": child.owner.display_name,
                        "share": _plain(child.share),
                    }
                    for child in children.get(row.pk, [])
                ],
            }
        )
    owned = {row.metric_id for row in rows if not row.parent_id}
    return {
        "plan": plan.pk,
        "pie_version": plan.pie_version,
        "owners": list(owners.values()),
        "unowned": [
            {"metric": m.pk, "key": m.key, "name": m.display_name, "category": m.category}
            for m in metrics
            if m.pk not in owned
        ],
        "findings": [finding_payload(f) for f in check_pie(pie)],
    }, {row.pk: row for row in rows}


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def metric_label(kind: str) -> str:
    return gettext(CATALOG[kind].label)


# A metric or slice the recompute has not stored a row for yet (a new plan, a new slice).
NOT_COMPUTED = "not_computed"
# How a team's summary orders its statuses: the ones that need attention first.
STATUS_ORDER = ("slipped", "at_risk", "on_track", "not_started", "not_assessed", NOT_COMPUTED)


def latest_statuses(
    plan: SalesPlan, *, today: date | None = None
) -> tuple[date | None, dict[tuple[int, int | None], str]]:
    """The statuses of the plan's latest stored snapshot day up to today (the organization's),
    by (metric id, owner id; None for the department's figure), as the recompute job stored
    them (metrics.PerformanceSnapshot): never recomputed here. Two indexed queries."""
    snapshots = PerformanceSnapshot.objects.filter(plan=plan)
    if today is None:
        today = timezone.localdate(timezone=ZoneInfo(plan.organization.time_zone))
    # The table's only indexes on (plan, day) are its two partial unique ones (the department's
    # rows, owner NULL; the people's): each query names the owner condition of one, or both,
    # or PostgreSQL reads every plan's rows. Every computed day has its department rows.
    day = (
        snapshots.filter(owner__isnull=True, day__lte=today)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    if day is None:
        return None, {}
    rows = snapshots.filter(Q(owner__isnull=True) | Q(owner__isnull=False), day=day).values_list(
        "metric_id", "owner_id", "status"
    )
    return day, {(metric_id, owner_id): status for metric_id, owner_id, status in rows}


def _team_groups(split: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A metric's team split grouped by the people's teams (by name; people in no team last),
    each with its head count, its share of the metric and how many are in each status."""
    groups: dict[int | None, dict[str, Any]] = {}
    for item in split:
        group = groups.setdefault(
            item["team"],
            {"team": item["team"], "name": item["team_name"], "share": Decimal(0), "items": []},
        )
        group["share"] += Decimal(item["share"])
        group["items"].append(item)
    ordered = sorted(groups.values(), key=lambda g: (g["team"] is None, g["name"] or ""))
    for group in ordered:
        group["people"] = len(group["items"])
        group["share"] = _plain(group["share"])
        group["counts"] = status_counts(group["items"])
    return ordered


def status_counts(items: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """How many of `items` are in each status, the ones that need attention first."""
    counts = dict.fromkeys(STATUS_ORDER, 0)
    for item in items:
        counts[item["status"]] = counts.get(item["status"], 0) + 1
    return [(status, n) for status, n in counts.items() if n]


def pie_page_tree(plan: SalesPlan, *, today: date | None = None) -> dict[str, Any]:
    """The pie tree for the page: every metric with its stored status for its owner (their
    personal slice's row when they have one, else the department's figure), every slice of a
    team split with its person's status and team, and the split grouped by team. Five queries
    whatever the size of the team."""
    tree, rows = _pie_tree(plan)
    day, statuses = latest_statuses(plan, today=today)
    for owner in tree["owners"]:
        for metric in owner["metrics"]:
            metric["status"] = statuses.get(
                (metric["metric"], owner["membership"]),
                statuses.get((metric["metric"], None), NOT_COMPUTED),
            )
            for item in metric["split"]:
                team = rows[item["responsibility"]].owner.team
                item["team"] = team.pk if team else None
                item["team_name"] = team.name if team else None
                item["status"] = statuses.get((metric["metric"], item["membership"]), NOT_COMPUTED)
            metric["teams"] = _team_groups(metric["split"])
            metric["split_counts"] = status_counts(metric["split"])
    for metric in tree["unowned"]:
        metric["status"] = statuses.get((metric["metric"], None), NOT_COMPUTED)
    tree["status_day"] = day
    return tree

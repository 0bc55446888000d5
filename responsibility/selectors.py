"""Reads of the responsibility pie: the pure Pie for the rules, the tree for the page/API."""

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext

from metrics.catalog import CATALOG
from metrics.models import PlanMetric
from responsibility.models import Responsibility
from responsibility.rules import Assignment, MetricView, OwnerView, Pie, check_pie
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


def pie_of(plan: SalesPlan) -> tuple[Pie, list[PlanMetric], list[Responsibility]]:
    """Three queries, whatever the size of the pie."""
    metrics = list(PlanMetric.objects.filter(plan=plan).order_by("id"))
    rows = list(
        Responsibility.objects.filter(plan=plan).select_related("owner__user").order_by("id")
    )
    members = {
        m.pk: m
        for m in Membership.objects.filter(organization_id=plan.organization_id).select_related(
            "user"
        )
    }
    last_position = max((m.stage_position or 0 for m in metrics), default=0)
    pie = Pie(
        metrics=tuple(metric_view(m, last_position) for m in metrics),
        owners=tuple(owner_view(m) for m in members.values()),
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
    return {
        "code": finding.code,
        "severity": finding.severity,
        "text": gettext(finding.message).format(**params),
    }


def pie_tree(plan: SalesPlan) -> dict[str, Any]:
    """Owners → their metrics → the team split, with weights, plus the rules' findings."""
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
    }


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def metric_label(kind: str) -> str:
    return gettext(CATALOG[kind].label)

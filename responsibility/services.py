"""Writes of the responsibility pie. Every change bumps the plan's pie_version; a change based
on an older pie_version is refused (StalePie) and writes nothing."""

from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from metrics.models import PlanMetric
from responsibility.models import Responsibility
from responsibility.rules import Seat, default_assignments
from responsibility.selectors import metric_view, owner_view
from salesplan import signals as core_signals
from salesplan.models import Membership, SalesPlan


class StalePie(Exception):
    def __init__(self, current: int) -> None:
        self.current = current
        super().__init__(f"the pie is at version {current}")


def _bump(plan: SalesPlan, expected: int | None) -> int:
    """Claim the next pie version with one conditional UPDATE: two editors of the same
    version cannot both win."""
    query = SalesPlan.objects.filter(pk=plan.pk)
    if expected is not None:
        query = query.filter(pie_version=expected)
    if query.update(pie_version=F("pie_version") + 1) != 1:
        raise StalePie(SalesPlan.objects.values_list("pie_version", flat=True).get(pk=plan.pk))
    plan.refresh_from_db(fields=["pie_version"])
    # Who owns what changed: the plan vs fact per owner follows (salesplan/plans/receivers.py).
    core_signals.pie_changed.send(sender=Responsibility, plan=plan)
    return plan.pie_version


def _check_owner(plan: SalesPlan, owner: Membership) -> None:
    if owner.organization_id != plan.organization_id or not owner.is_active:
        raise ValidationError({"owner": [_("This person is not in your organization.")]})


def _check_share(share: Decimal) -> None:
    if not Decimal(0) < share <= 1:
        raise ValidationError({"share": [_("A share must be more than 0 and at most 1.")]})


@transaction.atomic
def pie_propose_default(*, plan: SalesPlan, only_unowned: bool = True) -> int:
    """Propose owners from the roles for the plan's metrics (by default only for metrics that
    have none yet, so edits survive a re-sync). Returns how many responsibilities it made."""
    metrics = list(PlanMetric.objects.filter(plan=plan))
    if only_unowned:
        owned = set(
            Responsibility.objects.filter(plan=plan, parent=None).values_list(
                "metric_id", flat=True
            )
        )
        metrics = [metric for metric in metrics if metric.pk not in owned]
    else:
        Responsibility.objects.filter(plan=plan).delete()
    if not metrics:
        return 0
    shares = dict(plan.members.values_list("membership_id", "share"))
    members = Membership.objects.filter(organization_id=plan.organization_id, is_active=True)
    seats = [
        Seat(owner=owner_view(member), plan_share=shares.get(member.pk, Decimal(0)))
        for member in members.select_related("user").order_by("id")
    ]
    last_position = max((m.stage_position or 0 for m in metrics), default=0)
    views = [metric_view(metric, last_position) for metric in metrics]
    # A team's plan belongs to that team's head (who may edit it); none set: the owner's.
    team_head = None
    if plan.sales_team_id is not None:
        team_head = str(plan.sales_team.head_id) if plan.sales_team.head_id else ""
    proposal = default_assignments(views, seats, team_head=team_head)
    # Two inserts whatever the size: the owners first, then the team splits below them.
    tops = Responsibility.objects.bulk_create(
        Responsibility(plan=plan, metric_id=int(a.metric), owner_id=int(a.owner), share=a.share)
        for a in proposal
        if a.parent is None
    )
    by_key = {
        a.key: row for a, row in zip([a for a in proposal if a.parent is None], tops, strict=True)
    }
    Responsibility.objects.bulk_create(
        Responsibility(
            plan=plan,
            metric_id=int(a.metric),
            owner_id=int(a.owner),
            share=a.share,
            parent=by_key[a.parent],
        )
        for a in proposal
        if a.parent is not None
    )
    _bump(plan, None)
    return len(proposal)


@transaction.atomic
def responsibility_assign(
    *,
    plan: SalesPlan,
    metric: PlanMetric,
    owner: Membership,
    expected_pie_version: int | None,
    parent: Responsibility | None = None,
    share: Decimal = Decimal(1),
) -> Responsibility:
    """Give a metric an owner (parent=None), or a team member a share below a responsibility."""
    _check_owner(plan, owner)
    _check_share(share)
    if metric.plan_id != plan.pk:
        raise ValidationError({"metric": [_("This metric is not in this plan.")]})
    if parent is not None and (parent.plan_id != plan.pk or parent.metric_id != metric.pk):
        raise ValidationError(
            {"parent": [_("The parent must be a responsibility for the same metric.")]}
        )
    if Responsibility.objects.filter(metric=metric, owner=owner, parent=parent).exists():
        raise ValidationError({"owner": [_("This person already holds this slice.")]})
    _bump(plan, expected_pie_version)
    return Responsibility.objects.create(
        plan=plan, metric=metric, owner=owner, parent=parent, share=share
    )


@transaction.atomic
def responsibility_reassign(
    *,
    responsibility: Responsibility,
    owner: Membership | None = None,
    share: Decimal | None = None,
    expected_pie_version: int | None,
) -> Responsibility:
    plan = responsibility.plan
    if owner is not None:
        _check_owner(plan, owner)
        clash = Responsibility.objects.filter(
            metric_id=responsibility.metric_id, owner=owner, parent_id=responsibility.parent_id
        ).exclude(pk=responsibility.pk)
        if clash.exists():
            raise ValidationError({"owner": [_("This person already holds this slice.")]})
        responsibility.owner = owner
    if share is not None:
        _check_share(share)
        responsibility.share = share
    _bump(plan, expected_pie_version)
    responsibility.save()
    return responsibility


@transaction.atomic
def responsibility_delete(
    *, responsibility: Responsibility, expected_pie_version: int | None
) -> None:
    _bump(responsibility.plan, expected_pie_version)
    responsibility.delete()


@transaction.atomic
def responsibility_split(
    *,
    responsibility: Responsibility,
    shares: Sequence[tuple[Membership, Decimal]],
    expected_pie_version: int | None,
) -> list[Responsibility]:
    """Replace the team split below a responsibility (the head of sales' own cut)."""
    plan = responsibility.plan
    seen: set[int] = set()
    for owner, share in shares:
        _check_owner(plan, owner)
        _check_share(share)
        if owner.pk in seen:
            raise ValidationError({"shares": [_("This person is in the split twice.")]})
        seen.add(owner.pk)
    _bump(plan, expected_pie_version)
    responsibility.children.all().delete()
    return [
        Responsibility.objects.create(
            plan=plan,
            metric_id=responsibility.metric_id,
            owner=owner,
            parent=responsibility,
            share=share,
        )
        for owner, share in shares
    ]

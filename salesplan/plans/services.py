"""A plan's life, the one layer that sees all of it: a save is checked, decomposed once, stored
as a version, and its metrics and default pie follow; a preview takes the same path without
writing. How a saved plan follows its funnel, products and actuals is in `refresh.py`.

Pages and the API call these functions with the same arguments; errors are Django
ValidationErrors keyed by field ("team[0].membership"), in the user's language.
"""

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from funnel.models import Funnel, Stage
from metrics.catalog import plan_metrics
from metrics.services import check_storable, plan_metrics_sync
from responsibility.services import pie_propose_default
from salesplan.errors import translate_errors
from salesplan.models import (
    Organization,
    PlanMember,
    PlanProduct,
    PlanVersion,
    SalespersonKind,
    SalesPlan,
    Team,
)
from salesplan.planning import Decomposition, History, PlanInput, PlanInputError, decompose
from salesplan.plans.checks import check_draft
from salesplan.plans.history import funnel_history
from salesplan.plans.performance import performance_refresh_plans
from salesplan.plans.snapshot import (
    PLAN_INPUT_FIELDS,
    MixEntry,
    MixItem,
    TeamEntry,
    TeamShare,
    draft_snapshot,
    history_from_json,
    history_to_json,
    mix_entries,
    plan_input,
    team_entries,
)
from salesplan.selectors import calendar_for

__all__ = [
    "MixItem",
    "StaleVersion",
    "TeamShare",
    "plan_create",
    "plan_delete",
    "plan_preview",
    "plan_update",
    "snapshot_preview",
]


class StaleVersion(Exception):
    """The plan was saved by someone else since the caller read it."""

    def __init__(self, current: int) -> None:
        self.current = current
        super().__init__(f"the plan is at version {current}")


def _checked_snapshot(
    *,
    organization: Organization,
    funnel: Funnel,
    sales_team: Team | None,
    team: Sequence[TeamShare],
    mix: Sequence[MixItem],
    fields: dict[str, Any],
) -> tuple[list[Stage], dict[str, Any]]:
    """The funnel's stages and the draft's snapshot, once the draft passed the checks: the
    common start of a preview, a create and an update."""
    check_draft(organization=organization, funnel=funnel, sales_team=sales_team, team=team, mix=mix)
    stages = _stages(funnel)
    snapshot = draft_snapshot(
        fields=fields,
        funnel=funnel,
        stages=stages,
        team=team_entries(team),
        product_mix=mix_entries(mix),
    )
    return stages, snapshot


def _engine_errors(error: PlanInputError, *, stages_of_funnel: bool) -> ValidationError:
    """The engine's errors in the user's language; with `stages_of_funnel`, stage problems
    belong to the saved funnel the plan is built on (not to stages typed inline)."""
    translated = translate_errors(error.errors)
    if stages_of_funnel:
        for key in [key for key in translated if key.startswith("stages")]:
            translated.setdefault("funnel", []).extend(translated.pop(key))
    return ValidationError(translated)


def _decompose(
    snapshot: dict[str, Any],
    *,
    organization: Organization,
    history: History | None,
    stages_of_funnel: bool = True,
) -> tuple[PlanInput, Decomposition]:
    """The one decomposition of a save or a preview, from the snapshot; refused when a figure
    it gives is too large to store (a preview says so before the save would)."""
    inputs = plan_input(snapshot, calendar=calendar_for(organization), history=history)
    try:
        decomposition = decompose(inputs)
    except PlanInputError as error:
        raise _engine_errors(error, stages_of_funnel=stages_of_funnel) from error
    check_storable(plan_metrics(inputs, decomposition))
    return inputs, decomposition


def _stages(funnel: Funnel) -> list[Stage]:
    return list(funnel.stages.order_by("position"))


def history_of(
    *,
    organization: Organization,
    funnel: Funnel,
    sales_team_id: int | None,
    start: date,
    stages: Sequence[Stage] | None = None,
) -> History | None:
    """The funnel's months before the plan, from the actuals (a team's plan: its people's)."""
    return funnel_history(
        organization=organization,
        funnel_id=funnel.pk,
        sales_team_id=sales_team_id,
        before=start,
        stage_names=[stage.name for stage in (stages if stages is not None else _stages(funnel))],
    )


# --- derived data: metrics and the default pie ----------------------------------------------------


def derive(
    plan: SalesPlan, inputs: PlanInput, decomposition: Decomposition, team: Sequence[TeamShare]
) -> None:
    """The plan's metrics follow its decomposition (bulk); metrics without an owner get the
    default owner from the roles (a proposal the user edits on the pie)."""
    has_farmers = any(item.membership.salesperson_kind == SalespersonKind.FARMER for item in team)
    plan_metrics_sync(
        plan=plan, planned=plan_metrics(inputs, decomposition, has_farmers=has_farmers)
    )
    pie_propose_default(plan=plan)


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def _user(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


# --- preview --------------------------------------------------------------------------------------


def plan_preview(
    *,
    organization: Organization,
    funnel: Funnel,
    team: Sequence[TeamShare] = (),
    product_mix: Sequence[MixItem] = (),
    sales_team: Team | None = None,
    history: History | None = None,
    **fields: Any,
) -> Decomposition:
    """The decomposition the plan would have, nothing saved: the same checks, the same
    snapshot and the same engine call as a save, so a preview and the save never disagree
    (the save also checks the plan against its funnel's history; pass `history` to do so)."""
    _, snapshot = _checked_snapshot(
        organization=organization,
        funnel=funnel,
        sales_team=sales_team,
        team=team,
        mix=product_mix,
        fields=fields,
    )
    return _decompose(snapshot, organization=organization, history=history)[1]


def snapshot_preview(
    *,
    organization: Organization,
    stages: Iterable[Any],
    team: Sequence[TeamEntry] = (),
    product_mix: Sequence[MixEntry] = (),
    funnel: Funnel | None = None,
    history: History | None = None,
    **fields: Any,
) -> Decomposition:
    """The API preview of a plan nobody saved: stages inline (or a saved funnel's), people
    by name, products by name and price. The same snapshot builder and engine call."""
    snapshot = draft_snapshot(
        fields=fields, funnel=funnel, stages=stages, team=team, product_mix=product_mix
    )
    return _decompose(snapshot, organization=organization, history=history, stages_of_funnel=False)[
        1
    ]


# --- create and update ----------------------------------------------------------------------------


def _write_team_and_mix(
    plan: SalesPlan, team: Sequence[TeamShare] | None, mix: Sequence[MixItem] | None
) -> None:
    if team is not None:
        plan.members.all().delete()
        PlanMember.objects.bulk_create(
            PlanMember(plan=plan, membership=item.membership, share=item.share) for item in team
        )
    if mix is not None:
        plan.product_mix.all().delete()
        PlanProduct.objects.bulk_create(
            PlanProduct(plan=plan, product=item.product, share=item.share, units=item.units)
            for item in mix
        )


@transaction.atomic
def plan_create(
    *,
    organization: Organization,
    user: Any,
    funnel: Funnel,
    team: Sequence[TeamShare] = (),
    product_mix: Sequence[MixItem] = (),
    sales_team: Team | None = None,
    **fields: Any,
) -> SalesPlan:
    """Check the plan, decompose it once (against its funnel's history), save it as
    version 1 with its metrics and default pie."""
    stages, snapshot = _checked_snapshot(
        organization=organization,
        funnel=funnel,
        sales_team=sales_team,
        team=team,
        mix=product_mix,
        fields=fields,
    )
    history = history_of(
        organization=organization,
        funnel=funnel,
        sales_team_id=sales_team.pk if sales_team else None,
        start=fields["period_start"],
        stages=stages,
    )
    inputs, decomposition = _decompose(snapshot, organization=organization, history=history)
    plan = SalesPlan.objects.create(
        organization=organization,
        funnel=funnel,
        sales_team=sales_team,
        created_by=_user(user),
        version=1,
        history=history_to_json(history),
        history_updated_at=timezone.now(),
        **fields,
    )
    _write_team_and_mix(plan, team, product_mix)
    PlanVersion.objects.create(
        plan=plan, number=1, inputs=snapshot, changes={}, created_by=_user(user)
    )
    derive(plan, inputs, decomposition, team)
    performance_refresh_plans(plan_ids=[plan.pk])
    return plan


@transaction.atomic
def plan_update(
    *,
    plan: SalesPlan,
    user: Any,
    expected_version: int | None,
    funnel: Funnel | None = None,
    team: Sequence[TeamShare] | None = None,
    product_mix: Sequence[MixItem] | None = None,
    **fields: Any,
) -> SalesPlan:
    """Save changes unless someone else saved first (then StaleVersion: nothing is written).
    SalesPlan.DoesNotExist if the plan was deleted meanwhile.

    The plan's row is locked first (as `plan_delete` locks it), so a save and a delete of the
    same plan run one after the other. The version check and the bump are one conditional
    UPDATE, so two concurrent saves of the same version cannot both win. The stored history
    is kept when the funnel, the team and the first month are the same (new actuals refresh
    it in a job), else recomputed."""
    current = (
        SalesPlan.objects.select_for_update(of=("self",))
        .select_related("organization", "funnel", "sales_team")
        .get(pk=plan.pk)
    )
    if expected_version is not None and expected_version != current.version:
        raise StaleVersion(current.version)
    organization = current.organization
    funnel = funnel or current.funnel
    sales_team = fields.pop("sales_team", current.sales_team)
    merged = {name: getattr(current, name) for name in PLAN_INPUT_FIELDS} | fields
    kept_team = team is None
    if team is None:
        team = [
            TeamShare(m.membership, m.share)
            for m in current.members.select_related("membership__user")
        ]
    kept_mix = product_mix is None
    if product_mix is None:
        product_mix = [
            MixItem(p.product, p.share, p.units)
            for p in current.product_mix.select_related("product")
        ]
    stages, snapshot = _checked_snapshot(
        organization=organization,
        funnel=funnel,
        sales_team=sales_team,
        team=team,
        mix=product_mix,
        fields=merged,
    )
    team_id = sales_team.pk if sales_team else None
    same_history = (
        funnel.pk == current.funnel_id
        and team_id == current.sales_team_id
        and merged["period_start"].replace(day=1) == current.period_start.replace(day=1)
    )
    history = (
        history_from_json(current.history)
        if same_history
        else history_of(
            organization=organization,
            funnel=funnel,
            sales_team_id=team_id,
            start=merged["period_start"],
            stages=stages,
        )
    )
    inputs, decomposition = _decompose(snapshot, organization=organization, history=history)
    updated = SalesPlan.objects.filter(pk=current.pk, version=current.version).update(
        version=current.version + 1
    )
    if updated != 1:
        raise StaleVersion(SalesPlan.objects.values_list("version", flat=True).get(pk=current.pk))
    previous = (
        PlanVersion.objects.filter(plan=current)
        .order_by("-number")
        .values_list("inputs", flat=True)
    ).first() or {}
    for name, value in merged.items():
        setattr(current, name, value)
    current.funnel = funnel
    current.sales_team = sales_team
    current.version += 1
    if not same_history:
        current.history = history_to_json(history)
        current.history_updated_at = timezone.now()
    current.save()
    _write_team_and_mix(current, None if kept_team else team, None if kept_mix else product_mix)
    PlanVersion.objects.create(
        plan=current,
        number=current.version,
        inputs=snapshot,
        changes=_diff(previous, snapshot),
        created_by=_user(user),
    )
    derive(current, inputs, decomposition, team)
    # its plan vs fact follows, in a job
    performance_refresh_plans(plan_ids=[current.pk])
    return current


@transaction.atomic
def plan_delete(*, plan: SalesPlan) -> None:
    """Delete the plan with its versions, team, mix, metrics and pie; SalesPlan.DoesNotExist
    if it is already gone. Its row is locked first, as a save locks it: a concurrent save then
    waits and finds the plan gone, instead of the two deadlocking on the rows both write."""
    locked = SalesPlan.objects.select_for_update().filter(pk=plan.pk).first()
    if locked is None:
        raise SalesPlan.DoesNotExist
    locked.delete()

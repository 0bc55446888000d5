"""Writes of sales plans: create, update (with optimistic concurrency), versions; products and
the working calendar."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from funnel.models import Funnel
from salesplan.models import (
    CalendarDay,
    Membership,
    Organization,
    PlanMember,
    PlanProduct,
    PlanVersion,
    Product,
    Role,
    SalesPlan,
)
from salesplan.plan_engine import (
    PLAN_INPUT_FIELDS,
    calendar_for,
    plan_input_from_snapshot,
    snapshot_of,
    translate_errors,
)
from salesplan.planning import Decomposition, PlanInputError, decompose, validate_plan


class StaleVersion(Exception):
    """The plan was saved by someone else since the caller read it."""

    def __init__(self, current: int) -> None:
        self.current = current
        super().__init__(f"the plan is at version {current}")


@dataclass(frozen=True)
class TeamShare:
    membership: Membership
    share: Decimal


@dataclass(frozen=True)
class MixItem:
    product: Product
    share: Decimal | None = None
    units: int | None = None


def _check_team(team: Sequence[TeamShare], organization: Organization) -> dict[str, list[str]]:
    """Only the organization's salespeople carry shares; the head of sales has no personal
    plan (DOMAIN idea 5: their motivation is the department plan)."""
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(team):
        membership = item.membership
        if membership.organization_id != organization.pk or not membership.is_active:
            errors[f"team[{index}].membership"] = [_("This person is not in your organization.")]
        elif membership.role == Role.HEAD_OF_SALES:
            errors[f"team[{index}].membership"] = [
                _(
                    "The head of sales has no personal sales plan: their goal is the "
                    "department plan. Credit their deals to a salesperson instead."
                )
            ]
        elif membership.role != Role.SALESPERSON:
            errors[f"team[{index}].membership"] = [_("Only salespeople carry a share of the plan.")]
    return errors


def _draft_snapshot(
    *,
    organization: Organization,
    funnel: Funnel,
    fields: dict[str, Any],
    team: Sequence[TeamShare],
    mix: Sequence[MixItem],
) -> dict[str, Any]:
    """The snapshot the plan *would* have: validated by the engine before anything is saved."""
    plan = SalesPlan(organization=organization, funnel=funnel, **fields)
    snapshot = {name: getattr(plan, name) for name in PLAN_INPUT_FIELDS}
    snapshot["stages"] = [
        {
            "name": stage.name,
            "conversion": stage.conversion,
            "is_key_stage": stage.is_key_stage,
            "is_target_lead": stage.is_target_lead,
        }
        for stage in funnel.stages.all()
    ]
    snapshot["team"] = [
        {
            "membership": item.membership.pk,
            "name": item.membership.display_name,
            "share": item.share,
        }
        for item in team
    ]
    snapshot["product_mix"] = [
        {
            "product": item.product.pk,
            "name": item.product.name,
            "price": item.product.price,
            "margin_pct": item.product.margin_pct,
            "share": item.share,
            "units": item.units,
        }
        for item in mix
    ]
    return snapshot


def _validate(
    *,
    organization: Organization,
    funnel: Funnel,
    fields: dict[str, Any],
    team: Sequence[TeamShare],
    mix: Sequence[MixItem],
) -> None:
    errors = _check_team(team, organization)
    if funnel.organization_id != organization.pk:
        errors["funnel"] = [_("This funnel is not in your organization.")]
    for index, item in enumerate(mix):
        if item.product.organization_id != organization.pk:
            errors[f"product_mix[{index}].product"] = [
                _("This product is not in your organization.")
            ]
    if errors:
        raise ValidationError(errors)
    snapshot = _draft_snapshot(
        organization=organization, funnel=funnel, fields=fields, team=team, mix=mix
    )
    try:
        validate_plan(plan_input_from_snapshot(snapshot, calendar=calendar_for(organization)))
    except PlanInputError as error:
        translated = translate_errors(error.errors)
        # Stage problems belong to the funnel the plan is built on.
        stage_keys = [key for key in translated if key.startswith("stages")]
        if stage_keys:
            translated.setdefault("funnel", [])
            for key in stage_keys:
                translated["funnel"].extend(translated.pop(key))
        raise ValidationError(translated) from error


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def _record_version(plan: SalesPlan, user: Any, previous: dict[str, Any] | None) -> PlanVersion:
    snapshot = snapshot_of(plan)
    return PlanVersion.objects.create(
        plan=plan,
        number=plan.version,
        inputs=snapshot,
        changes=_diff(previous or {}, snapshot) if previous is not None else {},
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


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
    **fields: Any,
) -> SalesPlan:
    """Validate the whole plan with the engine, then save it as version 1."""
    _validate(organization=organization, funnel=funnel, fields=fields, team=team, mix=product_mix)
    plan = SalesPlan.objects.create(
        organization=organization,
        funnel=funnel,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        version=1,
        **fields,
    )
    _write_team_and_mix(plan, team, product_mix)
    plan.refresh_from_db()  # version 1 stores the values as the database keeps them
    _record_version(plan, user, None)
    plan_pie_refresh(plan=plan)
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

    The version check and the bump are one conditional UPDATE, so two concurrent saves of
    the same version cannot both win."""
    current = SalesPlan.objects.select_for_update().get(pk=plan.pk)
    if expected_version is not None and expected_version != current.version:
        raise StaleVersion(current.version)
    previous = snapshot_of(current)
    funnel = funnel or current.funnel
    merged = {name: getattr(current, name) for name in PLAN_INPUT_FIELDS} | fields
    if team is None:
        team = [
            TeamShare(m.membership, m.share)
            for m in current.members.select_related("membership__user")
        ]
        keep_team = True
    else:
        keep_team = False
    if product_mix is None:
        product_mix = [
            MixItem(p.product, p.share, p.units)
            for p in current.product_mix.select_related("product")
        ]
        keep_mix = True
    else:
        keep_mix = False
    _validate(
        organization=current.organization,
        funnel=funnel,
        fields=merged,
        team=team,
        mix=product_mix,
    )
    updated = SalesPlan.objects.filter(pk=current.pk, version=current.version).update(
        version=current.version + 1
    )
    if updated != 1:
        raise StaleVersion(SalesPlan.objects.get(pk=current.pk).version)
    for name, value in merged.items():
        setattr(current, name, value)
    current.funnel = funnel
    current.version += 1
    current.save()
    _write_team_and_mix(current, None if keep_team else team, None if keep_mix else product_mix)
    _record_version(current, user, previous)
    plan_pie_refresh(plan=current)
    return current


def plan_pie_refresh(*, plan: SalesPlan) -> None:
    """The plan's metrics follow its decomposition; metrics without an owner get the default
    owner from the roles (a proposal the user edits on the pie)."""
    from metrics.services import plan_metrics_sync
    from responsibility.services import pie_propose_default

    plan_metrics_sync(plan=plan)
    pie_propose_default(plan=plan)


def plan_preview(
    *,
    organization: Organization,
    funnel: Funnel,
    team: Sequence[TeamShare] = (),
    product_mix: Sequence[MixItem] = (),
    **fields: Any,
) -> Decomposition:
    """The decomposition the plan would have, nothing saved; invalid input raises the same
    ValidationError (same keys, same words) as plan_create, so a live preview and the save
    never disagree."""
    _validate(organization=organization, funnel=funnel, fields=fields, team=team, mix=product_mix)
    snapshot = _draft_snapshot(
        organization=organization, funnel=funnel, fields=fields, team=team, mix=product_mix
    )
    return decompose(plan_input_from_snapshot(snapshot, calendar=calendar_for(organization)))


@transaction.atomic
def product_create(*, organization: Organization, **fields: Any) -> Product:
    return Product.objects.create(organization=organization, **fields)


@transaction.atomic
def calendar_day_set(
    *, organization: Organization, day: Any, is_working: bool, note: str = ""
) -> CalendarDay:
    """Make a day working or off for this organization (against the production calendar)."""
    calendar_day, _created = CalendarDay.objects.update_or_create(
        organization=organization, date=day, defaults={"is_working": is_working, "note": note}
    )
    return calendar_day


@transaction.atomic
def calendar_day_delete(*, calendar_day: CalendarDay) -> None:
    """Drop the organization's own entry: the day follows the production calendar again."""
    calendar_day.delete()

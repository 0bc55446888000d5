"""Writes of funnels and their stages."""

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from funnel.models import Funnel, Stage, StageEvent
from salesplan.models import Organization
from salesplan.plan_engine import translate_errors
from salesplan.planning import PlanInputError, StageInput, stage_errors


def _validated(stages: Sequence[dict[str, Any]]) -> list[StageInput]:
    inputs = [
        StageInput(
            name=(stage.get("name") or "").strip(),
            conversion=stage.get("conversion"),
            is_key_stage=bool(stage.get("is_key_stage")),
            is_target_lead=bool(stage.get("is_target_lead")),
        )
        for stage in stages
    ]
    errors = stage_errors(inputs)
    if errors:
        raise ValidationError(translate_errors(errors))
    return inputs


def _write_stages(funnel: Funnel, stages: Sequence[StageInput]) -> None:
    """Update the stages in place by position (actuals point at them), add new ones at the
    end, and remove the extra ones only if nothing happened at them yet."""
    existing = list(funnel.stages.order_by("position"))
    extra = existing[len(stages) :]
    if extra and StageEvent.objects.filter(stage__in=extra).exists():
        raise ValidationError(
            {"stages": [_("A stage with actuals cannot be removed; rename it instead.")]}
        )
    Stage.objects.filter(pk__in=[stage.pk for stage in extra]).delete()
    kept = existing[: len(stages)]
    # Free the names first: stages may swap names, and names are unique within a funnel.
    for stage in kept:
        stage.name = f"__renaming__{stage.pk}"
    Stage.objects.bulk_update(kept, ["name"])
    for stage, wanted in zip(kept, stages, strict=False):
        stage.name = wanted.name
        stage.conversion = wanted.conversion
        stage.is_key_stage = wanted.is_key_stage
        stage.is_target_lead = wanted.is_target_lead
    Stage.objects.bulk_update(kept, ["name", "conversion", "is_key_stage", "is_target_lead"])
    Stage.objects.bulk_create(
        Stage(
            funnel=funnel,
            name=stage.name,
            position=position,
            conversion=stage.conversion,
            is_key_stage=stage.is_key_stage,
            is_target_lead=stage.is_target_lead,
        )
        for position, stage in enumerate(stages)
        if position >= len(kept)
    )


@transaction.atomic
def funnel_create(
    *, organization: Organization, name: str, stages: Sequence[dict[str, Any]]
) -> Funnel:
    """A funnel with its ordered stages (top first); exactly one key stage."""
    inputs = _validated(stages)
    funnel = Funnel.objects.create(organization=organization, name=name.strip())
    _write_stages(funnel, inputs)
    return funnel


def _refresh_plans(funnel: Funnel) -> None:
    """Plans built on the funnel get metrics for its new stages."""
    from salesplan.plan_services import plan_pie_refresh

    for plan in funnel.plans.select_related("organization", "funnel"):
        try:
            plan_pie_refresh(plan=plan)
        except PlanInputError:
            continue  # the plan page shows what is wrong with it


@transaction.atomic
def funnel_update(
    *, funnel: Funnel, name: str | None = None, stages: Sequence[dict[str, Any]] | None = None
) -> Funnel:
    """Rename and/or replace the stages. Saved plans keep the stages they were made with in
    their versions; their current decomposition follows the new stages."""
    if stages is not None:
        _write_stages(funnel, _validated(stages))
        _refresh_plans(funnel)
    if name is not None and name.strip() != funnel.name:
        funnel.name = name.strip()
        funnel.save(update_fields=["name"])
    return funnel

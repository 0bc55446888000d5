"""Writes of funnels and their stages (the page and the API call the same functions)."""

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from funnel import signals
from funnel.models import Funnel, Stage, StageEvent
from salesplan.access import scoped
from salesplan.errors import translate_errors
from salesplan.models import Organization
from salesplan.planning import StageInput, stage_errors


def _stage_inputs(stages: Sequence[dict[str, Any]]) -> list[StageInput]:
    return [
        StageInput(
            name=(stage.get("name") or "").strip(),
            conversion=stage.get("conversion"),
            is_key_stage=bool(stage.get("is_key_stage")),
            is_target_lead=bool(stage.get("is_target_lead")),
        )
        for stage in stages
    ]


def _check(
    *,
    organization: Organization,
    name: str | None,
    stages: Sequence[StageInput] | None,
    funnel: Funnel | None = None,
) -> None:
    """A funnel's name is unique in the organization; its stages pass the engine's rules
    (exactly one key stage, conversions in (0, 1], …). Every error at once."""
    errors: dict[str, list[str]] = {}
    if name is not None:
        clash = scoped(Funnel, organization).filter(name=name)
        if funnel is not None:
            clash = clash.exclude(pk=funnel.pk)
        if not name:
            errors["name"] = [_("Give the funnel a name.")]
        elif clash.exists():
            errors["name"] = [_("A funnel with this name already exists.")]
    if stages is not None:
        errors.update(translate_errors(stage_errors(stages)))
    if errors:
        raise ValidationError(errors)


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
    name, inputs = name.strip(), _stage_inputs(stages)
    _check(organization=organization, name=name, stages=inputs)
    funnel = Funnel.objects.create(organization=organization, name=name)
    _write_stages(funnel, inputs)
    return funnel


@transaction.atomic
def funnel_update(
    *, funnel: Funnel, name: str | None = None, stages: Sequence[dict[str, Any]] | None = None
) -> Funnel:
    """Rename and/or replace the stages. Saved plans keep the stages they were made with in
    their versions; their current decomposition follows the new stages (the plans layer
    listens to `stages_changed`, in this transaction)."""
    name = name.strip() if name is not None else None
    inputs = _stage_inputs(stages) if stages is not None else None
    _check(organization=funnel.organization, name=name, stages=inputs, funnel=funnel)
    if name is not None and name != funnel.name:
        funnel.name = name
        funnel.save(update_fields=["name"])
    if inputs is not None:
        _write_stages(funnel, inputs)
        signals.stages_changed.send(sender=Funnel, funnel=funnel)
    return funnel

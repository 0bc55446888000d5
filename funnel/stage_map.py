"""The one CRM-stage resolver: a CRM's stage (its name, id, or "pipeline / stage") → one of our
funnel's stages, or the deal's outcome (won / lost). File imports, integrations and webhooks
all resolve through `resolve_stage_map`; each says what is wrong in its own words.

Stages are compared ignoring case and spacing, on both sides: "Встреча  проведена" in a CRM
map finds our "Встреча проведена".
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from funnel.importers.values import normalize_text
from funnel.ingest.schema import LOST, WON

OUTCOMES = (WON, LOST)


@dataclass(frozen=True)
class StageMap:
    """A resolved stage map. `targets`: the CRM's stage as written → our stage's exact name or
    WON / LOST (what is stored and shown). `positions`: the CRM's stage, normalized → our
    stage's position or WON / LOST (what the readers look up). `unknown`: (CRM stage, target)
    pairs whose target is neither a stage of the funnel nor an outcome."""

    targets: dict[str, str] = field(default_factory=dict)
    positions: dict[str, int | str] = field(default_factory=dict)
    unknown: list[tuple[str, str]] = field(default_factory=list)


def our_stage(target: str, stage_names: Sequence[str]) -> str | None:
    """Our stage's exact name, WON or LOST for what a person or a CRM map wrote; None if it
    is none of them."""
    wanted = normalize_text(str(target))
    if wanted in OUTCOMES:
        return wanted
    return next((name for name in stage_names if normalize_text(name) == wanted), None)


def resolve_stage_map(
    stage_map: Mapping[str, str],
    stage_names: Sequence[str],
    *,
    implied: Mapping[str, str] | None = None,
) -> StageMap:
    """Resolve `stage_map` (the CRM's stage → our stage name, "won" or "lost") against the
    funnel's `stage_names` (top first). `implied` entries (amoCRM's 142 / 143) come first
    and the map may override them. Blank targets mean "not mapped" and are left out."""
    resolved = StageMap()
    for external, outcome in (implied or {}).items():
        resolved.positions[normalize_text(external)] = outcome
    positions = {name: index for index, name in enumerate(stage_names)}
    for external, target in stage_map.items():
        if not str(target).strip():
            continue
        ours = our_stage(target, stage_names)
        if ours is None:
            resolved.unknown.append((str(external), str(target)))
            continue
        resolved.targets[str(external)] = ours
        resolved.positions[normalize_text(str(external))] = (
            ours if ours in OUTCOMES else positions[ours]
        )
    return resolved

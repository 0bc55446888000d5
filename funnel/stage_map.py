"""The one CRM-stage resolver: a CRM's stage (its name, id, or "pipeline / stage") → one of our
funnel's stages, or the deal's outcome (won / lost). File imports, integrations and webhooks
all resolve through `resolve_stage_map`; each says what is wrong in its own words.

Names are compared ignoring case, spacing and ё/е, on both sides. Our own stage names need no
mapping: a CRM stage written exactly as one of our stages ("встреча  проведена" for «Встреча
проведена») goes there unless the map says otherwise. A target may name our stage by its name
or by its id.
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
    stage's position or WON / LOST (what the readers look up; our own stage names included).
    `unknown`: (CRM stage, target) pairs whose target is neither a stage of the funnel (by name
    or id) nor an outcome."""

    targets: dict[str, str] = field(default_factory=dict)
    positions: dict[str, int | str] = field(default_factory=dict)
    unknown: list[tuple[str, str]] = field(default_factory=list)


def our_stage(
    target: object, stage_names: Sequence[str], stage_ids: Sequence[int] = ()
) -> str | None:
    """Our stage's exact name, WON or LOST for what a person or a CRM map wrote (a stage's
    name, or its id when `stage_ids` are given in the order of `stage_names`); None if it is
    none of them."""
    wanted = normalize_text(str(target))
    if wanted in OUTCOMES:
        return wanted
    by_name = next((name for name in stage_names if normalize_text(name) == wanted), None)
    if by_name is not None:
        return by_name
    if wanted.isdigit():
        return next(
            (name for name, pk in zip(stage_names, stage_ids, strict=False) if str(pk) == wanted),
            None,
        )
    return None


def resolve_stage_map(
    stage_map: Mapping[str, object],
    stage_names: Sequence[str],
    *,
    stage_ids: Sequence[int] = (),
    implied: Mapping[str, str] | None = None,
) -> StageMap:
    """Resolve `stage_map` (the CRM's stage → our stage's name or id, "won" or "lost") against
    the funnel's `stage_names` (top first). Our own stage names come first, then `implied`
    entries (amoCRM's 142 / 143); the map overrides both. Blank targets mean "not mapped"."""
    resolved = StageMap()
    for outcome in OUTCOMES:  # "won" and "lost" are ours too
        resolved.positions[outcome] = outcome
    for position, name in enumerate(stage_names):
        resolved.positions[normalize_text(name)] = position
    for external, outcome in (implied or {}).items():
        resolved.positions[normalize_text(external)] = outcome
    positions = {name: index for index, name in enumerate(stage_names)}
    for external, target in stage_map.items():
        if not str(target).strip():
            continue
        ours = our_stage(target, stage_names, stage_ids)
        if ours is None:
            resolved.unknown.append((str(external), str(target)))
            continue
        resolved.targets[str(external)] = ours
        resolved.positions[normalize_text(str(external))] = (
            ours if ours in OUTCOMES else positions[ours]
        )
    return resolved

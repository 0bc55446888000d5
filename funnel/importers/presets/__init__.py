"""Presets: real CRM exports recognised by their headers, with their columns and stages mapped
to ours by default. One module per CRM; `generic` is our own documented template."""

from collections.abc import Iterable, Mapping, Sequence

from funnel.importers.fields import CRM_STAGE, MAPPABLE_FIELDS
from funnel.importers.headers import normalize_header
from funnel.importers.presets import amocrm, bitrix24, generic, maven
from funnel.importers.presets.base import Preset
from funnel.importers.values import normalize_text
from funnel.ingest.schema import LOST, WON

# Checked in this order: the CRM presets have distinctive headers, the template's aliases are
# broad (an amoCRM export would pass for the template too).
PRESETS: dict[str, Preset] = {
    preset.name: preset for preset in (amocrm.PRESET, bitrix24.PRESET, maven.PRESET, generic.PRESET)
}
# Stage words of the template (and of files mapped by hand) that mean the deal's outcome.
GENERIC_WON = frozenset({"won", "выиграна", "выиграно", "успешна", "успешно"})
GENERIC_LOST = frozenset({"lost", "проиграна", "проиграно", "провалена", "отказ"})
# A file is our template when it has these columns (by the template's names).
TEMPLATE_FIELDS = ("external_id", "created_at", CRM_STAGE)
# A stage key qualified with its pipeline (see `crm_stages`): "Продажи / Переговоры".
PIPELINE_SEPARATOR = " / "


def detect_preset(headers: Iterable[str]) -> str:
    """The preset whose headers the file has: amocrm, bitrix24, maven, generic, or "" (none)."""
    names = {normalize_header(name) for name in headers}
    for preset in PRESETS.values():
        if preset.markers and preset.matches(names):
            return preset.name
    template = _columns_by_alias(generic.PRESET, list(headers))
    if all(field in template for field in TEMPLATE_FIELDS):
        return generic.PRESET.name
    return ""


def default_mapping(preset: str, headers: Sequence[str]) -> dict[str, str]:
    """Our field → the file's column, as far as the preset knows; the template's aliases fill
    what the preset leaves open (with no preset they are the whole guess)."""
    known = PRESETS.get(preset)
    mapping = _columns_by_alias(known, headers) if known else {}
    if known is not generic.PRESET:
        for field, column in _columns_by_alias(generic.PRESET, headers).items():
            if field not in mapping and (column not in mapping.values() or _closing(field)):
                mapping[field] = column
    return {field: mapping[field] for field in MAPPABLE_FIELDS if field in mapping}


def fallback_columns(
    preset: str, mapping: Mapping[str, str], headers: Sequence[str]
) -> dict[str, list[str]]:
    """Our field → the file's columns that fill its empty cells, when the field's column is
    the one the preset expects (a column the person chose is taken as it is)."""
    known = PRESETS.get(preset)
    if known is None:
        return {}
    by_name: dict[str, str] = {}
    for header in headers:
        by_name.setdefault(normalize_header(header), header)
    result: dict[str, list[str]] = {}
    for field, names in known.fallbacks.items():
        column = mapping.get(field)
        own = {normalize_header(name) for name in known.columns.get(field, ())}
        if not column or normalize_header(column) not in own:
            continue
        found = [by_name[n] for n in map(normalize_header, names) if n in by_name]
        found = [c for c in dict.fromkeys(found) if c != column]
        if found:
            result[field] = found
    return result


def _closing(field: str) -> bool:
    return field in ("paid_at", "lost_at")  # one closing-date column may feed both


def _columns_by_alias(preset: Preset, headers: Sequence[str]) -> dict[str, str]:
    by_name: dict[str, str] = {}
    for header in headers:
        by_name.setdefault(normalize_header(header), header)  # repeated names: the first one
    mapping: dict[str, str] = {}
    for field, names in preset.columns.items():
        column = next((by_name[n] for n in map(normalize_header, names) if n in by_name), None)
        if column is not None:
            mapping[field] = column
    return mapping


def default_stage_map(
    preset: str,
    raw_stages: Iterable[str],
    our_stage_names: Sequence[str],
    key_stage_name: str | None = None,
) -> dict[str, str]:
    """Raw CRM stage → one of our stage names, or WON / LOST; stages we cannot place are left
    out for the user to map. Pipeline-qualified stages ("Продажи / Переговоры") are judged by
    the stage part when the whole does not tell."""
    known = PRESETS.get(preset)
    ours = {normalize_text(name): name for name in our_stage_names}
    result: dict[str, str] = {}
    for raw in raw_stages:
        key = normalize_text(raw)
        candidates = [key]
        if PIPELINE_SEPARATOR in key:
            candidates.append(key.split(PIPELINE_SEPARATOR, 1)[1])
        for candidate in candidates:
            target = _stage_target(known, candidate, ours, our_stage_names, key_stage_name)
            if target:
                result[raw] = target
                break
    return result


def _stage_target(
    preset: Preset | None,
    key: str,
    ours: Mapping[str, str],
    our_stage_names: Sequence[str],
    key_stage_name: str | None,
) -> str:
    if preset is not None and preset.markers:
        outcome = preset.outcome(key)
    else:
        outcome = WON if key in GENERIC_WON else LOST if key in GENERIC_LOST else ""
    if outcome:
        return outcome
    if key in ours:
        return ours[key]
    role = preset.stage_roles.get(key) if preset else None
    if role == "first" and our_stage_names:
        return our_stage_names[0]
    if role == "key" and key_stage_name:
        return key_stage_name
    return ""


__all__ = [
    "CRM_STAGE",
    "PIPELINE_SEPARATOR",
    "PRESETS",
    "Preset",
    "default_mapping",
    "default_stage_map",
    "detect_preset",
    "fallback_columns",
]

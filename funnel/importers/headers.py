"""A file's header row: how its names are cleaned, made unique and compared, and the signature a
hand-made mapping is saved under. Shared by the CSV and xlsx readers and the presets."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence

_SPACES = re.compile(r"\s+")


def unique_headers(names: Sequence[str]) -> list[str]:
    """Strip names and make repeats unique in a stable way: `Теги`, `Теги (2)`, `Теги (3)`.
    A blank name inside the header row becomes `#<column number>`."""
    cleaned = [clean_header(name) for name in names]
    taken = {name for name in cleaned if name}
    seen: dict[str, int] = {}
    result: list[str] = []
    for position, name in enumerate(cleaned, start=1):
        if not name:
            name = f"#{position}"
        count = seen.get(name, 0) + 1
        seen[name] = count
        if count > 1:
            candidate = f"{name} ({count})"
            while candidate in taken:
                count += 1
                candidate = f"{name} ({count})"
            seen[name] = count
            name = candidate
        taken.add(name)
        result.append(name)
    return result


def clean_header(name: object) -> str:
    return _SPACES.sub(" ", str(name or "").replace("\ufeff", "")).strip()


def normalize_header(name: str) -> str:
    """How headers are compared: case, spacing, BOM and ё/е do not matter."""
    return clean_header(name).casefold().replace("ё", "е")


def header_signature(headers: Sequence[str]) -> str:
    """A stable hash of the normalized header names, to find a saved manual mapping again for a
    file with the same columns. Column order does not matter (mappings go by name)."""
    names = sorted({normalize_header(name) for name in headers if clean_header(name)})
    return hashlib.sha256(json.dumps(names, ensure_ascii=False).encode()).hexdigest()


def header_columns(names: Sequence[str]) -> tuple[list[str], list[int]]:
    """Headers and their positions, without the blank columns a trailing delimiter leaves."""
    cleaned = [clean_header(name) for name in names]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    return unique_headers(cleaned), list(range(len(cleaned)))

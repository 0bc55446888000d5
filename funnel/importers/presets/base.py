"""What a preset knows about one CRM's export: how to recognise it, which column is which of our
fields, which of its stages mean won or lost, and its quirks."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from funnel.importers.headers import normalize_header

StageRole = Literal["first", "key"]


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    # The preset matches a file whose headers include every name of one of these sets.
    markers: tuple[frozenset[str], ...]
    # Our field → the names its column has in this CRM's exports, the most specific first.
    columns: Mapping[str, tuple[str, ...]]
    # Raw stage values (names or ids, compared lower-cased) meaning the deal is won / lost.
    won: frozenset[str] = frozenset()
    lost: frozenset[str] = frozenset()
    won_pattern: re.Pattern[str] | None = None
    lost_pattern: re.Pattern[str] | None = None
    # Raw stages that go to our first stage or to our key stage, whatever their names.
    stage_roles: Mapping[str, StageRole] = field(default_factory=dict)
    # Product names as the CRM writes them → as the rest of the data set does.
    product_aliases: Mapping[str, str] = field(default_factory=dict)
    # Our field → columns whose value fills an empty cell of the field's own column, in order
    # (amoCRM's channel may sit in a second «Источник» or in utm_source).
    fallbacks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # One row per product of a deal (the same deal id, that product's sum): the rows are the
    # deal's payment lines, not duplicates.
    product_rows: bool = False

    def matches(self, headers: set[str]) -> bool:
        """`headers` normalized with `normalize_header`."""
        return any(
            {normalize_header(name) for name in marker} <= headers for marker in self.markers
        )

    def outcome(self, stage_key: str) -> str:
        """WON, LOST or "" for a raw stage (lower-cased, stripped)."""
        if stage_key in self.won or (self.won_pattern and self.won_pattern.fullmatch(stage_key)):
            return "won"
        if stage_key in self.lost or (self.lost_pattern and self.lost_pattern.fullmatch(stage_key)):
            return "lost"
        return ""

"""A CRM's stage group: Bitrix24's «Группа стадий» (STAGE_SEMANTIC_ID) says whether a deal is in
work, won or lost, whatever its final stage is called («Успешно завершена», «Нет
финансирования»)."""

import numpy as np
import pandas as pd

from funnel.importers.values import normalize_text

# Whole values (normalized) of each group; besides, a value naming success is won and one
# naming failure is lost (checked first: «неуспешные» names failure).
WON_GROUPS = frozenset({"s", "success", "won", "выиграна", "выиграно"})
LOST_GROUPS = frozenset({"f", "failure", "lost", "проиграна", "проиграно"})
OPEN_GROUPS = frozenset({"p", "process", "open", "в работе", "в процессе"})
LOST_WORDS = ("провал", "неуспеш", "неудач")
WON_WORDS = ("успеш", "успех")
OPEN_WORDS = ("в работе", "открыт", "в процессе")


def group_of(value: str) -> str:
    """ "won", "lost", "open" or "" (not a group we know) for one cell."""
    key = normalize_text(value)
    if key in LOST_GROUPS or any(word in key for word in LOST_WORDS):
        return "lost"
    if key in WON_GROUPS or any(word in key for word in WON_WORDS):
        return "won"
    if key in OPEN_GROUPS or any(word in key for word in OPEN_WORDS):
        return "open"
    return ""


def stage_groups(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(won, lost, open) masks of a stage-group column, judged once per distinct value."""
    codes, uniques = pd.factorize(values)
    groups = np.array([group_of(str(value)) for value in uniques] or [""], dtype=object)
    found = groups[codes] if len(codes) else np.array([], dtype=object)
    return found == "won", found == "lost", found == "open"

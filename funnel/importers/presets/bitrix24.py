"""Bitrix24 deals export (CRM → Сделки → Экспорт в Excel/CSV), and REST-style files.

Headers: ID, Название сделки, Стадия сделки, Сумма, Ответственный, Дата начала,
Предполагаемая дата закрытия, Источник, Компания, … — or the REST field codes (TITLE,
STAGE_ID, OPPORTUNITY, ASSIGNED_BY_ID, BEGINDATE, CLOSEDATE, SOURCE_ID, …).

Won: "Сделка успешна", the ids WON / C<n>:WON (pipeline n), the semantic S; lost: "Сделка
провалена", "Анализ причины провала", LOSE / APOLOGY / C<n>:LOSE, the semantic F. A file whose
stage column is STAGE_SEMANTIC_ID (P / S / F) thus maps won and lost by itself. The closing
date is a payment only for won deals (for open ones it is just the expected date).
Bitrix24's "Excel" export is an HTML page: `inspect_file` asks for a real .xlsx or CSV.
"""

import re

from funnel.importers.presets.base import Preset

PRESET = Preset(
    name="bitrix24",
    title="Bitrix24",
    markers=(frozenset({"Стадия сделки", "Сумма"}), frozenset({"STAGE_ID", "OPPORTUNITY"})),
    columns={
        "external_id": ("ID",),
        "name": ("Название сделки", "Название", "TITLE"),
        "amount": ("Сумма", "OPPORTUNITY"),
        "responsible": ("Ответственный", "ASSIGNED_BY_ID", "ASSIGNED_BY"),
        "created_at": ("Дата начала", "Дата создания", "BEGINDATE", "DATE_CREATE"),
        "paid_at": ("Предполагаемая дата закрытия", "Дата закрытия", "CLOSEDATE"),
        "lost_at": ("Предполагаемая дата закрытия", "Дата закрытия", "CLOSEDATE"),
        "crm_stage": ("Стадия сделки", "STAGE_ID"),
        "pipeline": ("Направление", "Воронка", "CATEGORY_ID"),
        "channel": ("Источник", "SOURCE_ID"),
        "company": ("Компания", "COMPANY_ID", "COMPANY_TITLE"),
    },
    won=frozenset({"сделка успешна", "won", "s"}),
    lost=frozenset({"сделка провалена", "анализ причины провала", "lose", "apology", "f"}),
    won_pattern=re.compile(r"c\d+:won"),
    lost_pattern=re.compile(r"c\d+:(?:lose|apology)"),
)

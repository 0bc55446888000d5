"""Bitrix24 deals export (CRM → Сделки → Экспорт в Excel/CSV), and REST-style files.

Headers: ID, Название сделки, Стадия сделки, Сумма, Ответственный, Дата начала,
Предполагаемая дата закрытия, Источник, Компания, … — or the REST field codes (TITLE,
STAGE_ID, OPPORTUNITY, ASSIGNED_BY_ID, BEGINDATE, CLOSEDATE, SOURCE_ID, …).

Won: "Сделка успешна", the ids WON / C<n>:WON (pipeline n), the semantic S; lost: "Сделка
провалена", "Анализ причины провала", LOSE / APOLOGY / C<n>:LOSE, the semantic F. A file whose
stage column is STAGE_SEMANTIC_ID (P / S / F) thus maps won and lost by itself, and «Группа
стадий» (Успешные / Провалены / В работе) classifies final stages whatever they are renamed to.
The closing date is «Дата завершения», else «Предполагаемая дата закрытия»; it is a payment
only for won deals (for open ones it is just the expected date).

The creation date is «Дата создания» (DATE_CREATE, what the webhook's crm.deal.get gives), and
only when a file has none, «Дата начала» (BEGINDATE): one rule for files and webhooks.
With «Товар» in the export, a deal has one row per product (the same ID, «Сумма» of that
product): the rows are the deal's payment lines. «Валюта» is the currency of «Сумма».
Bitrix24's "Excel" export is an HTML table; it is read as one.
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
        "responsible": ("Ответственный", "ASSIGNED_BY"),
        "responsible_id": ("ID ответственного", "ASSIGNED_BY_ID"),
        "created_at": ("Дата создания", "DATE_CREATE", "Дата начала", "BEGINDATE"),
        "paid_at": (
            "Дата завершения",
            "Предполагаемая дата закрытия",
            "Дата закрытия",
            "CLOSEDATE",
        ),
        "lost_at": (
            "Дата завершения",
            "Предполагаемая дата закрытия",
            "Дата закрытия",
            "CLOSEDATE",
        ),
        "crm_stage": ("Стадия сделки", "STAGE_ID"),
        "pipeline": ("Направление", "Воронка", "CATEGORY_ID"),
        "channel": ("Источник", "SOURCE_ID"),
        "company": ("Компания", "COMPANY_ID", "COMPANY_TITLE"),
        "product": ("Товар",),
        "stage_group": ("Группа стадий", "STAGE_SEMANTIC_ID"),
        "currency": ("Валюта", "CURRENCY_ID"),
    },
    won=frozenset({"сделка успешна", "won", "s"}),
    lost=frozenset({"сделка провалена", "анализ причины провала", "lose", "apology", "f"}),
    won_pattern=re.compile(r"c\d+:won"),
    lost_pattern=re.compile(r"c\d+:(?:lose|apology)"),
    fallbacks={
        "created_at": ("Дата начала", "BEGINDATE"),
        "paid_at": ("Предполагаемая дата закрытия",),
        "lost_at": ("Предполагаемая дата закрытия",),
        "channel": ("UTM Source", "utm_source"),
    },
    product_rows=True,
)

"""Our own template for any other CRM (documented in docs/import-template.md).

One row per deal; headers in English or Russian, case and spacing do not matter. Required:
a deal id, a created date and a stage. A closing-date column ("close date" / "Дата закрытия")
fills both paid_at (won deals) and lost_at (lost deals) unless they have columns of their own.
"""

from funnel.importers.presets.base import Preset

# Our field → accepted header names. Keep docs/import-template.md in step with this table.
ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": (
        "external_id", "id", "deal id", "deal_id", "lead id", "lead_id",
        "ID сделки", "ID лида", "Внешний ID", "Номер сделки",
    ),
    "name": ("name", "deal name", "title", "Название", "Название сделки", "Сделка"),
    "created_at": (
        "created_at", "created", "created date", "date created",
        "Дата создания", "Дата создания сделки", "Создана",
    ),
    "crm_stage": ("stage", "deal stage", "deal_stage", "status", "Этап", "Этап сделки", "Стадия",
                  "Стадия сделки", "Статус"),
    "pipeline": ("pipeline", "funnel", "Воронка", "Направление"),
    "channel": ("channel", "source", "lead source", "Канал", "Источник"),
    "is_target": ("is_target", "target", "target lead", "Целевой", "Целевой лид"),
    "non_target_reason": (
        "non_target_reason", "non-target reason", "Причина нецелевого", "Причина нецелевого лида",
    ),
    "responsible": (
        "responsible", "owner", "manager", "salesperson", "Ответственный", "Менеджер",
    ),
    "company": ("company", "account", "client", "Компания", "Клиент"),
    "stage_at": ("stage_at", "stage date", "Дата этапа", "Дата перехода на этап"),
    "lost_reason": ("lost_reason", "lost reason", "loss reason", "Причина отказа"),
    "lost_at": ("lost_at", "lost date", "Дата отказа"),
    "amount": ("amount", "budget", "sum", "deal amount", "Сумма", "Бюджет", "Сумма сделки"),
    "gross_margin": ("gross_margin", "gross margin", "margin", "Валовая маржа", "Маржа"),
    "product": ("product", "Продукт", "Товар", "Услуга"),
    "paid_at": ("paid_at", "paid date", "payment date", "Дата оплаты"),
    "is_new_client": ("is_new_client", "new client", "Новый клиент"),
}  # fmt: skip
# A closing date: the payment day of a won deal, the loss day of a lost one.
CLOSED_AT_ALIASES = ("closed_at", "close date", "close_date", "closed at", "Дата закрытия")

PRESET = Preset(
    name="generic",
    title="Salesplan template",
    markers=(),  # recognised by its aliases: see `presets.detect_preset`
    columns={
        **ALIASES,
        "paid_at": ALIASES["paid_at"] + CLOSED_AT_ALIASES,
        "lost_at": ALIASES["lost_at"] + CLOSED_AT_ALIASES,
    },
)

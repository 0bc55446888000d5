"""amoCRM deals export (Сделки → … → Экспорт), CSV or xlsx, Russian interface.

Headers: ID, Название сделки, Бюджет, Ответственный, Дата создания сделки, Дата закрытия,
Теги (repeated), Примечание…, Этап сделки, Воронка, Источник, Компания, … Dates are
DD.MM.YYYY HH:MM:SS in the account's time zone; budgets like "1 000 000,50".

Won and lost are the statuses 142 ("Успешно реализовано") and 143 ("Закрыто и не
реализовано") in every pipeline, shown by name in exports and by id in the API. "Дата закрытия"
is the day the deal closed: the payment day of a won deal, the loss day of a lost one; an open
deal has the words «не закрыта» there, which mean no date. The channel is «Источник», and when
that is empty, a second «Источник» column (exports repeat it) or utm_source.
"""

from funnel.importers.presets.base import Preset

PRESET = Preset(
    name="amocrm",
    title="amoCRM",
    markers=(frozenset({"Этап сделки", "Бюджет"}),),
    columns={
        "external_id": ("ID",),
        "name": ("Название сделки",),
        "amount": ("Бюджет",),
        "responsible": ("Ответственный",),
        "created_at": ("Дата создания сделки", "Дата создания"),
        "paid_at": ("Дата закрытия",),
        "lost_at": ("Дата закрытия",),
        "crm_stage": ("Этап сделки",),
        "pipeline": ("Воронка",),
        "channel": ("Источник",),
        "company": ("Компания", "Компания контакта"),
        "lost_reason": ("Причина отказа",),
    },
    won=frozenset({"142", "успешно реализовано", "closed - won", "closed – won"}),
    lost=frozenset({"143", "закрыто и не реализовано", "closed - lost", "closed – lost"}),
    fallbacks={"channel": ("Источник (2)", "Источник (3)", "utm_source", "UTM Source")},
)

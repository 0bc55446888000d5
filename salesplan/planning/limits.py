"""How big a plan may be: the engine refuses anything larger before it does any work, so a
preview, a what-if or a save costs a bounded amount whatever is sent. Each limit says why it is
that size; `salesplan.limits` lists them with the others (the web layer's serializers and forms
refuse the same sizes early, with the same words)."""

from salesplan.planning.i18n import Message, gettext_noop

# A plan covers a month, a quarter or a year; two years is the most anyone plans ahead. Every
# day of the period is split, so this bounds a decomposition to 731 days.
MAX_PERIOD_MONTHS = 24
# A funnel's stages, top to bottom. Real sales funnels have 5 to 15 (amoCRM and Bitrix24
# pipelines rarely more than 20); every stage is split over every day and every person.
MAX_STAGES = 50
# Salespeople sharing one plan: the largest departments we plan for have a few hundred; each
# gets every stage's volume.
MAX_TEAM = 500
# Products in a plan's mix: a price list's worth; each is a line of the decomposition.
MAX_PRODUCTS = 200
# One seasonality weight per month of the period.
MAX_SEASONALITY_KEYS = MAX_PERIOD_MONTHS
# Months of history a plan is judged against (the plans layer reads 12; five years is plenty).
MAX_HISTORY_MONTHS = 60

COUNT_TEMPLATE = gettext_noop("There are %(count)s; the limit is %(limit)s.")
PERIOD_TEMPLATE = gettext_noop(
    "The period spans %(count)s months; a plan covers at most %(limit)s. Split a longer "
    "period into plans."
)


def too_many(count: int, limit: int) -> Message | None:
    """The message for `count` items where at most `limit` are allowed, or None if it fits."""
    if count <= limit:
        return None
    return Message(COUNT_TEMPLATE, count=count, limit=limit)


def period_months(start_year: int, start_month: int, end_year: int, end_month: int) -> int:
    """How many calendar months a period touches (December to January is 2)."""
    return (end_year - start_year) * 12 + end_month - start_month + 1


def period_too_long(months: int) -> Message | None:
    if months <= MAX_PERIOD_MONTHS:
        return None
    return Message(PERIOD_TEMPLATE, count=months, limit=MAX_PERIOD_MONTHS)

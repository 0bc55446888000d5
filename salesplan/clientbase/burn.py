"""The client base's maths (DOMAIN idea 7: do not burn the client base), pure: no ORM, no
request. Tested without a database (tests/clientbase/test_burn.py).

- A company is its normalized name (`company_key`): case, quotes, legal forms and spacing do
  not make two companies of one.
- A company's state follows its latest refusal (`company_state`): a permanent reason closes it
  for good; any other cools it off from the local day of the refusal for `cooling_days`, and it
  may be contacted again on `contact_again_on` (refusal day + cooling days).
- Refusal rate = lost ÷ closed (won + lost), per month, salesperson and segment.
- The runway (`base_runway`): how many months the available companies last at the refusal
  pace of the last months and the plan's monthly deals.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from fractions import Fraction

DEFAULT_PERMANENT_REASONS = ("ЛПР умер", "Бизнес закрылся")
DEFAULT_COOLING_DAYS = 90
# The refusal pace of the runway: the current month and the two before it (a quarter is long
# enough to smooth a bad week, short enough to follow a change of script or segment).
PACE_MONTHS = 3

# Quotes of every kind a CRM export carries: «», “”, „“, "", '', ``.
_QUOTES = re.compile(r"[«»“”„‟\"'`‘’‚‛]")
# Punctuation that only separates a legal form from the name ("Ромашка, ООО", "Acme Ltd.").
_SEPARATORS = re.compile(r"[.,;:()\[\]]")
# Legal forms, as whole words after lower-casing: Russian (and CIS) abbreviations, their
# spelled-out forms, and the usual English and German ones.
_LEGAL_FORMS = re.compile(
    r"(?<!\w)("
    r"общество с ограниченной ответственностью|публичное акционерное общество|"
    r"закрытое акционерное общество|открытое акционерное общество|"
    r"непубличное акционерное общество|акционерное общество|"
    r"индивидуальный предприниматель|"
    r"ооо|оао|зао|пао|нао|ао|ип|тоо|"
    r"llc|l l c|ltd|limited|inc|incorporated|corp|corporation|gmbh|plc|co"
    r")(?!\w)"
)
_SPACES = re.compile(r"\s+")


def company_key(company: str) -> str:
    """The company a lead belongs to, as one key: lower case (ё as е), no quotes, no legal form,
    spacing collapsed. «ООО "Ромашка"», 'Ромашка ООО' and ' ромашка ' are one company. A name
    that is only a legal form keeps it ('ООО' stays 'ооо'); an empty one is ''."""
    text = company.casefold().replace("ё", "е")
    text = _QUOTES.sub(" ", text)
    text = _SEPARATORS.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    stripped = _SPACES.sub(" ", _LEGAL_FORMS.sub(" ", text)).strip()
    return stripped or text


def lead_key(lead_id: int) -> str:
    """A lead without a company counts as a company of its own. Its key holds quotes, which
    `company_key` removes, so no company's name can come out as it."""
    return f"«lead {lead_id}»"


def reason_key(reason: str) -> str:
    """Lost reasons match case-insensitively after trimming (and with inner spacing collapsed)."""
    return _SPACES.sub(" ", reason.casefold().replace("ё", "е")).strip()


def is_permanent(reason: str, permanent: Iterable[str]) -> bool:
    key = reason_key(reason)
    return bool(key) and key in {reason_key(item) for item in permanent}


class State(StrEnum):
    AVAILABLE = "available"
    COOLING = "cooling"
    CLOSED = "closed"


def local_day(moment: datetime, zone: tzinfo) -> date:
    """The organization's local day of a moment (23:30 Moscow on 31 January is 31 January)."""
    return moment.astimezone(zone).date()


def contact_again_on(refused_on: date, cooling_days: int) -> date:
    """The first local day a cooled-off company may be contacted: refusal day + cooling days."""
    return refused_on + timedelta(days=cooling_days)


def company_state(
    *,
    reason: str,
    refused_on: date | None,
    cooling_days: int,
    today: date,
    permanent: Iterable[str],
) -> State:
    """Closed for good (the latest refusal's reason is permanent), cooling (until refusal day +
    cooling days, that day excluded) or available (never refused, or cooled off)."""
    if refused_on is None:
        return State.AVAILABLE
    if is_permanent(reason, permanent):
        return State.CLOSED
    if today < contact_again_on(refused_on, cooling_days):
        return State.COOLING
    return State.AVAILABLE


def month_of(day: date) -> date:
    return day.replace(day=1)


def months_back(month: date, count: int) -> date:
    """The first day of the month `count` months before `month`'s."""
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def refusal_rate(lost: int, won: int) -> Decimal | None:
    """lost ÷ closed (won + lost), as a fraction (0.25 is 25 %); None when nothing closed."""
    closed = lost + won
    if closed == 0:
        return None
    return (Decimal(lost) / Decimal(closed)).quantize(Decimal("0.0001"))


class Runway(StrEnum):
    NO_DATA = "no_data"  # nothing closed in the pace months: no pace to speak of
    NEVER = "never"  # no refusals at this pace: the base does not run out
    RUNS_OUT = "runs_out"  # lasts `months` months
    NO_WINS = "no_wins"  # every closed deal was lost: the plan's deals cannot be won


@dataclass(frozen=True, slots=True)
class BaseRunway:
    status: Runway
    burn_per_month: Decimal | None  # companies refused per month at this pace
    months: Decimal | None  # available ÷ burn_per_month, one decimal, rounded down


def base_runway(
    *, available: int, lost: int, won: int, plan_deals: int | None, pace_months: int = PACE_MONTHS
) -> BaseRunway:
    """How long the available companies last (DOMAIN idea 7).

    `lost` and `won` are the deals closed in the last `pace_months` months. With a plan, the
    plan's `plan_deals` a month are won at that pace, and every won deal costs lost ÷ won refused
    companies on the way: burn = plan_deals × lost ÷ won a month. Without a plan the burn is
    the refusals' own pace: lost ÷ pace_months a month. months = available ÷ burn.

    Nothing closed: no pace (NO_DATA). No refusals: nothing burns (NEVER). Refusals but no wins
    while a plan needs deals: NO_WINS (the plan cannot be met at this rate; months 0)."""
    if lost + won == 0:
        return BaseRunway(Runway.NO_DATA, None, None)
    if lost == 0:
        return BaseRunway(Runway.NEVER, Decimal(0), None)
    if plan_deals is not None:
        if plan_deals == 0:
            return BaseRunway(Runway.NEVER, Decimal(0), None)
        if won == 0:
            return BaseRunway(Runway.NO_WINS, None, Decimal(0))
        burn = Fraction(plan_deals * lost, won)
    else:
        burn = Fraction(lost, pace_months)
    months = Fraction(available) / burn
    return BaseRunway(Runway.RUNS_OUT, _decimal(burn, "0.1"), _decimal(months, "0.1"))


def _decimal(value: Fraction, places: str) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(places), rounding=ROUND_FLOOR)

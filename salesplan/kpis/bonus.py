"""The bonus arithmetic of role KPIs (DOMAIN ideas 4 and 5). Pure: no Django, no ORM.

    fulfilment = actual ÷ plan            (plan ÷ actual for a lower-is-better KPI)
    payout     = the curve at fulfilment  (0 below its first point, linear between points,
                                           flat after its last: the cap)
    bonus      = base bonus × Σ weight × payout      (weights in %, summing to 100)

The default curve is the issue's: nothing below 80 %, payout = fulfilment from 80 % on, capped
at 120 % (points (0.80, 0.80) and (1.20, 1.20)). Fulfilment is kept to six decimals (half up)
before the curve reads it, and the bonus is rounded half up to the kopeck, so a scorecard and
a hand computation agree to the kopeck.

A KPI with no plan (or no actual to divide) has no fulfilment and pays nothing: it is shown as
"not assessed", and its weight is not handed to the other KPIs (a scheme's warnings and the
scorecard say why, rather than a bonus silently paid on fewer numbers).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from salesplan.planning import Finding
from salesplan.planning.i18n import gettext_noop

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
FULFILMENT_PLACES = Decimal("0.000001")
# More KPIs than this and none of them matters (DOMAIN idea 5: keep bonus schemes simple).
ADVISED_MAX_KPIS = 4

# --- the KPI catalog ------------------------------------------------------------------------

# Whose figure a KPI reads: the person's own slice of the plan, the department's, or numbers
# typed by hand. A scheme mixing "personal" and "department" pulls two ways (seed: a head of
# sales paid for their own deals neglects the team's).
PERSONAL = "personal"
DEPARTMENT = "department"
MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class KpiMetric:
    code: str
    label: str  # English, marked for translation
    scope: str  # PERSONAL, DEPARTMENT or MANUAL
    unit: str  # "count", "money", "percent", "number"
    lower_is_better: bool = False
    # The scheme sets its plan (a share: retention 0.6, growth 0.10), not the sales plan.
    has_target: bool = False


KPI_METRICS: tuple[KpiMetric, ...] = (
    KpiMetric("leads", gettext_noop("Lead count"), DEPARTMENT, "count"),
    KpiMetric("cost_per_lead", gettext_noop("Cost per lead"), DEPARTMENT, "money", True),
    KpiMetric("lead_to_deal", gettext_noop("Lead → deal conversion"), DEPARTMENT, "percent"),
    KpiMetric("new_clients", gettext_noop("New clients"), PERSONAL, "count"),
    KpiMetric("turnover", gettext_noop("Turnover"), PERSONAL, "money"),
    KpiMetric("gross_margin", gettext_noop("Gross margin"), PERSONAL, "money"),
    KpiMetric(
        "existing_client_revenue",
        gettext_noop("Revenue from existing clients"),
        PERSONAL,
        "money",
    ),
    KpiMetric("retention", gettext_noop("Retention"), PERSONAL, "percent", has_target=True),
    KpiMetric("department_revenue", gettext_noop("Department revenue"), DEPARTMENT, "money"),
    KpiMetric(
        "department_gross_margin", gettext_noop("Department gross margin"), DEPARTMENT, "money"
    ),
    KpiMetric(
        "growth",
        gettext_noop("Growth against the same month last year"),
        DEPARTMENT,
        "money",
        has_target=True,
    ),
    KpiMetric("focus_product", gettext_noop("Focus-product plan"), MANUAL, "number"),
    KpiMetric("nps", gettext_noop("NPS"), MANUAL, "number"),
)
KPI_CATALOG: dict[str, KpiMetric] = {metric.code: metric for metric in KPI_METRICS}

# The roles a scheme is for (salesplan.models Role and SalespersonKind, as plain strings).
MARKETER = "marketer"
HUNTER = "hunter"
FARMER = "farmer"
HEAD_OF_SALES = "head_of_sales"
SCHEME_ROLES = (MARKETER, HUNTER, FARMER, HEAD_OF_SALES)


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """One KPI of a scheme: its metric, its weight in % and (retention, growth) its target."""

    metric: str
    weight: Decimal
    target: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CurvePoint:
    fulfilment: Decimal
    payout: Decimal


DEFAULT_CURVE: tuple[CurvePoint, ...] = (
    CurvePoint(Decimal("0.80"), Decimal("0.80")),
    CurvePoint(Decimal("1.20"), Decimal("1.20")),
)

# DOMAIN idea 4 for each role; idea 5 for the head of sales (growth +10 % by default).
DEFAULT_ITEMS: dict[str, tuple[ItemSpec, ...]] = {
    MARKETER: (
        ItemSpec("leads", Decimal(40)),
        ItemSpec("cost_per_lead", Decimal(30)),
        ItemSpec("lead_to_deal", Decimal(30)),
    ),
    HUNTER: (
        ItemSpec("new_clients", Decimal(40)),
        ItemSpec("turnover", Decimal(40)),
        ItemSpec("gross_margin", Decimal(20)),
    ),
    FARMER: (
        ItemSpec("existing_client_revenue", Decimal(60)),
        ItemSpec("retention", Decimal(40), Decimal("0.6")),
    ),
    HEAD_OF_SALES: (
        ItemSpec("department_revenue", Decimal(50)),
        ItemSpec("department_gross_margin", Decimal(25)),
        ItemSpec("growth", Decimal(25), Decimal("0.1")),
    ),
}


# --- the arithmetic -------------------------------------------------------------------------


def fulfilment(
    plan: Decimal | None, actual: Decimal | None, *, lower_is_better: bool = False
) -> Decimal | None:
    """actual ÷ plan (plan ÷ actual when lower is better), six decimals half up; None when
    there is nothing to divide (no plan, no actual, a plan or a lower-is-better actual of 0,
    or a negative one)."""
    if plan is None or actual is None or plan <= 0 or actual < 0:
        return None
    if lower_is_better:
        if actual == 0:
            return None
        value = plan / actual
    else:
        value = actual / plan
    return value.quantize(FULFILMENT_PLACES, rounding=ROUND_HALF_UP)


def payout(value: Decimal | None, curve: Sequence[CurvePoint]) -> Decimal:
    """The curve at `value`: 0 below the first point (and for no fulfilment), the last
    point's payout from the last point on (the cap), linear between two points."""
    if value is None or not curve or value < curve[0].fulfilment:
        return Decimal(0)
    if value >= curve[-1].fulfilment:
        return curve[-1].payout
    for low, high in pairwise(curve):
        if low.fulfilment <= value < high.fulfilment:
            span = high.fulfilment - low.fulfilment
            part = (value - low.fulfilment) / span
            result = low.payout + (high.payout - low.payout) * part
            return result.quantize(FULFILMENT_PLACES, rounding=ROUND_HALF_UP)
    return curve[-1].payout  # unreachable for a valid (increasing) curve


@dataclass(frozen=True, slots=True)
class KpiInput:
    """One KPI of a person for a period, as read from the stored figures."""

    metric: str
    weight: Decimal  # %
    plan: Decimal | None
    actual: Decimal | None  # to date
    forecast: Decimal | None  # at the current pace, at the period's end
    lower_is_better: bool = False


@dataclass(frozen=True, slots=True)
class KpiLine:
    metric: str
    weight: Decimal
    plan: Decimal | None
    actual: Decimal | None
    forecast: Decimal | None
    lower_is_better: bool
    fulfilment: Decimal | None
    payout: Decimal
    fulfilment_forecast: Decimal | None
    payout_forecast: Decimal


@dataclass(frozen=True, slots=True)
class Score:
    lines: tuple[KpiLine, ...]
    base_bonus: Decimal
    bonus_to_date: Decimal
    bonus_forecast: Decimal


def bonus(base_bonus: Decimal, parts: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """base × Σ weight% × payout, half up to the kopeck."""
    total = sum((weight / HUNDRED * paid for weight, paid in parts), Decimal(0))
    return (base_bonus * total).quantize(CENT, rounding=ROUND_HALF_UP)


def score(base_bonus: Decimal, inputs: Sequence[KpiInput], curve: Sequence[CurvePoint]) -> Score:
    """Each KPI's fulfilment and payout to date and at the forecast; the bonus of both."""
    lines = []
    for item in inputs:
        done = fulfilment(item.plan, item.actual, lower_is_better=item.lower_is_better)
        pace = fulfilment(item.plan, item.forecast, lower_is_better=item.lower_is_better)
        lines.append(
            KpiLine(
                metric=item.metric,
                weight=item.weight,
                plan=item.plan,
                actual=item.actual,
                forecast=item.forecast,
                lower_is_better=item.lower_is_better,
                fulfilment=done,
                payout=payout(done, curve),
                fulfilment_forecast=pace,
                payout_forecast=payout(pace, curve),
            )
        )
    return Score(
        lines=tuple(lines),
        base_bonus=base_bonus,
        bonus_to_date=bonus(base_bonus, ((line.weight, line.payout) for line in lines)),
        bonus_forecast=bonus(base_bonus, ((line.weight, line.payout_forecast) for line in lines)),
    )


# --- validation and warnings ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """A scheme that cannot be saved: the field (as the API names it) and an English message
    template with {named} figures, marked for translation."""

    field: str
    message: str
    params: dict[str, str] = field(default_factory=dict)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def check_items(items: Sequence[ItemSpec]) -> list[Problem]:
    """Known metrics, each once, weights above 0, summing to exactly 100 %; a target where
    the metric needs one."""
    problems = []
    seen = set()
    for index, item in enumerate(items):
        where = f"items[{index}]"
        if item.metric not in KPI_CATALOG:
            problems.append(
                Problem(
                    f"{where}.metric",
                    gettext_noop("Unknown KPI: {metric}."),
                    {"metric": item.metric},
                )
            )
            continue
        if item.metric in seen:
            problems.append(
                Problem(
                    f"{where}.metric",
                    gettext_noop("{metric} is in the scheme twice."),
                    {"metric": item.metric},
                )
            )
        seen.add(item.metric)
        if item.weight <= 0 or item.weight > HUNDRED:
            problems.append(
                Problem(
                    f"{where}.weight", gettext_noop("A weight is more than 0 and at most 100 %.")
                )
            )
        if KPI_CATALOG[item.metric].has_target and (item.target is None or item.target < 0):
            problems.append(
                Problem(
                    f"{where}.target",
                    gettext_noop("This KPI needs its target (a share, e.g. 0.1 for 10 %)."),
                )
            )
    if not items:
        problems.append(Problem("items", gettext_noop("A scheme needs at least one KPI.")))
    total = sum((item.weight for item in items), Decimal(0))
    if items and total != HUNDRED:
        problems.append(
            Problem(
                "items",
                gettext_noop("The weights add up to {total} %; they must add up to 100 %."),
                {"total": _plain(total)},
            )
        )
    return problems


def check_curve(curve: Sequence[CurvePoint]) -> list[Problem]:
    """At least one point; fulfilment strictly rising, payout never falling, none below 0."""
    if not curve:
        return [Problem("payout_curve", gettext_noop("The payout curve needs at least one point."))]
    problems = []
    for index, point in enumerate(curve):
        if point.fulfilment < 0 or point.payout < 0:
            problems.append(
                Problem(
                    f"payout_curve[{index}]", gettext_noop("Fulfilment and payout are not below 0.")
                )
            )
        if index and point.fulfilment <= curve[index - 1].fulfilment:
            problems.append(
                Problem(
                    f"payout_curve[{index}].fulfilment",
                    gettext_noop("Each point's fulfilment is above the one before it."),
                )
            )
        if index and point.payout < curve[index - 1].payout:
            problems.append(
                Problem(
                    f"payout_curve[{index}].payout",
                    gettext_noop("A higher fulfilment never pays less than a lower one."),
                )
            )
    return problems


def scheme_warnings(role: str, metrics: Sequence[str]) -> list[Finding]:
    """What a scheme may be saved with but should not (the pie's findings style):

    - a head of sales with a personal plan: they have none (DOMAIN idea 5); their deals count
      for the department and their bonus is given to a salesperson;
    - "% of personal plan + % of department plan" in one scheme: the two pull against each
      other (seed: the head of sales closes deals instead of managing);
    - more than four KPIs: none of them matters any more."""
    findings = []
    scopes = {KPI_CATALOG[code].scope for code in metrics if code in KPI_CATALOG}
    personal = [
        code for code in metrics if code in KPI_CATALOG and KPI_CATALOG[code].scope == PERSONAL
    ]
    if role == HEAD_OF_SALES and personal:
        findings.append(
            Finding(
                "head_personal_plan",
                "warning",
                gettext_noop(
                    "The head of sales has no personal sales plan: {metrics} pay them for their "
                    "own deals. Their deals count for the department, and the bonus for each goes "
                    "to a salesperson they choose."
                ),
                {"metrics": ", ".join(personal)},
            )
        )
    if PERSONAL in scopes and DEPARTMENT in scopes:
        findings.append(
            Finding(
                "personal_and_department",
                "warning",
                gettext_noop(
                    "The scheme pays both for a personal plan and for the department's plan: the "
                    "two pull against each other. Pay a salesperson for their own numbers and the "
                    "head of sales for the department's."
                ),
            )
        )
    if len(metrics) > ADVISED_MAX_KPIS:
        findings.append(
            Finding(
                "too_many_kpis",
                "warning",
                gettext_noop(
                    "{count} KPIs: with more than {limit} none of them matters. Keep the scheme "
                    "simple."
                ),
                {"count": len(metrics), "limit": ADVISED_MAX_KPIS},
            )
        )
    return findings

"""Rules of the responsibility pie, each a pure function returning findings (DOMAIN idea 3).

Inputs are plain frozen dataclasses so the rules are tested without a database. Messages are
English templates marked for translation; `salesplan.plans.presentation.finding_text` translates.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from metrics.catalog import CATALOG, Category
from salesplan.planning import Finding
from salesplan.planning.i18n import gettext_noop

OWNER = "owner"
HEAD_OF_SALES = "head_of_sales"
SALESPERSON = "salesperson"
MARKETER = "marketer"
VIEWER = "viewer"

# Which roles may hold a metric of each category, at the department level and below it.
TOP_LEVEL_ROLES: dict[str, frozenset[str]] = {
    Category.MARKETING: frozenset({MARKETER}),
    Category.SALES: frozenset({HEAD_OF_SALES, SALESPERSON}),
    Category.MANAGEMENT: frozenset({HEAD_OF_SALES, OWNER}),
}
SPLIT_ROLES: dict[str, frozenset[str]] = {
    Category.MARKETING: frozenset({MARKETER}),
    Category.SALES: frozenset({SALESPERSON}),
    Category.MANAGEMENT: frozenset({SALESPERSON}),
}
# Metrics that are a personal sales plan when a share of them is held.
PERSONAL_PLAN_KINDS = frozenset({"revenue", "gross_margin", "stage_volume", "new_clients"})
SHARE_TOLERANCE = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class MetricView:
    key: str
    name: str
    kind: str
    category: str
    controllable: bool = True
    weight: int = 1
    is_last_stage: bool = False


@dataclass(frozen=True, slots=True)
class OwnerView:
    key: str
    name: str
    role: str
    salesperson_kind: str = ""


@dataclass(frozen=True, slots=True)
class Assignment:
    key: str
    metric: str
    owner: str
    share: Decimal = Decimal(1)
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class Pie:
    metrics: tuple[MetricView, ...]
    owners: tuple[OwnerView, ...]
    assignments: tuple[Assignment, ...]
    max_metric_share: Decimal = Decimal("0.5")
    # The four lookups' dictionaries, built once (__post_init__): the rules ask them for every
    # metric and assignment, and scanning the tuples each time made a pie of 25 metrics split
    # among 100 salespeople cost ~0.6 s to check (~10 ms indexed).
    _index: dict[str, dict[str, Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        tops: dict[str, list[Assignment]] = {}
        children: dict[str, list[Assignment]] = {}
        for assignment in self.assignments:
            if assignment.parent is None:
                tops.setdefault(assignment.metric, []).append(assignment)
            else:
                children.setdefault(assignment.parent, []).append(assignment)
        self._index.update(
            owners={owner.key: owner for owner in reversed(self.owners)},
            metrics={metric.key: metric for metric in reversed(self.metrics)},
            tops=tops,
            children=children,
        )

    def owner(self, key: str) -> OwnerView:
        return self._index["owners"][key]  # the first with the key, as a scan would find

    def metric(self, key: str) -> MetricView:
        return self._index["metrics"][key]

    def top_level(self, metric: str) -> list[Assignment]:
        return list(self._index["tops"].get(metric, ()))

    def children(self, parent: str) -> list[Assignment]:
        return list(self._index["children"].get(parent, ()))


def _finding(code: str, severity: str, message: str, **params: str | int) -> Finding:
    return Finding(code=code, severity=severity, message=message, params=params)  # type: ignore[arg-type]


def no_owner(pie: Pie) -> list[Finding]:
    return [
        _finding("no_owner", "error", gettext_noop("“{metric}” has no owner."), metric=metric.name)
        for metric in pie.metrics
        if metric.controllable and not pie.top_level(metric.key)
    ]


def two_owners(pie: Pie) -> list[Finding]:
    findings = []
    for metric in pie.metrics:
        owners = pie.top_level(metric.key)
        if len(owners) > 1:
            findings.append(
                _finding(
                    "two_owners",
                    "error",
                    gettext_noop(
                        "“{metric}” has {count} owners ({names}): when everyone owns it, "
                        "nobody does. Keep one."
                    ),
                    metric=metric.name,
                    count=len(owners),
                    names=", ".join(pie.owner(a.owner).name for a in owners),
                )
            )
    return findings


def role_mismatch(pie: Pie) -> list[Finding]:
    """An owner outside the metric's category took an extra slice."""
    findings = []
    for assignment in pie.assignments:
        metric = pie.metric(assignment.metric)
        owner = pie.owner(assignment.owner)
        allowed = (SPLIT_ROLES if assignment.parent else TOP_LEVEL_ROLES)[metric.category]
        wanted_kind = CATALOG[metric.kind].for_salesperson_kind if metric.kind in CATALOG else ""
        if owner.role in allowed:
            if (
                owner.role == SALESPERSON
                and wanted_kind
                and owner.salesperson_kind
                and owner.salesperson_kind != wanted_kind
            ):
                findings.append(
                    _finding(
                        "kind_mismatch",
                        "warning",
                        gettext_noop(
                            "{owner} is a {kind}, but “{metric}” is a {wanted}'s metric: "
                            "hunters win new clients, farmers grow the existing base."
                        ),
                        owner=owner.name,
                        kind=owner.salesperson_kind,
                        metric=metric.name,
                        wanted=wanted_kind,
                    )
                )
            continue
        if owner.role == HEAD_OF_SALES and metric.category == Category.MARKETING:
            message = gettext_noop(
                "Extra slice: {owner} (head of sales) owns “{metric}”, a marketing metric. "
                "Tuning ad campaigns leaves the team's own numbers unattended and burns people "
                "out; give it to the marketer."
            )
        else:
            message = gettext_noop(
                "Extra slice: {owner} ({role}) owns “{metric}”, which is outside their role."
            )
        findings.append(
            _finding(
                "role_mismatch",
                "warning",
                message,
                owner=owner.name,
                role=owner.role,
                metric=metric.name,
            )
        )
    return findings


def head_of_sales_personal_share(pie: Pie) -> list[Finding]:
    """DOMAIN idea 5: the head of sales has no personal sales plan."""
    findings = []
    for assignment in pie.assignments:
        if assignment.parent is None:
            continue
        owner = pie.owner(assignment.owner)
        metric = pie.metric(assignment.metric)
        if owner.role == HEAD_OF_SALES and (
            metric.kind in PERSONAL_PLAN_KINDS or metric.is_last_stage
        ):
            findings.append(
                _finding(
                    "head_of_sales_share",
                    "error",
                    gettext_noop(
                        "{owner} is a head of sales with a personal share of “{metric}”. The "
                        "head of sales has no personal sales plan: their goal is the department "
                        "plan, and their deals are credited to a salesperson."
                    ),
                    owner=owner.name,
                    metric=metric.name,
                )
            )
    return findings


def uncontrollable_on_pie(pie: Pie) -> list[Finding]:
    return [
        _finding(
            "uncontrollable",
            "warning",
            gettext_noop(
                "“{metric}” is not controllable by anyone in the team; keep it off the pie "
                "and track it instead."
            ),
            metric=metric.name,
        )
        for metric in pie.metrics
        if not metric.controllable and pie.top_level(metric.key)
    ]


def holdings(pie: Pie) -> dict[str, Decimal]:
    """Each owner's effective share of the plan's metrics: a split metric counts for the
    people it is split to (by share), an unsplit one for its owner."""
    held: dict[str, Decimal] = defaultdict(Decimal)
    for metric in pie.metrics:
        for top in pie.top_level(metric.key):
            children = pie.children(top.key)
            if children:
                for child in children:
                    held[child.owner] += child.share
            else:
                held[top.owner] += Decimal(1)
    return dict(held)


def overload(pie: Pie) -> list[Finding]:
    total = len(pie.metrics)
    if not total:
        return []
    findings = []
    for owner_key, held in holdings(pie).items():
        share = held / total
        if share > pie.max_metric_share:
            findings.append(
                _finding(
                    "overload",
                    "warning",
                    gettext_noop(
                        "{owner} holds {percent} % of the plan's metrics (more than {limit} %): "
                        "too many slices for one person to control."
                    ),
                    owner=pie.owner(owner_key).name,
                    percent=int((share * 100).to_integral_value()),
                    limit=int((pie.max_metric_share * 100).to_integral_value()),
                )
            )
    return findings


def split_shares(pie: Pie) -> list[Finding]:
    findings = []
    for assignment in pie.assignments:
        children = pie.children(assignment.key)
        if not children:
            continue
        total = sum((child.share for child in children), Decimal(0))
        if abs(total - 1) > SHARE_TOLERANCE:
            findings.append(
                _finding(
                    "split_shares",
                    "error",
                    gettext_noop(
                        "The team's shares of “{metric}” add up to {percent} %, not 100 %: the "
                        "team's numbers would not add up to the department's."
                    ),
                    metric=pie.metric(assignment.metric).name,
                    percent=format((total * 100).normalize(), "f"),
                )
            )
    return findings


RULES: tuple[Callable[[Pie], list[Finding]], ...] = (
    no_owner,
    two_owners,
    role_mismatch,
    head_of_sales_personal_share,
    uncontrollable_on_pie,
    overload,
    split_shares,
)


def check_pie(pie: Pie, rules: Sequence[Callable[[Pie], list[Finding]]] = RULES) -> list[Finding]:
    return [finding for rule in rules for finding in rule(pie)]


# --- the default pie ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seat:
    """A person who can hold slices: role, salesperson kind, and their share of the plan."""

    owner: OwnerView
    plan_share: Decimal = Decimal(0)


def default_assignments(
    metrics: Sequence[MetricView], seats: Sequence[Seat], *, team_head: str | None = None
) -> list[Assignment]:
    """Marketing → the marketer; revenue and margin → the head of sales; sales metrics → the
    head of sales for the department, split among the plan's salespeople by their plan share
    (hunters take new clients, farmers the existing base). Without a head of sales a sales
    metric goes to the salesperson with the largest share.

    The head of sales of a team's plan is that team's head (`team_head`, a seat's key): the one
    who may edit the plan and its pie. A department plan takes the first head of sales."""

    def first(role: str) -> OwnerView | None:
        return next((seat.owner for seat in seats if seat.owner.role == role), None)

    marketer = first(MARKETER)
    if team_head is not None:
        head = next((seat.owner for seat in seats if seat.owner.key == team_head), None)
    else:
        head = first(HEAD_OF_SALES)
    owner = first(OWNER)
    salespeople = [seat for seat in seats if seat.owner.role == SALESPERSON and seat.plan_share]
    assignments: list[Assignment] = []

    def add(metric: MetricView, holder: OwnerView | None, split: Sequence[Seat] = ()) -> None:
        if holder is None:
            return
        key = f"{metric.key}/{holder.key}"
        assignments.append(Assignment(key=key, metric=metric.key, owner=holder.key))
        total = sum((seat.plan_share for seat in split), Decimal(0))
        if split and total:
            shares = [seat.plan_share / total for seat in split]
            # Exact sum of 1: the last person takes the remainder of the rounding.
            rounded = [share.quantize(Decimal("0.000001")) for share in shares[:-1]]
            rounded.append(Decimal(1) - sum(rounded, Decimal(0)))
            for seat, share in zip(split, rounded, strict=True):
                assignments.append(
                    Assignment(
                        key=f"{key}/{seat.owner.key}",
                        metric=metric.key,
                        owner=seat.owner.key,
                        share=share,
                        parent=key,
                    )
                )

    for metric in metrics:
        if not metric.controllable:
            continue
        if metric.category == Category.MARKETING:
            add(metric, marketer)
        elif metric.category == Category.MANAGEMENT:
            add(metric, head or owner)
        else:
            team = salespeople
            if metric.kind == "new_clients":
                team = [s for s in salespeople if s.owner.salesperson_kind != "farmer"]
            elif metric.kind == "existing_client_revenue":
                team = [s for s in salespeople if s.owner.salesperson_kind == "farmer"]
            if head is not None:
                add(metric, head, team)
            elif team:
                add(metric, max(team, key=lambda seat: seat.plan_share).owner)
    return assignments

"""A plan's inputs as a JSON *snapshot*, and a snapshot as the engine's PlanInput.

The snapshot is what a PlanVersion stores and what every decomposition is computed from: of the
live plan, of an old version, of a draft being typed (page preview), of a save, of the API
preview. `draft_snapshot` is the one builder for all of them, so a preview and the save of the
same inputs can never disagree.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from funnel.models import Funnel, Stage
from salesplan.limits import MAX_SEASONALITY_WEIGHT, MAX_YEAR, MIN_YEAR
from salesplan.models import Membership, PlanMember, PlanProduct, Product, SalesPlan
from salesplan.planning import (
    History,
    MonthStat,
    Norms,
    PlanInput,
    ProductMixItem,
    StageInput,
    TeamMember,
    WorkingCalendar,
)

# The plan's own fields a decomposition depends on (its funnel, team and mix come beside them).
PLAN_INPUT_FIELDS = (
    "name",
    "period_kind",
    "period_start",
    "period_end",
    "revenue_target",
    "average_check",
    "gross_margin_target",
    "cost_per_lead",
    "cost_per_target_lead",
    "calls_per_lead",
    "max_calls_per_day",
    "max_meetings_per_day",
    "seasonality",
    "status",
    "tolerance",
)
NORM_FIELDS = ("calls_per_lead", "max_calls_per_day", "max_meetings_per_day")


@dataclass(frozen=True)
class TeamShare:
    """A salesperson's share of a plan being saved or previewed."""

    membership: Membership
    share: Decimal


@dataclass(frozen=True)
class MixItem:
    """A product of the organization in a plan's mix: a share of deals or a number of units."""

    product: Product
    share: Decimal | None = None
    units: int | None = None


@dataclass(frozen=True)
class TeamEntry:
    """A person in a snapshot: a member of the organization (their id is the key) or, in the
    API preview, someone named by the caller."""

    key: str
    name: str
    share: Decimal | None
    membership: int | None = None


@dataclass(frozen=True)
class MixEntry:
    name: str
    price: Decimal | None
    share: Decimal | None = None
    units: int | None = None
    margin_pct: Decimal | None = None
    product: int | None = None


def _stored(model: type, name: str, value: Any) -> Any:
    """The value as the database gives it back (2 or 6 decimal places), as JSON text, so a
    snapshot taken before a save equals one read after it."""
    if isinstance(value, Decimal):
        places = getattr(model._meta.get_field(name), "decimal_places", None)
        if places is not None and value.is_finite():
            value = value.quantize(Decimal(1).scaleb(-places))
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _attribute(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name)


def draft_snapshot(
    *,
    fields: Mapping[str, Any],
    stages: Iterable[Any],
    team: Iterable[TeamEntry],
    product_mix: Iterable[MixEntry] = (),
    funnel: Funnel | None = None,
) -> dict[str, Any]:
    """Everything a plan's decomposition depends on, as JSON. `stages` are Stage rows or
    dicts (name, conversion, is_key_stage, is_target_lead), top of the funnel first; they are
    copied in, since the funnel may change after this version."""
    snapshot: dict[str, Any] = {
        name: _stored(SalesPlan, name, fields.get(name)) for name in PLAN_INPUT_FIELDS
    }
    snapshot["funnel"] = funnel.pk if funnel is not None else None
    snapshot["funnel_name"] = funnel.name if funnel is not None else ""
    snapshot["stages"] = [
        {
            "name": _attribute(stage, "name"),
            "conversion": _stored(Stage, "conversion", _attribute(stage, "conversion")),
            "is_key_stage": bool(_attribute(stage, "is_key_stage")),
            "is_target_lead": bool(_attribute(stage, "is_target_lead")),
        }
        for stage in stages
    ]
    snapshot["team"] = [
        {
            **({"membership": entry.membership} if entry.membership is not None else {}),
            **({} if entry.membership is not None else {"key": entry.key}),
            "name": entry.name,
            "share": _stored(PlanMember, "share", entry.share),
        }
        for entry in team
    ]
    snapshot["product_mix"] = [
        {
            "product": entry.product,
            "name": entry.name,
            "price": _stored(Product, "price", entry.price),
            "margin_pct": _stored(Product, "margin_pct", entry.margin_pct),
            "share": _stored(PlanProduct, "share", entry.share),
            "units": entry.units,
        }
        for entry in product_mix
    ]
    return snapshot


def team_entries(team: Iterable[TeamShare]) -> list[TeamEntry]:
    return [
        TeamEntry(
            key=str(item.membership.pk),
            name=item.membership.display_name,
            share=item.share,
            membership=item.membership.pk,
        )
        for item in team
    ]


def mix_entries(mix: Iterable[MixItem]) -> list[MixEntry]:
    return [
        MixEntry(
            name=item.product.name,
            price=item.product.price,
            share=item.share,
            units=item.units,
            margin_pct=item.product.margin_pct,
            product=item.product.pk,
        )
        for item in mix
    ]


def snapshot_of(plan: SalesPlan) -> dict[str, Any]:
    """The saved plan's snapshot. Reads its funnel's stages, members and mix through the
    relations, so a caller that prefetched them (plan lists) pays no query."""
    return draft_snapshot(
        fields={name: getattr(plan, name) for name in PLAN_INPUT_FIELDS},
        funnel=plan.funnel,
        stages=plan.funnel.stages.all(),
        team=team_entries(TeamShare(m.membership, m.share) for m in plan.members.all()),
        product_mix=mix_entries(
            MixItem(p.product, p.share, p.units) for p in plan.product_mix.all()
        ),
    )


# --- snapshot → PlanInput --------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# Bad seasonality keys named in one error: enough to see the pattern of a mistake.
MAX_LISTED_KEYS = 5


def _month_key(key: Any) -> date | None:
    """A seasonality key ("2027-01-01") as a date within MIN_YEAR..MAX_YEAR, else None."""
    if not isinstance(key, str) or not _ISO_DAY.fullmatch(key):
        return None
    try:
        day = date.fromisoformat(key)
    except ValueError:
        return None
    return day if MIN_YEAR <= day.year <= MAX_YEAR else None


def _weight(value: Any) -> Decimal | None:
    """A seasonality weight (a number or its text) as a Decimal within the limit, else None;
    the engine judges the rest (negative, a month left out)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        return None
    try:
        weight = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return weight if weight.is_finite() and abs(weight) <= MAX_SEASONALITY_WEIGHT else None


def seasonality_weights(raw: Any) -> dict[date, Decimal] | None:
    """A plan's seasonality as the engine takes it, {a month's first day: weight}; None for
    none. Every way in (page, API, a stored version) comes through here, so a key that is no
    date or a weight that is no number is a ValidationError on "seasonality", never a crash."""
    if not raw:
        return None
    if not isinstance(raw, Mapping):
        raise ValidationError(
            {"seasonality": [gettext('Give weights by month, e.g. {"2027-01-01": "1.2"}.')]}
        )
    weights: dict[date, Decimal] = {}
    problems: list[str] = []
    for key, value in raw.items():
        month, weight = _month_key(key), _weight(value)
        shown = str(key)[:20]
        if month is None:
            problems.append(
                gettext(
                    "“%(key)s” is not a month: write its first day, e.g. 2027-01-01, "
                    "in the years %(min)s to %(max)s."
                )
                % {"key": shown, "min": MIN_YEAR, "max": MAX_YEAR}
            )
        elif weight is None:
            problems.append(
                gettext("The weight of %(key)s is not a number from 0 to %(max)s.")
                % {"key": shown, "max": MAX_SEASONALITY_WEIGHT}
            )
        else:
            weights[month] = weight
        if len(problems) == MAX_LISTED_KEYS:
            break
    if problems:
        raise ValidationError({"seasonality": problems})
    return weights


def history_from_json(data: Any) -> History | None:
    """A stored history ({"months": [{"month", "stages", "revenue"}]}) as the engine's."""
    if not data or not data.get("months"):
        return None
    return History(
        months=tuple(
            MonthStat(
                month=_date(month["month"]),
                stages={name: int(count) for name, count in month["stages"].items()},
                revenue=_decimal(month["revenue"]) or Decimal(0),
            )
            for month in data["months"]
        )
    )


def history_to_json(history: History | None) -> dict[str, Any] | None:
    if history is None or not history.months:
        return None
    return {
        "months": [
            {
                "month": month.month.isoformat(),
                "stages": dict(month.stages),
                "revenue": format(month.revenue, "f"),
            }
            for month in history.months
        ]
    }


def plan_input(
    snapshot: Mapping[str, Any],
    *,
    calendar: WorkingCalendar,
    history: History | None = None,
) -> PlanInput:
    """The engine's input for a snapshot (a plan's, a version's or a draft's)."""
    norms = None
    if any(snapshot.get(key) for key in NORM_FIELDS):
        norms = Norms(
            calls_per_lead=_decimal(snapshot.get("calls_per_lead")),
            max_calls_per_day=snapshot.get("max_calls_per_day"),
            max_meetings_per_day=snapshot.get("max_meetings_per_day"),
        )
    seasonality = snapshot.get("seasonality") or None
    return PlanInput(
        revenue_target=_decimal(snapshot["revenue_target"]),
        average_check=_decimal(snapshot.get("average_check")),
        period_start=_date(snapshot["period_start"]),
        period_end=_date(snapshot["period_end"]),
        stages=tuple(
            StageInput(
                name=stage["name"],
                conversion=_decimal(stage.get("conversion")),
                is_key_stage=bool(stage.get("is_key_stage")),
                is_target_lead=bool(stage.get("is_target_lead")),
            )
            for stage in snapshot["stages"]
        ),
        cost_per_lead=_decimal(snapshot.get("cost_per_lead")),
        cost_per_target_lead=_decimal(snapshot.get("cost_per_target_lead")),
        product_mix=tuple(
            ProductMixItem(
                name=item["name"],
                price=_decimal(item["price"]),
                share=_decimal(item.get("share")),
                units=item.get("units"),
                margin_pct=_decimal(item.get("margin_pct")),
            )
            for item in snapshot.get("product_mix") or ()
        ),
        gross_margin_target=_decimal(snapshot.get("gross_margin_target")),
        team=tuple(
            TeamMember(
                key=str(member.get("membership") or member.get("key") or member["name"]),
                name=member["name"],
                share=_decimal(member["share"]),
            )
            for member in snapshot.get("team") or ()
        ),
        norms=norms,
        seasonality=seasonality_weights(seasonality),
        history=history,
        calendar=calendar,
    )


def saved_plan_input(plan: SalesPlan, calendar: WorkingCalendar) -> PlanInput:
    """The saved plan with the history stored at its last save or refresh (no actuals read)."""
    return plan_input(snapshot_of(plan), calendar=calendar, history=history_from_json(plan.history))

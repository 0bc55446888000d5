"""The plan pages' tables as `salesplan.tables.Table`s: what each page shows, as values a
spreadsheet can sum (XLSX and CSV through `export_response`). The templates keep their own
markup (badges, links); these carry the same rows."""

import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from salesplan.tables import Column, Table

# Characters a worksheet's title may not hold (openpyxl refuses them); a plan's name may.
SHEET_TITLE_FORBIDDEN = re.compile(r"[\\/*?:\[\]]")


def _titled(plan: Any, title: Any) -> str:
    """The file's and the sheet's title: the plan's name and the table's."""
    text = f"{plan.name} · {title}" if plan is not None else str(title)
    return SHEET_TITLE_FORBIDDEN.sub(" ", text)


def plans_table(rows: Iterable[dict[str, Any]]) -> Table:
    """The plan list: each plan's period, target, deals, verdict and status."""
    return Table(
        name="plans",
        title=_("Sales plans"),
        columns=[
            Column("name", _("Plan")),
            Column("funnel", _("Funnel")),
            Column("period_start", _("Period start"), "date"),
            Column("period_end", _("Period end"), "date"),
            Column("revenue_target", _("Revenue target"), "money"),
            Column("deals", _("Deals"), "int"),
            Column("verdict", _("Verdict")),
            Column("status", _("Status")),
        ],
        rows=[
            {
                "name": row["plan"].name,
                "funnel": row["plan"].funnel.name,
                "period_start": row["plan"].period_start,
                "period_end": row["plan"].period_end,
                "revenue_target": row["plan"].revenue_target,
                "deals": row["decomposition"].deals if row["decomposition"] else None,
                "verdict": row["verdict_label"],
                "status": row["plan"].get_status_display(),
            }
            for row in rows
        ],
    )


def _week_label(week: Any) -> str:
    return f"{date_format(week.start, 'd.m')}–{date_format(week.end, 'd.m')}"


def stages_table(view: dict[str, Any], plan: Any = None) -> Table:
    """Required volume by stage: the period, a working day, the conversion, each month (of a
    quarter or a year) and each week, as the page's stage table."""
    months = list(view["months"])
    weeks = list(view["weeks"])
    columns = [
        Column("stage", _("Stage")),
        Column("required", _("For the period"), "int"),
        Column("per_day", _("Per working day"), "number"),
        Column("conversion", _("Conversion"), "percent"),
        *(
            Column(f"m{index}", date_format(month.start, "m.Y"), "int")
            for index, month in enumerate(months)
        ),
        *(Column(f"w{index}", _week_label(week), "int") for index, week in enumerate(weeks)),
    ]
    rows = []
    for row in view["stage_rows"]:
        stage = row["stage"]
        values: dict[str, Any] = {
            "stage": stage.name,
            "required": stage.required,
            "per_day": row["per_day"],
            "conversion": stage.conversion,
        }
        values.update({f"m{index}": count for index, count in enumerate(row["months"])})
        values.update({f"w{index}": count for index, count in enumerate(row["weeks"])})
        rows.append(values)
    return Table("stages", _titled(plan, _("Required volume by stage")), columns, rows)


def people_table(view: dict[str, Any], plan: Any = None) -> Table:
    """Each salesperson's share and volume of every stage."""
    stages = [row["stage"] for row in view["stage_rows"]]
    columns = [
        Column("name", _("Salesperson")),
        Column("share", _("Share"), "percent"),
        *(Column(f"s{index}", stage.name, "int") for index, stage in enumerate(stages)),
    ]
    rows = [
        {
            "name": row["person"].name,
            "share": row["person"].share,
            **{f"s{index}": count for index, count in enumerate(row["counts"])},
        }
        for row in view["people"]
    ]
    return Table("people", _titled(plan, _("By salesperson")), columns, rows)


def versions_table(versions: Iterable[dict[str, Any]], plan: Any = None) -> Table:
    return Table(
        name="versions",
        title=_titled(plan, _("Versions")),
        columns=[
            Column("number", _("Version"), "int"),
            Column("who", _("Who")),
            Column("when", _("When"), "date"),
            Column("changed", _("What changed")),
        ],
        rows=[
            {
                "number": item["version"].number,
                "who": item["who"],
                "when": timezone.localtime(item["version"].created_at).replace(tzinfo=None),
                "changed": ", ".join(str(label) for label in item["changed"]),
            }
            for item in versions
        ],
    )


def inputs_table(rows: Iterable[tuple[str, str]], plan: Any = None) -> Table:
    """A version's inputs as read (labels and texts)."""
    return Table(
        name="inputs",
        title=_titled(plan, _("Inputs")),
        columns=[Column("input", _("Input")), Column("value", _("Value"))],
        rows=[{"input": str(label), "value": text} for label, text in rows],
    )


def changed_inputs_table(
    rows: Iterable[dict[str, str]], before_label: str, after_label: str, plan: Any = None
) -> Table:
    return Table(
        name="inputs",
        title=_titled(plan, _("Changed inputs")),
        columns=[
            Column("input", _("Input")),
            Column("a", before_label),
            Column("b", after_label),
        ],
        rows=[{"input": str(row["label"]), "a": row["a"], "b": row["b"]} for row in rows],
    )


def diff_table(
    rows: Iterable[dict[str, Any]],
    before_label: str,
    after_label: str,
    *,
    name: str = "diff",
    plan: Any = None,
) -> Table:
    """Before, after and the difference of every output (presentation.diff_rows); a verdict
    is written as its label, money and counts as numbers."""
    out = []
    for row in rows:
        if row["kind"] == "verdict":
            out.append(
                {
                    "output": str(row["label"]),
                    "before": row["before_label"],
                    "after": row["after_label"],
                    "delta": None,
                }
            )
        else:
            out.append(
                {
                    "output": str(row["label"]),
                    "before": row["before"],
                    "after": row["after"],
                    "delta": row["delta"],
                }
            )
    return Table(
        name=name,
        title=_titled(plan, _("What it changes")),
        columns=[
            Column("output", _("Output")),
            Column("before", before_label, "number"),
            Column("after", after_label, "number"),
            Column("delta", _("Difference"), "number"),
        ],
        rows=out,
    )


# --- plan vs fact ------------------------------------------------------------------------------


def _unit(unit: str, plan: Any) -> str:
    """A metric's unit as a spreadsheet reader needs it: the currency, "%" or nothing (a
    count)."""
    if unit == "money":
        return plan.organization.currency if plan is not None else ""
    return "%" if unit == "percent" else ""


def _owners_text(owners: Sequence[dict[str, Any]]) -> str:
    if len(owners) > 1:
        return ", ".join(f"{owner['name']} ({owner['share'] * 100:.0f} %)" for owner in owners)
    return ", ".join(owner["name"] for owner in owners)


def _figure(value: Any, unit: str) -> Any:
    """A metric's figure in its unit's column: a percent metric (stored as a fraction) in
    percent, beside its "%" unit."""
    if value is None or unit != "percent":
        return value
    return value * 100


def department_table(rows: Iterable[dict[str, Any]], plan: Any = None) -> Table:
    """The department's metrics on the day shown. Metrics have different units, so a row's
    figures are written as numbers with the unit beside."""
    return Table(
        name="department",
        title=_titled(plan, _("The department's metrics")),
        columns=[
            Column("metric", _("Metric")),
            Column("unit", _("Unit")),
            Column("owners", _("Owned by")),
            Column("plan_to_date", _("Plan to date"), "number"),
            Column("actual_to_date", _("Actual"), "number"),
            Column("forecast", _("Forecast"), "number"),
            Column("gap", _("Gap to plan"), "percent"),
            Column("status", _("Status")),
        ],
        rows=[
            {
                "metric": row["name"],
                "unit": _unit(row["unit"], plan),
                "owners": _owners_text(row["owners"]),
                "plan_to_date": _figure(row["plan_to_date"], row["unit"]),
                "actual_to_date": _figure(row["actual_to_date"], row["unit"]),
                "forecast": _figure(row["forecast"], row["unit"]),
                "gap": row["gap_fraction"],
                "status": str(row["status_label"]),
            }
            for row in rows
        ],
    )


def fact_people_table(grid: dict[str, Any], plan: Any = None) -> Table:
    """Each salesperson's own figures: a row per person and metric (the page folds them into
    a grid of a column per metric)."""
    rows = []
    for person in grid["rows"]:
        for column, cell in zip(grid["columns"], person["cells"], strict=True):
            if cell is None:
                continue
            rows.append(
                {
                    "person": person["name"],
                    "metric": column["name"],
                    "unit": _unit(cell["unit"], plan),
                    "plan_to_date": _figure(cell["plan_to_date"], cell["unit"]),
                    "actual_to_date": _figure(cell["actual_to_date"], cell["unit"]),
                    "forecast": _figure(cell["forecast"], cell["unit"]),
                    "gap": cell["gap_fraction"],
                    "status": str(cell["status_label"]),
                }
            )
    return Table(
        name="fact-people",
        title=_titled(plan, _("By salesperson")),
        columns=[
            Column("person", _("Salesperson")),
            Column("metric", _("Metric")),
            Column("unit", _("Unit")),
            Column("plan_to_date", _("Plan to date"), "number"),
            Column("actual_to_date", _("Actual"), "number"),
            Column("forecast", _("Forecast"), "number"),
            Column("gap", _("Gap to plan"), "percent"),
            Column("status", _("Status")),
        ],
        rows=rows,
    )


def attribution_table(attribution: dict[str, Any], plan: Any = None) -> Table:
    """The revenue gap by factor: a row per factor and owner (and each person below a head of
    sales), so the contributions of the owners' rows add up to the gap."""
    rows = []
    for factor in attribution["factors"]:
        for part in factor["owners"]:
            owner = part["owner"]["name"] if part["owner"] else ""
            rows.append(
                {
                    "factor": factor["name"],
                    "owner": owner,
                    "below": "",
                    "contribution": part["contribution"],
                }
            )
            for share in part["split"]:
                rows.append(
                    {
                        "factor": factor["name"],
                        "owner": owner,
                        "below": share["name"],
                        "contribution": share["contribution"],
                    }
                )
    return Table(
        name="attribution",
        title=_titled(plan, _("The revenue gap by factor")),
        columns=[
            Column("factor", _("Factor")),
            Column("owner", _("Owned by")),
            Column("below", _("Of it, salesperson")),
            Column("contribution", _("Contribution"), "money"),
        ],
        rows=rows,
    )


def slips_table(slips: Iterable[dict[str, Any]], plan: Any = None) -> Table:
    return Table(
        name="slips",
        title=_titled(plan, _("Open slips")),
        columns=[
            Column("metric", _("Metric")),
            Column("owner", _("Owned by")),
            Column("since", _("Since"), "date"),
            Column("gap", _("Gap to plan"), "percent"),
            Column("attributed_revenue", _("Attributed revenue"), "money"),
        ],
        rows=[
            {
                "metric": item["slip"].metric.display_name,
                "owner": item["slip"].owner.display_name if item["slip"].owner else "",
                "since": item["slip"].since,
                "gap": item["gap_fraction"],
                "attributed_revenue": item["slip"].attributed_revenue,
            }
            for item in slips
        ],
    )


def what_if_people_table(
    people: Iterable[dict[str, Any]], before_label: str, after_label: str, plan: Any = None
) -> Table:
    """Each salesperson's share and every stage's volume now and with the levers pulled
    (salesplan.plans.whatif.people_changes): a row per person and stage."""
    rows = []
    for person in people:
        rows.append(
            {
                "person": person["name"],
                "figure": str(_("Share")),
                "before": person["share_before"],
                "after": person["share_after"],
                "delta": None,
            }
        )
        for stage in person["stages"]:
            rows.append(
                {
                    "person": person["name"],
                    "figure": stage["name"],
                    "before": stage["before"],
                    "after": stage["after"],
                    "delta": stage["delta"],
                }
            )
    return Table(
        name="what-if-people",
        title=_titled(plan, _("Each salesperson: now → what if")),
        columns=[
            Column("person", _("Salesperson")),
            Column("figure", _("Output")),
            Column("before", before_label, "number"),
            Column("after", after_label, "number"),
            Column("delta", _("Difference"), "number"),
        ],
        rows=rows,
    )

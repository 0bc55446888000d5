"""Each rule of the pie with a case that fires it and one that does not (pure, no database)."""

from dataclasses import replace
from decimal import Decimal

from responsibility.rules import (
    Assignment,
    MetricView,
    OwnerView,
    Pie,
    Seat,
    check_pie,
    default_assignments,
    head_of_sales_personal_share,
    no_owner,
    overload,
    role_mismatch,
    split_shares,
    two_owners,
    uncontrollable_on_pie,
)

MARKETER = OwnerView("m", "Maria", "marketer")
HEAD = OwnerView("h", "Hugo", "head_of_sales")
HUNTER_A = OwnerView("a", "Anna", "salesperson", "hunter")
HUNTER_B = OwnerView("b", "Boris", "salesperson", "hunter")
FARMER = OwnerView("f", "Fedor", "salesperson", "farmer")
OWNERS = (MARKETER, HEAD, HUNTER_A, HUNTER_B, FARMER)

LEADS = MetricView("leads", "Leads", "leads", "marketing", weight=2)
CPL = MetricView("cpl", "Cost per lead", "cost_per_lead", "marketing")
REVENUE = MetricView("rev", "Revenue", "revenue", "management", weight=3)
HELD = MetricView("held", "Meeting held", "stage_volume", "sales")
PAID = MetricView("paid", "Paid", "stage_volume", "sales", is_last_stage=True)
CONV = MetricView("conv", "Held → Paid", "stage_conversion", "sales", weight=2)
NEW = MetricView("new", "New clients", "new_clients", "sales")


def pie(*assignments: Assignment, metrics=(LEADS, REVENUE), limit="0.5") -> Pie:
    return Pie(
        metrics=tuple(metrics),
        owners=OWNERS,
        assignments=assignments,
        max_metric_share=Decimal(limit),
    )


def codes(findings) -> list[str]:
    return [finding.code for finding in findings]


def test_no_owner_fires_for_an_unowned_metric_only():
    given = pie(Assignment("1", "leads", "m"))
    assert [f.params["metric"] for f in no_owner(given)] == ["Revenue"]
    assert no_owner(pie(Assignment("1", "leads", "m"), Assignment("2", "rev", "h"))) == []


def test_two_owners_at_the_same_level_fire_but_a_team_split_does_not():
    twice = pie(Assignment("1", "leads", "m"), Assignment("2", "leads", "h"))
    assert codes(two_owners(twice)) == ["two_owners"]
    assert "Maria" in two_owners(twice)[0].text()
    split = pie(
        Assignment("1", "held", "h"),
        Assignment("2", "held", "a", Decimal("0.5"), parent="1"),
        Assignment("3", "held", "b", Decimal("0.5"), parent="1"),
        metrics=(HELD,),
    )
    assert two_owners(split) == []


def test_head_of_sales_owning_cost_per_lead_is_an_extra_slice():
    findings = role_mismatch(pie(Assignment("1", "cpl", "h"), metrics=(CPL,)))
    assert codes(findings) == ["role_mismatch"]
    assert "Extra slice" in findings[0].text() and "marketer" in findings[0].text()
    assert role_mismatch(pie(Assignment("1", "cpl", "m"), metrics=(CPL,))) == []


def test_a_farmer_holding_new_clients_is_flagged_a_hunter_is_not():
    farmer = pie(
        Assignment("1", "new", "h"),
        Assignment("2", "new", "f", parent="1"),
        metrics=(NEW,),
    )
    assert codes(role_mismatch(farmer)) == ["kind_mismatch"]
    hunter = pie(
        Assignment("1", "new", "h"), Assignment("2", "new", "a", parent="1"), metrics=(NEW,)
    )
    assert role_mismatch(hunter) == []


def test_head_of_sales_with_a_personal_revenue_share():
    personal = pie(
        Assignment("1", "paid", "h"),
        Assignment("2", "paid", "h", Decimal("0.5"), parent="1"),
        Assignment("3", "paid", "a", Decimal("0.5"), parent="1"),
        metrics=(PAID,),
    )
    assert codes(head_of_sales_personal_share(personal)) == ["head_of_sales_share"]
    team_only = pie(
        Assignment("1", "paid", "h"),
        Assignment("3", "paid", "a", Decimal("1"), parent="1"),
        metrics=(PAID,),
    )
    assert head_of_sales_personal_share(team_only) == []


def test_uncontrollable_metric_on_the_pie():
    weather = MetricView("w", "Refusal rate", "refusal_rate", "sales", controllable=False)
    assert codes(uncontrollable_on_pie(pie(Assignment("1", "w", "h"), metrics=(weather,)))) == [
        "uncontrollable"
    ]
    assert uncontrollable_on_pie(pie(metrics=(weather,))) == []
    # and an uncontrollable metric without owner is not "no owner"
    assert no_owner(pie(metrics=(weather,))) == []


def test_overload_counts_what_a_person_effectively_holds():
    metrics = (LEADS, CPL, REVENUE, HELD)
    heavy = pie(
        Assignment("1", "leads", "m"),
        Assignment("2", "cpl", "m"),
        Assignment("3", "rev", "m"),
        Assignment("4", "held", "h"),
        metrics=metrics,
    )
    findings = overload(heavy)
    assert codes(findings) == ["overload"]
    assert findings[0].params["percent"] == 75
    # the head's metric split to the team counts for the team, not for the head
    light = pie(
        Assignment("1", "leads", "m"),
        Assignment("2", "cpl", "m"),
        Assignment("3", "rev", "h"),
        Assignment("4", "held", "h"),
        Assignment("5", "held", "a", Decimal("0.5"), parent="4"),
        Assignment("6", "held", "b", Decimal("0.5"), parent="4"),
        metrics=metrics,
    )
    assert overload(light) == []
    # the limit is the organization's: at 40 % the marketer's half of the metrics is too much
    stricter = overload(replace(light, max_metric_share=Decimal("0.4")))
    assert [f.params["owner"] for f in stricter] == ["Maria"]


def test_split_shares_that_do_not_add_up():
    bad = pie(
        Assignment("1", "held", "h"),
        Assignment("2", "held", "a", Decimal("0.5"), parent="1"),
        Assignment("3", "held", "b", Decimal("0.4"), parent="1"),
        metrics=(HELD,),
    )
    findings = split_shares(bad)
    assert codes(findings) == ["split_shares"]
    assert findings[0].params["percent"] == "90"
    good = pie(
        Assignment("1", "held", "h"),
        Assignment("2", "held", "a", Decimal("0.5"), parent="1"),
        Assignment("3", "held", "b", Decimal("0.5"), parent="1"),
        metrics=(HELD,),
    )
    assert split_shares(good) == []


def test_default_pie_of_a_seed_like_team_has_no_findings():
    # given one marketer, two hunters at half each, one head of sales
    metrics = (LEADS, CPL, REVENUE, HELD, PAID, CONV, NEW)
    seats = [
        Seat(MARKETER),
        Seat(HEAD),
        Seat(HUNTER_A, Decimal("0.5")),
        Seat(HUNTER_B, Decimal("0.5")),
    ]
    # when the default is proposed
    assignments = default_assignments(metrics, seats)
    given = Pie(metrics=metrics, owners=OWNERS, assignments=tuple(assignments))
    # then every rule is quiet
    assert check_pie(given) == []
    owners = {a.metric: a.owner for a in assignments if a.parent is None}
    assert owners == {
        "leads": "m",
        "cpl": "m",
        "rev": "h",
        "held": "h",
        "paid": "h",
        "conv": "h",
        "new": "h",
    }
    team = {(a.metric, a.owner): a.share for a in assignments if a.parent}
    assert team[("paid", "a")] + team[("paid", "b")] == 1

import json
import pickle
from datetime import date
from fractions import Fraction

from salesplan.planning import (
    ProductMixItem,
    decompose,
    person_daily,
    plan_to_date,
    plan_to_date_fraction,
)

from .builders import D, team_of, worked_example

STAGE_NAMES = ["Lead", "Target lead", "Meeting scheduled", "Meeting held", "Paid"]


def test_worked_example_of_domain_section_1():
    # given the example: 1,000,000 revenue, 50,000 check, 500 per lead
    plan = worked_example()

    # when
    result = decompose(plan)

    # then 20 deals and 50, 63, 252, 420 up the funnel; budget 210,000 exactly
    assert result.deals == 20
    assert [s.required for s in result.stages] == [420, 252, 63, 50, 20]
    assert result.marketing_budget == D("210000")
    assert isinstance(result.marketing_budget, D)
    assert result.average_check == D("50000")
    assert result.planned_revenue == D("1000000")
    assert [s.is_key_stage for s in result.stages] == [False, False, False, True, False]


def test_deals_round_up():
    # given a target that is not a whole number of checks
    plan = worked_example(revenue_target=D("1000000.01"))

    # when / then one more deal is needed
    assert decompose(plan).deals == 21


def test_budget_from_cost_per_target_lead():
    # given marketing is paid per target lead only
    plan = worked_example(cost_per_lead=None, cost_per_target_lead=D("1000"))

    # when / then 252 target leads × 1,000
    assert decompose(plan).marketing_budget == D("252000")


def test_target_lead_stage_defaults_to_the_second_stage():
    # given no stage is marked as target lead
    plan = worked_example(cost_per_lead=None, cost_per_target_lead=D("10"))
    plan = plan.__class__(**{**_fields(plan), "stages": _unmark_target_lead(plan.stages)})

    # when
    result = decompose(plan)

    # then the second stage is the target-lead stage
    assert [s.is_target_lead for s in result.stages] == [False, True, False, False, False]
    assert result.marketing_budget == D("2520")


def test_no_cost_gives_no_budget():
    assert decompose(worked_example(cost_per_lead=None)).marketing_budget is None


def test_product_mix_shares_set_the_average_check():
    # given half the deals at 40,000 and half at 60,000
    mix = (
        ProductMixItem("Basic", D("40000"), share=D("0.5"), margin_pct=D("20")),
        ProductMixItem("Pro", D("60000"), share=D("0.5"), margin_pct=D("40")),
    )
    plan = worked_example(average_check=None, product_mix=mix)

    # when
    result = decompose(plan)

    # then the average check is 50,000 and the funnel is the worked example's
    assert result.average_check == D("50000")
    assert result.deals == 20
    assert result.stages[0].required == 420
    # 10 × 40,000 × 20 % + 10 × 60,000 × 40 %
    assert result.gross_margin == D("320000")


def test_product_mix_units_set_deals_and_warn_when_revenue_falls_short():
    # given 10 units at 50,000 and 5 at 80,000: 900,000 against a 1,000,000 target
    mix = (
        ProductMixItem("Basic", D("50000"), units=10, margin_pct=D("30")),
        ProductMixItem("Pro", D("80000"), units=5, margin_pct=D("50")),
    )
    plan = worked_example(average_check=None, product_mix=mix)

    # when
    result = decompose(plan)

    # then deals are the units, revenue follows, and a warning says it is short
    assert result.deals == 15
    assert result.planned_revenue == D("900000")
    assert result.average_check == D("60000")
    assert result.gross_margin == D("350000")
    assert [w.code for w in result.warnings] == ["product_mix_revenue_below_target"]
    assert "900000" in result.warnings[0].text()


def test_gross_margin_below_target_makes_the_plan_stretched():
    # given a mix whose margin is 320,000 against a target of 400,000
    mix = (
        ProductMixItem("Basic", D("40000"), share=D("0.5"), margin_pct=D("20")),
        ProductMixItem("Pro", D("60000"), share=D("0.5"), margin_pct=D("40")),
    )
    plan = worked_example(average_check=None, product_mix=mix, gross_margin_target=D("400000"))

    # when
    result = decompose(plan)

    # then
    assert result.verdict == "stretched"
    assert [r.code for r in result.reasons] == ["gross_margin_below_target"]


def test_december_2026_by_day_skips_days_off():
    # when
    result = decompose(worked_example())

    # then every day of December is there, 22 working, 31 December off with zeros
    assert len(result.by_day) == 31
    assert result.working_days == 22
    last = result.by_day[-1]
    assert last.date == date(2026, 12, 31)
    assert not last.is_working_day
    assert set(last.stages.values()) == {0}
    # 420 leads over 22 working days: 20 days of 19 and 2 of 20, the larger parts first
    leads = [day.stages["Lead"] for day in result.by_day if day.is_working_day]
    assert leads == [20, 20] + [19] * 20


def test_weeks_are_iso_weeks_clipped_to_the_period():
    # when
    result = decompose(worked_example())

    # then 1–6 December is the clipped week 49, 28–31 December week 53
    labels = [(w.week, w.start, w.end, w.working_days) for w in result.by_week]
    assert labels[0] == ("2026-W49", date(2026, 12, 1), date(2026, 12, 6), 4)
    assert labels[-1] == ("2026-W53", date(2026, 12, 28), date(2026, 12, 31), 3)
    assert sum(w.stages["Lead"] for w in result.by_week) == 420


def test_quarter_splits_months_by_working_days_by_default():
    # given a quarter whose months have 15, 19 and 21 working days; 55 deals
    plan = worked_example(
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        revenue_target=D("2750000"),
    )

    # when
    result = decompose(plan)

    # then deals go 15 / 19 / 21
    assert [m.month for m in result.by_month] == ["2026-01", "2026-02", "2026-03"]
    assert [m.working_days for m in result.by_month] == [15, 19, 21]
    assert [m.stages["Paid"] for m in result.by_month] == [15, 19, 21]
    # the New Year holidays get nothing
    assert all(d.stages["Lead"] == 0 for d in result.by_day if d.date <= date(2026, 1, 11))


def test_quarter_splits_months_by_seasonality_weights():
    # given March weighs twice as much as January or February
    months = {date(2026, 1, 1): D("1"), date(2026, 2, 1): D("1"), date(2026, 3, 1): D("2")}
    plan = worked_example(
        period_start=date(2026, 1, 1), period_end=date(2026, 3, 31), seasonality=months
    )

    # when
    result = decompose(plan)

    # then 20 deals go 5 / 5 / 10
    assert [m.stages["Paid"] for m in result.by_month] == [5, 5, 10]


def test_team_split_by_shares():
    # given three people with 50 / 30 / 20 %
    plan = worked_example(team=team_of("0.5", "0.3", "0.2"))

    # when
    result = decompose(plan)

    # then 420 leads go 210 / 126 / 84; 63 scheduled meetings 31.5 / 18.9 / 12.6 → 31 / 19 / 13
    assert [p.stages["Lead"] for p in result.by_person] == [210, 126, 84]
    assert [p.stages["Meeting scheduled"] for p in result.by_person] == [31, 19, 13]
    for name in STAGE_NAMES:
        assert sum(p.stages[name] for p in result.by_person) == result.stage(name).required


def test_person_daily_adds_up_to_the_persons_totals():
    # given a quarter and two people
    plan = worked_example(
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        team=team_of("0.6", "0.4"),
    )
    result = decompose(plan)

    # when
    days = person_daily(result, "p1")

    # then every day of the period is there, days off get nothing, totals match
    assert [d.date for d in days] == [d.date for d in result.by_day]
    person = result.by_person[1]
    for name in STAGE_NAMES:
        assert sum(d.stages[name] for d in days) == person.stages[name]
    assert all(set(d.stages.values()) == {0} for d in days if not d.is_working_day)


def test_plan_to_date():
    # given the worked example
    result = decompose(worked_example())

    # when / then zero before the start, everything after the end
    assert plan_to_date(result, date(2026, 11, 30)) == dict.fromkeys(STAGE_NAMES, 0)
    assert plan_to_date(result, date(2027, 1, 15)) == result.totals
    # 11 of 22 working days by 15 December: the first two days carry 20 leads, the rest 19
    assert plan_to_date(result, date(2026, 12, 15))["Lead"] == 2 * 20 + 9 * 19
    assert plan_to_date_fraction(result, date(2026, 12, 15)) == Fraction(1, 2)
    assert plan_to_date_fraction(result, date(2026, 11, 1)) == 0
    assert plan_to_date_fraction(result, date(2026, 12, 31)) == 1


def test_to_dict_is_json_friendly():
    # given
    result = decompose(worked_example(team=team_of("1")))

    # when
    data = json.loads(json.dumps(result.to_dict()))

    # then
    assert data["deals"] == 20
    assert data["average_check"] == "50000"
    assert data["marketing_budget"] == "210000"
    assert data["stages"][0] == {
        "name": "Lead",
        "required": 420,
        "conversion": "0.6",
        "is_key_stage": False,
        "is_target_lead": False,
    }
    assert data["by_day"][0] == {
        "date": "2026-12-01",
        "stages": {
            "Lead": 20,
            "Target lead": 12,
            "Meeting scheduled": 3,
            "Meeting held": 3,
            "Paid": 1,
        },
        "is_working_day": True,
    }
    assert data["by_week"][0]["week"] == "2026-W49"
    assert data["by_month"][0]["month"] == "2026-12"
    assert data["by_person"][0]["share"] == "1"
    assert data["working_days"] == 22
    assert data["verdict"] == "not_assessed"  # no history, no norms: nothing to check against
    assert data["reasons"][0]["code"] == "nothing_to_check"


def _fields(plan):
    return {name: getattr(plan, name) for name in plan.__dataclass_fields__}


def _unmark_target_lead(stages):
    return tuple(
        stage.__class__(stage.name, stage.conversion, stage.is_key_stage) for stage in stages
    )


def test_decomposition_survives_pickling():
    # given a full decomposition (a cache or a Celery result would pickle it)
    result = decompose(worked_example(team=team_of("0.5", "0.5")))

    # when
    restored = pickle.loads(pickle.dumps(result))

    # then
    assert restored == result

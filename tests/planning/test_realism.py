from datetime import date

from salesplan.planning import Finding, History, MonthStat, Norms, decompose, verdict_for

from .builders import D, team_of, worked_example

# The worked example needs 420 / 252 / 63 / 50 / 20 and 1,000,000 in December 2026.
STRONG_MONTH = {
    "Lead": 500,
    "Target lead": 300,
    "Meeting scheduled": 75,
    "Meeting held": 60,
    "Paid": 24,
}
WEAK_MONTH = {
    "Lead": 400,
    "Target lead": 240,
    "Meeting scheduled": 60,
    "Meeting held": 48,
    "Paid": 19,
}


def history(*months: tuple[dict[str, int], str]) -> History:
    return History(
        tuple(
            MonthStat(date(2026, 1 + index, 1), stages, D(revenue))
            for index, (stages, revenue) in enumerate(months)
        )
    )


STRONG = (STRONG_MONTH, "1200000")
WEAK = (WEAK_MONTH, "950000")


def codes(findings: tuple[Finding, ...]) -> list[str]:
    return [finding.code for finding in findings]


def test_realistic_when_history_has_done_more():
    # given three months that each did more than the plan needs
    plan = worked_example(history=history(STRONG, STRONG, STRONG))

    # when
    result = decompose(plan)

    # then
    assert result.verdict == "realistic"
    assert codes(result.reasons) == ["history_checked"]
    assert result.reasons[0].text() == "Volumes and conversions are within 3 months of history."


def test_stretched_when_above_a_typical_month_but_not_the_best():
    # given a typical (median) month below the plan and a best month above it
    plan = worked_example(history=history(WEAK, WEAK, STRONG))

    # when
    result = decompose(plan)

    # then every stage and the revenue are above the median, none above the best
    assert result.verdict == "stretched"
    assert set(codes(result.reasons)) == {
        "stage_above_history_median",
        "revenue_above_history_median",
    }
    lead = result.reasons[0]
    assert lead.severity == "warning"
    assert lead.params == {
        "stage": "Lead",
        "month": "2026-12",
        "planned": 420,
        "best": 500,
        "median": "400",
    }
    assert lead.text() == (
        "Lead: 420 a month needed in 2026-12, more than a typical month (400); "
        "the best month had 500."
    )


def test_unrealistic_when_above_the_best_month():
    # given history that never reached the plan's volumes
    plan = worked_example(history=history(WEAK, WEAK))

    # when
    result = decompose(plan)

    # then
    assert result.verdict == "unrealistic"
    assert "stage_above_history_best" in codes(result.reasons)
    assert "revenue_above_history_best" in codes(result.reasons)


def test_a_half_month_is_compared_as_a_whole_month():
    # given the first half of December (11 of 22 working days) needing 13 deals;
    # the best month ever closed 24
    plan = worked_example(
        period_end=date(2026, 12, 15), revenue_target=D("650000"), history=history(STRONG)
    )

    # when
    result = decompose(plan)

    # then 13 deals in half a month is a pace of 26 a month: above the best
    paid = next(r for r in result.reasons if r.params.get("stage") == "Paid")
    assert paid.code == "stage_above_history_best"
    assert paid.params["planned"] == 26


def test_conversion_far_above_history_is_unrealistic():
    # given history converting meetings held to paid at 25 %, the plan at 40 % (1.6×)
    month = {**STRONG_MONTH, "Paid": 15}
    plan = worked_example(history=history((month, "5000000")))

    # when
    result = decompose(plan)

    # then
    conversion = [r for r in result.reasons if r.code.startswith("conversion")]
    assert codes(tuple(conversion)) == ["conversion_far_above_history"]
    assert conversion[0].params == {
        "stage": "Meeting held",
        "next_stage": "Paid",
        "planned": "40",
        "median": "25",
    }
    assert result.verdict == "unrealistic"


def test_conversion_somewhat_above_history_is_stretched():
    # given history at 30 %, the plan at 40 % (1.33×: above 1.2×, below 1.5×)
    month = {**STRONG_MONTH, "Meeting held": 70, "Paid": 21}
    plan = worked_example(history=history((month, "5000000")))

    # when
    result = decompose(plan)

    # then
    assert codes(result.reasons) == ["conversion_above_history"]
    assert result.verdict == "stretched"


def test_history_without_a_stage_warns():
    # given history that does not track scheduled meetings
    month = {k: v for k, v in STRONG_MONTH.items() if k != "Meeting scheduled"}
    plan = worked_example(history=history((month, "5000000")))

    # when
    result = decompose(plan)

    # then
    assert codes(result.warnings) == ["history_missing_stage"]
    assert result.warnings[0].params == {"stage": "Meeting scheduled"}


def test_calls_over_the_norm_are_unrealistic():
    # given one salesperson: 420 leads × 2 calls over 22 days = 38.2 calls a day; norm 30
    plan = worked_example(team=team_of("1"), norms=Norms(D(2), 30, None))

    # when
    result = decompose(plan)

    # then
    assert result.verdict == "unrealistic"
    assert codes(result.reasons) == ["calls_over_capacity"]
    assert result.reasons[0].params == {
        "person": "Person 0",
        "load": "38.2",
        "month": "2026-12",
        "limit": 30,
    }


def test_calls_close_to_the_norm_are_stretched():
    # given two salespeople: 19.1 calls a day each, within 90–100 % of a norm of 20
    plan = worked_example(team=team_of("0.5", "0.5"), norms=Norms(D(2), 20, None))

    # when
    result = decompose(plan)

    # then
    assert result.verdict == "stretched"
    assert codes(result.reasons) == ["calls_near_capacity"]


def test_calls_well_within_the_norm_are_realistic():
    # given two salespeople: 19.1 calls a day each against a norm of 30
    plan = worked_example(team=team_of("0.5", "0.5"), norms=Norms(D(2), 30, 4))

    # when
    result = decompose(plan)

    # then both checks pass and say so
    assert result.verdict == "realistic"
    assert codes(result.reasons) == ["calls_within_capacity", "meetings_within_capacity"]


def test_key_stage_meetings_over_the_norm_are_unrealistic():
    # given one salesperson holding 50 meetings in 22 days (2.3 a day); norm 2
    plan = worked_example(team=team_of("1"), norms=Norms(None, None, 2))

    # when
    result = decompose(plan)

    # then
    assert codes(result.reasons) == ["meetings_over_capacity"]
    assert result.reasons[0].params["load"] == "2.3"
    assert result.verdict == "unrealistic"


def test_the_busiest_person_and_month_bind():
    # given an uneven team and a quarter with heavier March
    months = {date(2026, 1, 1): D(1), date(2026, 2, 1): D(1), date(2026, 3, 1): D(3)}
    plan = worked_example(
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        seasonality=months,
        team=team_of("0.3", "0.7"),
        norms=Norms(None, None, 100),
    )

    # when
    result = decompose(plan)

    # then the 70 % person in March is the one checked
    assert result.reasons[0].params["person"] == "Person 1"
    assert result.reasons[0].params["month"] == "2026-03"


def test_norms_without_a_team_warn_that_capacity_is_unchecked():
    # given norms but no team
    plan = worked_example(norms=Norms(D(2), 30, 4))

    # when
    result = decompose(plan)

    # then nothing could be checked: "not assessed", never a green "realistic"
    assert codes(result.warnings) == ["capacity_unchecked_no_team"]
    assert result.verdict == "not_assessed"
    assert codes(result.reasons) == ["nothing_to_check"]


def test_verdict_for():
    info = Finding("a", "info", "a")
    warning = Finding("b", "warning", "b")
    error = Finding("c", "error", "c")
    assert verdict_for([]) == "realistic"
    assert verdict_for([info]) == "realistic"
    assert verdict_for([info, warning]) == "stretched"
    assert verdict_for([warning, error]) == "unrealistic"

import json

import pytest

from salesplan.planning import Changes, NewMember, Norms, PlanInputError, equal_shares, what_if

from .builders import D, team_of, worked_example


def diff_of(result, field):
    return next(item for item in result.diff if item.field == field)


def test_five_more_points_of_conversion_lower_upstream_volumes():
    # given the worked example, meeting held → paid improved from 40 % to 45 %
    plan = worked_example()

    # when
    result = what_if(plan, conversion_pp={"Meeting held": D(5)})

    # then deals stay, every stage above needs less: 45, 57, 228, 380 instead of 50, 63, 252, 420
    assert result.after.totals == {
        "Lead": 380,
        "Target lead": 228,
        "Meeting scheduled": 57,
        "Meeting held": 45,
        "Paid": 20,
    }
    lead = diff_of(result, "stages.Lead.required")
    assert (lead.before, lead.after, lead.delta) == (420, 380, -40)
    assert diff_of(result, "deals").delta == 0
    budget = diff_of(result, "marketing_budget")
    assert (budget.before, budget.after, budget.delta) == (D(210000), D(190000), D(-20000))


def test_ten_percent_lower_average_check_raises_deals():
    # given a 45,000 check instead of 50,000
    # when
    result = what_if(worked_example(), Changes(average_check_pct=D(-10)))

    # then ⌈1,000,000 ÷ 45,000⌉ = 23 deals, and more of everything above
    deals = diff_of(result, "deals")
    assert (deals.before, deals.after, deals.delta) == (20, 23, 3)
    assert diff_of(result, "average_check").after == D(45000)
    assert all(item.delta > 0 for item in result.diff if item.field.startswith("stages."))


def test_one_more_salesperson_changes_the_capacity_finding():
    # given one salesperson who would need 38.2 calls a day against a norm of 30
    plan = worked_example(team=team_of("1"), norms=Norms(D(2), 30, None))

    # when a second salesperson joins (shares become 50 / 50)
    result = what_if(plan, add_members=(NewMember("p9", "New hire"),))

    # then each needs 19.1 calls a day: the plan becomes realistic
    assert [p.share for p in result.plan.team] == [D("0.5"), D("0.5")]
    verdict = diff_of(result, "verdict")
    assert (verdict.before, verdict.after) == ("unrealistic", "realistic")
    reasons = diff_of(result, "reasons")
    assert (reasons.before, reasons.after) == (("calls_over_capacity",), ("calls_within_capacity",))


def test_removing_a_salesperson_renormalises_shares():
    # given three people
    plan = worked_example(team=team_of("0.5", "0.3", "0.2"))

    # when one leaves
    result = what_if(plan, remove_members=("p0",))

    # then the two left share equally
    assert [(m.key, m.share) for m in result.plan.team] == [("p1", D("0.5")), ("p2", D("0.5"))]
    assert [p.stages["Lead"] for p in result.after.by_person] == [210, 210]


def test_explicit_shares_for_the_new_team():
    # given one person, and a newcomer who takes a quarter
    plan = worked_example(team=team_of("1"))

    # when
    result = what_if(
        plan,
        add_members=(NewMember("p9", "New hire"),),
        team_shares={"p0": D("0.75"), "p9": D("0.25")},
    )

    # then
    assert [p.stages["Lead"] for p in result.after.by_person] == [315, 105]


def test_revenue_and_cost_per_lead_changes():
    # when the target grows 10 % and a lead costs 600
    result = what_if(worked_example(), revenue_target_pct=D(10), cost_per_lead=D(600))

    # then 22 deals → 55 → 69 (68.75) → 276 → 460 leads, at 600 a lead 276,000
    assert diff_of(result, "deals").after == 22
    assert diff_of(result, "stages.Lead.required").after == 460
    assert diff_of(result, "marketing_budget").after == D("276000")


def test_absolute_revenue_target_and_cost_per_lead_percent():
    # when the target is halved and a lead costs 20 % less (400)
    result = what_if(worked_example(), revenue_target=D(500000), cost_per_lead_pct=D(-20))

    # then 10 deals → 25 → 32 (31.25) → 128 → 214 (213.3) leads × 400
    assert diff_of(result, "deals").after == 10
    assert diff_of(result, "stages.Lead.required").after == 214
    assert diff_of(result, "marketing_budget").after == D("85600")


def test_unknown_stage_or_person_is_reported():
    with pytest.raises(PlanInputError) as caught:
        what_if(worked_example(), conversion_pp={"Nope": D(5)}, remove_members=("ghost",))
    assert set(caught.value.errors) == {"conversion_pp[Nope]", "remove_members[ghost]"}


def test_a_conversion_pushed_past_100_percent_is_a_plan_error():
    # given 80 % scheduled → held, plus 25 points
    with pytest.raises(PlanInputError) as caught:
        what_if(worked_example(), conversion_pp={"Meeting scheduled": D(25)})
    assert "stages[2].conversion" in caught.value.errors


def test_changes_and_keywords_are_not_mixed():
    with pytest.raises(TypeError):
        what_if(worked_example(), Changes(), revenue_target=D(1))


def test_what_if_to_dict_is_json_friendly():
    result = what_if(worked_example(), average_check_pct=D(-10))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["diff"][0] == {"field": "deals", "before": 20, "after": 23, "delta": 3}
    assert data["after"]["deals"] == 23


def test_equal_shares_add_up_to_exactly_one():
    for count in range(1, 50):
        shares = equal_shares(count)
        assert sum(shares) == 1 and len(shares) == count

"""Saving a review: the person's tick over the prefill, the history of changes, versions,
validation, the job's refresh, and the owner's summary "manages or sells"."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from funnel.models import Payment
from salesplan.models import PlanVersion, Role
from salesplan.reviews import selectors, services
from salesplan.reviews.models import ReviewChange, WeeklyReview
from salesplan.reviews.tasks import refresh_prefill
from salesplan.reviews.weeks import parse_week
from tests.factories import LeadFactory, MembershipFactory, PaymentFactory

pytestmark = pytest.mark.django_db

W49 = parse_week("2026-W49")


def mark(key, done, note=None):
    return services.Mark(key=key, done=done, note=note)


def item(view, key):
    return next(i for i in view.items if i.key == key)


@pytest.fixture
def plan_saved_this_week(plan, rop, now):
    version = PlanVersion.objects.create(plan=plan, number=2, inputs={}, created_by=rop.user)
    PlanVersion.objects.filter(pk=version.pk).update(
        created_at=datetime(2026, 12, 1, 7, tzinfo=UTC)
    )


def test_the_persons_tick_wins_over_the_prefill(rop, plan_saved_this_week, now):
    # given the data suggests "plan" is done this week
    assert item(selectors.review_view(rop, W49), "plan").done is True
    # when the head unticks it with a note
    services.review_save(
        member=rop, head=rop, week=W49, marks=[mark("plan", False, "Не успел, перенёс")]
    )
    view = selectors.review_view(rop, W49)
    plan_item = item(view, "plan")
    # then it shows unticked, the person's, with the note, the suggestion kept beside it
    assert (plan_item.done, plan_item.source, plan_item.suggested) == (False, "person", True)
    assert plan_item.note == "Не успел, перенёс"
    # and a refresh of the prefill (the job) does not undo the person's tick
    services.review_refresh(head=rop, week=W49)
    assert item(selectors.review_view(rop, W49), "plan").done is False
    # when the head gives it back to the data (done null), the suggestion shows again
    services.review_save(member=rop, head=rop, week=W49, marks=[mark("plan", None)])
    assert item(selectors.review_view(rop, W49), "plan").done is True


def test_every_save_that_changes_something_is_kept(rop, now):
    # given two saves at 10:00 and 11:00, and a third that changes nothing
    services.review_save(
        member=rop, head=rop, week=W49, marks=[mark("train", True, "Разбор звонков")]
    )
    now.set(datetime(2026, 12, 4, 8, 0, tzinfo=UTC))
    services.review_save(
        member=rop,
        head=rop,
        week=W49,
        marks=[mark("train", True, "Разбор звонков Анны"), mark("hire", True)],
    )
    services.review_save(member=rop, head=rop, week=W49, marks=[mark("hire", True)])
    review = WeeklyReview.objects.get(head=rop, week_start=W49.start)
    # then the review is at version 2 and its changes are listed newest first
    assert review.version == 2
    changes = list(review.changes.all())
    assert [c.number for c in changes] == [2, 1]
    assert changes[0].changed_by == rop
    assert changes[0].changed_at == datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    assert changes[0].items == [
        {"key": "train", "done": [True, True], "note": ["Разбор звонков", "Разбор звонков Анны"]},
        {"key": "hire", "done": [None, True], "note": ["", ""]},
    ]
    assert changes[1].items == [
        {"key": "train", "done": [None, True], "note": ["", "Разбор звонков"]}
    ]


def test_a_note_left_out_stays(rop, now):
    services.review_save(member=rop, head=rop, week=W49, marks=[mark("train", True, "Ролевые")])
    services.review_save(member=rop, head=rop, week=W49, marks=[mark("train", False)])
    view = selectors.review_view(rop, W49)
    assert (item(view, "train").done, item(view, "train").note) == (False, "Ролевые")


def test_a_save_over_a_newer_version_is_refused(rop, now):
    services.review_save(member=rop, head=rop, week=W49, marks=[mark("train", True)], version=0)
    with pytest.raises(services.ReviewConflict) as raised:
        services.review_save(
            member=rop, head=rop, week=W49, marks=[mark("train", False)], version=0
        )
    assert raised.value.current == 1
    assert ReviewChange.objects.filter(review__head=rop).count() == 1


def test_only_the_head_ticks_and_only_weeks_that_began(rop, boss, now):
    with pytest.raises(ValidationError) as raised:
        services.review_save(member=boss, head=rop, week=W49, marks=[mark("train", True)])
    assert "head" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        services.review_save(member=rop, head=rop, week=W49.next(), marks=[mark("train", True)])
    assert "week" in raised.value.message_dict
    # a past week may be reviewed afterwards
    services.review_save(member=rop, head=rop, week=W49.previous(), marks=[mark("train", True)])


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([{"key": "dance", "done": True}], "items[0].key"),
        ([{"key": "plan", "done": True}, {"key": "plan", "done": False}], "items[1].key"),
        ([{"key": "plan", "done": "yes"}], "items[0].done"),
        ([{"key": "plan", "done": True, "note": "x" * 1001}], "items[0].note"),
        ([{"key": "plan", "done": True, "note": 5}], "items[0].note"),
        (["plan"], "items[0]"),
        ({"key": "plan"}, "items"),
        ([{"key": "plan", "done": True}] * 12, "items"),
    ],
)
def test_bad_marks_name_the_item(items, field):
    with pytest.raises(ValidationError) as raised:
        services.validate_marks(items)
    assert field in raised.value.message_dict


def test_the_job_prefills_every_head_of_the_organization(org, rop, plan_saved_this_week, now):
    other = MembershipFactory(organization=org, role=Role.HEAD_OF_SALES)
    MembershipFactory(organization=org, role=Role.HEAD_OF_SALES, is_active=False)
    # when the job runs for the current week (W49: now is Friday 04.12)
    assert refresh_prefill(org.pk) == 2
    # then each active head has the week's review, prefilled, no person's save yet
    mine = WeeklyReview.objects.get(head=rop, week_start=W49.start)
    assert (mine.version, mine.prefill["plan"]["suggested"]) == (0, True)
    assert mine.prefilled_at == now.moment
    assert WeeklyReview.objects.get(head=other).prefill["plan"]["suggested"] is None
    # and run again, nothing is added
    assert refresh_prefill(org.pk, "2026-12-06") == 2
    assert WeeklyReview.objects.filter(organization=org).count() == 2


def test_history_lists_weeks_newest_first_unreviewed_ones_unticked(rop, now):
    services.review_save(
        member=rop,
        head=rop,
        week=W49.previous(),
        marks=[mark("plan", True), mark("train", True)],
    )
    rows = selectors.history(rop, weeks=3)
    assert [row.week.label for row in rows] == ["2026-W49", "2026-W48", "2026-W47"]
    assert [row.saved for row in rows] == [False, True, False]
    assert [row.ticked_count for row in rows] == [0, 2, 0]
    assert rows[1].ticks["plan"] is True and rows[1].ticks["hire"] is False


def test_manages_or_sells_by_hand(rop, plan, now):
    # given W49 (the current week) with 6 of 11 ticked and 5 own deals of 50 000 ₽, and W48
    # with none ticked and 4 own deals (as the job stored them)
    services.review_save(
        member=rop,
        head=rop,
        week=W49,
        marks=[
            mark(key, True)
            for key in ("track_metrics", "plan", "organise", "train", "control", "motivate")
        ],
    )
    for day in (1, 1, 2, 3, 4):
        lead = LeadFactory(funnel=plan.funnel, responsible=rop)
        PaymentFactory(lead=lead, paid_at=datetime(2026, 12, day, 9, tzinfo=UTC))
    services.review_save(member=rop, head=rop, week=W49.previous(), marks=[mark("plan", False)])
    WeeklyReview.objects.filter(head=rop, week_start=W49.previous().start).update(own_deals=4)
    summary = selectors.summarise(rop, selectors.history(rop, weeks=2))
    # then W49 has 7 ticked (the person's 6 and "sell", which the data ticks: 5 own deals),
    # 7 ÷ 22 = 0.318, and 9 deals > 3 × 2 weeks: sells instead of managing
    assert summary.ticked_share == Decimal("0.318")
    assert (summary.own_deals, summary.own_revenue) == (9, Decimal("250000"))
    assert summary.verdict == "sells"
    # over W49 alone: 7 ÷ 11 = 0.636 ticked, but 5 deals > 3: manages, and sells a lot too
    alone = selectors.summarise(rop, selectors.history(rop, weeks=1))
    assert (alone.ticked_share, alone.verdict) == (Decimal("0.636"), "both")
    # with no own deals (6 ÷ 11 = 0.545 ticked), W49 alone manages; the two weeks, 6 ÷ 22,
    # tick too few
    Payment.objects.filter(lead__responsible=rop).delete()
    WeeklyReview.objects.filter(head=rop).update(own_deals=0)
    assert selectors.summarise(rop, selectors.history(rop, weeks=1)).verdict == "manages"
    assert selectors.summarise(rop, selectors.history(rop, weeks=2)).verdict == "little"


def test_no_reviews_at_all(rop, now):
    assert selectors.summarise(rop, selectors.history(rop)).verdict == "no_reviews"


def test_a_past_review_reads_in_a_few_queries(rop, now, django_assert_max_num_queries):
    past = W49.previous()
    services.review_save(member=rop, head=rop, week=past, marks=[mark("plan", True)])
    with django_assert_max_num_queries(2):  # the review (with its editor), its changes
        selectors.review_view(rop, past)


def test_the_current_week_reads_the_datas_figures_of_now(
    rop, plan, now, django_assert_max_num_queries
):
    # given the head saved the review before saving a plan
    services.review_save(member=rop, head=rop, week=W49, marks=[mark("train", True)])
    assert item(selectors.review_view(rop, W49), "plan").done is False
    version = PlanVersion.objects.create(plan=plan, number=2, inputs={}, created_by=rop.user)
    PlanVersion.objects.filter(pk=version.pk).update(
        created_at=datetime(2026, 12, 4, 8, tzinfo=UTC)
    )
    # then the current week shows the plan saved at once, in a handful of queries
    with django_assert_max_num_queries(9):
        view = selectors.review_view(rop, W49)
    assert (item(view, "plan").done, item(view, "train").done) == (True, True)


def test_the_current_week_not_stored_yet_shows_the_datas_suggestions(
    rop, plan, plan_saved_this_week, now
):
    # given the head's own deal this week and nothing stored for it
    lead = LeadFactory(funnel=plan.funnel, responsible=rop)
    PaymentFactory(lead=lead, paid_at=datetime(2026, 12, 2, 9, tzinfo=UTC), amount=Decimal(70000))
    rows = selectors.history(rop, weeks=2)
    # then the current week counts the plan saved and the deal; the past one nothing
    assert (rows[0].saved, rows[0].is_current, rows[0].ticks["plan"]) == (False, True, True)
    assert (rows[0].own_deals, rows[0].own_revenue) == (1, Decimal(70000))
    assert (rows[1].ticked_count, rows[1].own_deals) == (0, 0)
    assert not WeeklyReview.objects.exists()

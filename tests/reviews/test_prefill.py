"""The prefill from a hand-made week: plan versions the head saved, notifications read, slips
to control and the head's own deals, counted in the organization's local week."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.utils import translation

from metrics.models import DisciplineDay, Slip
from salesplan.models import Notification, NotificationKind, PlanVersion, Role
from salesplan.reviews import prefill
from salesplan.reviews.selectors import evidence_text, review_view
from salesplan.reviews.weeks import parse_week
from tests.factories import LeadFactory, MembershipFactory, PaymentFactory

pytestmark = pytest.mark.django_db

W49 = parse_week("2026-W49")  # Monday 30.11 – Sunday 06.12.2026


def saved_version(plan, user, at: datetime) -> PlanVersion:
    number = plan.versions.count() + 1
    version = PlanVersion.objects.create(plan=plan, number=number, inputs={}, created_by=user)
    PlanVersion.objects.filter(pk=version.pk).update(created_at=at)  # auto_now_add, moved
    return version


def own_payment(head, funnel, at: datetime, amount: str, **kwargs):
    lead = LeadFactory(funnel=funnel, responsible=head)
    return PaymentFactory(lead=lead, paid_at=at, amount=Decimal(amount), **kwargs)


def test_plan_versions_saved_by_the_head_this_week(org, rop, boss, plan):
    # given the head saved the plan on Tuesday 01.12 twice and on Sunday 06.12 at 23:30
    # Moscow (20:30 UTC); once more on Monday 07.12 at 00:30 Moscow (Sunday 21:30 UTC); and
    # the owner saved it on Wednesday
    saved_version(plan, rop.user, datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    saved_version(plan, rop.user, datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    saved_version(plan, rop.user, datetime(2026, 12, 6, 20, 30, tzinfo=UTC))
    saved_version(plan, rop.user, datetime(2026, 12, 6, 21, 30, tzinfo=UTC))
    saved_version(plan, boss.user, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    # when the week is prefilled
    item = prefill.compute(rop, W49).items["plan"]
    # then three of the head's own count, on the local days 01.12 and 06.12
    assert item["suggested"] is True
    assert item["evidence"] == {
        "code": "plan_versions",
        "count": 3,
        "days": ["2026-12-01", "2026-12-06"],
    }
    with translation.override("en"):
        assert evidence_text(item["evidence"], "RUB") == "3 plan versions saved on 01.12, 06.12"
    # and the next week has the Monday one
    assert prefill.compute(rop, W49.next()).items["plan"]["evidence"]["count"] == 1


def test_no_plan_saved_suggests_nothing(org, rop, plan):
    item = prefill.compute(rop, W49).items["plan"]
    assert item["suggested"] is None
    assert item["evidence"]["code"] == "no_plan_versions"


def test_the_heads_own_deals_this_week(org, rop, seller, plan, now):
    # given two deals the head holds this week (one's bonus passed to the salesperson), one
    # the salesperson holds, and one of the head's on Monday 07.12 00:30 Moscow
    own_payment(rop, plan.funnel, datetime(2026, 12, 2, 10, tzinfo=UTC), "120000")
    own_payment(
        rop,
        plan.funnel,
        datetime(2026, 12, 6, 20, 30, tzinfo=UTC),
        "30000.50",
        credited_member=seller,
    )
    own_payment(seller, plan.funnel, datetime(2026, 12, 3, 10, tzinfo=UTC), "999")
    own_payment(rop, plan.funnel, datetime(2026, 12, 6, 21, 30, tzinfo=UTC), "5")
    # when the week is prefilled
    computed = prefill.compute(rop, W49)
    # then the head sold a little: 2 deals, 150 000,50 ₽
    item = computed.items["sell"]
    assert (item["suggested"], item["warning"]) == (True, False)
    assert (computed.own_deals, computed.own_revenue) == (2, Decimal("150000.50"))
    with translation.override("en"):
        assert evidence_text(item["evidence"], "RUB") == "2 own deals, ₽150,000.50"


def test_too_many_own_deals_is_a_warning(org, rop, plan):
    # given four deals of the head's this week (more than OWN_DEALS_WARNING = 3)
    for day in (1, 2, 3, 4):
        own_payment(rop, plan.funnel, datetime(2026, 12, day, 10, tzinfo=UTC), "10000")
    item = prefill.compute(rop, W49).items["sell"]
    assert item["warning"] is True
    assert item["evidence"]["code"] == "too_many_own_deals"
    with translation.override("en"):
        text = evidence_text(item["evidence"], "RUB")
    assert text == "4 own deals, ₽40,000: more than 3 a week is selling instead of managing"


def test_notifications_read_this_week_track_the_metrics(org, rop, plan, now):
    # given two notices the head read this week, one read last week and one still unread
    def notice(key: str, read_at: datetime | None) -> None:
        Notification.objects.create(
            organization=org,
            recipient=rop,
            kind=NotificationKind.SLIP_OPENED,
            dedupe_key=key,
            read_at=read_at,
        )

    notice("a", datetime(2026, 12, 1, 8, tzinfo=UTC))
    notice("b", datetime(2026, 12, 3, 8, tzinfo=UTC))
    notice("c", datetime(2026, 11, 25, 8, tzinfo=UTC))
    notice("d", None)
    item = prefill.compute(rop, W49).items["track_metrics"]
    assert item["suggested"] is True
    assert (item["evidence"]["count"], item["evidence"]["unread"]) == (2, 1)


def test_open_slips_and_overdue_tasks_are_a_hint_for_control_never_a_tick(org, rop, seller, plan):
    # given a slip of the head's plan open since 01.12 and one closed before the week; the
    # discipline job's counts of the team's overdue tasks on Thursday 03.12 and Friday 04.12
    # (the latest), and another team's salesperson's on Friday
    metric = plan.metrics.get(key="revenue")
    common = {"plan": plan, "metric": metric, "gap": Decimal(-1), "updated_on": date(2026, 12, 3)}
    Slip.objects.create(owner=rop, since=date(2026, 12, 1), **common)
    Slip.objects.create(
        owner=None, since=date(2026, 11, 10), closed_on=date(2026, 11, 20), **common
    )
    other = MembershipFactory(organization=org, role=Role.SALESPERSON)
    for member, day, overdue in [(seller, 3, 9), (seller, 4, 7), (rop, 4, 1), (other, 4, 50)]:
        DisciplineDay.objects.create(
            organization=org,
            member=member,
            day=date(2026, 12, day),
            overdue_tasks=overdue,
            computed_at=datetime(2026, 12, day, 20, tzinfo=UTC),
        )
    rop.team = seller.team
    rop.save(update_fields=["team"])
    item = prefill.compute(rop, W49).items["control"]
    # then: a hint (never a tick) of 1 slip and 7 + 1 overdue tasks on Friday
    assert item["suggested"] is None
    assert item["evidence"] == {
        "code": "to_control",
        "slips": 1,
        "overdue": 8,
        "day": "2026-12-04",
    }
    with translation.override("en"):
        assert evidence_text(item["evidence"], "RUB") == (
            "1 slip open in your plans; 8 overdue tasks in your team on 04.12: a hint of what "
            "to control, not a sign that you did"
        )


def test_nothing_to_control(org, rop, plan):
    item = prefill.compute(rop, W49).items["control"]
    assert (item["suggested"], item["evidence"]) == (None, {"code": "nothing_to_control"})


def test_a_week_nobody_reviewed_is_shown_prefilled_without_storing_it(org, rop, plan, now):
    saved_version(plan, rop.user, datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    view = review_view(rop, W49)
    assert view.saved is False
    plan_item = next(item for item in view.items if item.key == "plan")
    assert (plan_item.done, plan_item.source, plan_item.marked) == (True, "data", None)
    assert [item.key for item in view.items][:3] == ["track_metrics", "plan", "organise"]
    assert len(view.items) == 11
    assert not rop.weekly_reviews.exists()


def test_prefill_reads_a_handful_of_queries(org, rop, plan, django_assert_max_num_queries):
    # plan versions, notifications read and unread, led teams, slips, discipline, payments
    with django_assert_max_num_queries(7):
        prefill.compute(rop, W49)

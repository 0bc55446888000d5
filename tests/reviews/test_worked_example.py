"""The README's worked example of the weekly review, checked: Anna's week 2026-W49 and an
owner's verdict over eight weeks."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.utils import translation

from metrics.models import DisciplineDay, Slip
from salesplan.models import Notification, NotificationKind, PlanVersion
from salesplan.reviews import selectors, services
from salesplan.reviews.checklist import FUNCTION_KEYS
from salesplan.reviews.selectors import WeekRow
from salesplan.reviews.weeks import parse_week
from tests.factories import LeadFactory, PaymentFactory

pytestmark = pytest.mark.django_db

W49 = parse_week("2026-W49")


def test_annas_week(org, rop, seller, plan, now):
    # given: the plan saved twice on Tuesday 01.12, 3 slip notices read, 4 own deals for
    # 200 000 ₽, 2 slips open in her team's plan, 8 overdue tasks in her team on Friday 04.12
    for hour in (7, 12):
        version = PlanVersion.objects.create(
            plan=plan, number=plan.versions.count() + 1, inputs={}, created_by=rop.user
        )
        PlanVersion.objects.filter(pk=version.pk).update(
            created_at=datetime(2026, 12, 1, hour, tzinfo=UTC)
        )
    for key in ("a", "b", "c"):
        Notification.objects.create(
            organization=org,
            recipient=rop,
            kind=NotificationKind.SLIP_OPENED,
            dedupe_key=key,
            read_at=datetime(2026, 12, 2, 8, tzinfo=UTC),
        )
    for day in (1, 2, 3, 4):
        lead = LeadFactory(funnel=plan.funnel, responsible=rop)
        PaymentFactory(lead=lead, paid_at=datetime(2026, 12, day, 9, tzinfo=UTC))
    for key in ("revenue", "leads"):
        Slip.objects.create(
            plan=plan,
            metric=plan.metrics.get(key=key),
            owner=rop,
            since=date(2026, 12, 2),
            gap=Decimal(-1),
            updated_on=date(2026, 12, 4),
        )
    DisciplineDay.objects.create(
        organization=org,
        member=seller,
        day=date(2026, 12, 4),
        overdue_tasks=8,
        computed_at=datetime(2026, 12, 4, 8, tzinfo=UTC),
    )
    # when she opens her week
    with translation.override("en"):
        view = selectors.review_view(rop, W49)
    evidence = {item.key: item.evidence for item in view.items}
    ticked = [item.key for item in view.items if item.done]
    # then
    assert ticked == ["track_metrics", "plan", "sell"]
    assert evidence["plan"] == "2 plan versions saved on 01.12"
    assert evidence["track_metrics"] == "3 notifications about slips read in the inbox"
    assert evidence["sell"] == (
        "4 own deals, ₽200,000: more than 3 a week is selling instead of managing"
    )
    assert evidence["control"] == (
        "2 slips open in your plans; 8 overdue tasks in your team on 04.12: a hint of what to "
        "control, not a sign that you did"
    )
    # when she ticks four more and saves
    marks = [
        services.Mark("train", True, "разобрали звонки Ивана"),
        services.Mark("organise", True),
        services.Mark("control", True),
        services.Mark("motivate", True),
    ]
    review = services.review_save(member=rop, head=rop, week=W49, marks=marks)
    # then 7 of 11, version 1, one line in the history
    view = selectors.review_view(rop, W49)
    assert (view.ticked_count, len(view.items)) == (7, 11)
    assert review.version == 1
    assert review.changes.count() == 1


def test_the_owners_verdict_over_eight_weeks(rop):
    # given eight reviewed weeks with 50 ticks in all and 30 own deals
    per_week = [7, 7, 6, 6, 6, 6, 6, 6]
    rows = [
        WeekRow(
            week=W49,
            saved=True,
            ticks={key: index < ticks for index, key in enumerate(FUNCTION_KEYS)},
            own_deals=deals,
            own_revenue=Decimal(0),
        )
        for ticks, deals in zip(per_week, [4, 4, 4, 4, 4, 4, 3, 3], strict=True)
    ]
    summary = selectors.summarise(rop, rows)
    # then 50 ÷ 88 = 0.568, 30 > 3 × 8 = 24: manages, but sells a lot too
    assert (summary.ticked_share, summary.own_deals) == (Decimal("0.568"), 30)
    assert summary.verdict == "both"

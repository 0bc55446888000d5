"""The jobs that keep the prefill current: after a plan vs fact recompute (debounced per
organization) and nightly for every organization."""

from datetime import UTC, date, datetime

import pytest
from django.core.cache import cache

from salesplan.reviews import tasks
from salesplan.reviews.models import WeeklyReview
from salesplan.reviews.receivers import prefill_follows_the_figures
from salesplan.reviews.tasks import refresh_all
from salesplan.signals import performance_refreshed

pytestmark = pytest.mark.django_db


def test_a_recompute_refreshes_the_current_week_once_in_a_while(
    org, rop, plan, now, django_capture_on_commit_callbacks, monkeypatch
):
    cache.delete(f"reviews:prefill:{org.pk}")
    runs = []
    real = tasks.organization_refresh
    monkeypatch.setattr(
        tasks, "organization_refresh", lambda **kwargs: runs.append(kwargs) or real(**kwargs)
    )
    # given the receiver listens to the recompute (called directly below, so the other
    # apps' receivers of the same signal play no part here)
    sync_receivers, _async = performance_refreshed._live_receivers(None)
    assert prefill_follows_the_figures in sync_receivers
    # when the plan's figures are recomputed twice in a row
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            prefill_follows_the_figures(
                sender=None, plan=plan, since=date(2026, 12, 1), last=date(2026, 12, 4)
            )
    # then the head's current week is prefilled, by one job (the second was debounced)
    assert len(runs) == 1
    review = WeeklyReview.objects.get(head=rop)
    assert review.week_start == date(2026, 11, 30)
    assert review.prefilled_at == now.moment
    cache.delete(f"reviews:prefill:{org.pk}")


def test_the_nightly_run_prefills_this_week_and_yesterdays(
    org, rop, now, django_capture_on_commit_callbacks
):
    # given it is Monday 7 December, 06:15 in Moscow
    now.set(datetime(2026, 12, 7, 3, 15, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True):
        assert refresh_all() >= 1
    # then the new week and the one that ended on Sunday are prefilled
    weeks = set(WeeklyReview.objects.filter(head=rop).values_list("week_start", flat=True))
    assert weeks == {date(2026, 12, 7), date(2026, 11, 30)}

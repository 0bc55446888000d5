"""The support admin shows weekly reviews and their history, read-only."""

import pytest
from django.urls import reverse

from salesplan.reviews import services
from salesplan.reviews.models import WeeklyReview
from salesplan.reviews.weeks import parse_week

pytestmark = pytest.mark.django_db


def test_a_review_and_its_changes_open_read_only(admin_client, rop, now):
    services.review_save(
        member=rop, head=rop, week=parse_week("2026-W49"), marks=[services.Mark("train", True, "x")]
    )
    r = WeeklyReview.objects.get()
    assert admin_client.get(reverse("admin:reviews_weeklyreview_changelist")).status_code == 200
    assert (
        admin_client.get(reverse("admin:reviews_weeklyreview_change", args=[r.pk])).status_code
        == 200
    )
    assert admin_client.get(reverse("admin:reviews_weeklyreview_add")).status_code == 403

"""The weekly review page: the head ticks their week with notes; the owner sees every head's
summary and their grids, read only; others are refused; another organization's head is not
found."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from salesplan.models import Role
from salesplan.reviews.checklist import FUNCTION_KEYS
from salesplan.reviews.models import WeeklyReview
from salesplan.reviews.weeks import parse_week
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("weekly_review")
W49 = parse_week("2026-W49")


def test_the_head_ticks_their_week_on_the_page(client_for, rop, now):
    client = client_for(rop)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert all(f'data-key="{key}"' in html for key in FUNCTION_KEYS)
    assert 'name="done_plan"' in html and "2026-W49" in html
    # when they tick "train" and "motivate" with a note and save
    response = client.post(
        f"{PAGE}?week=2026-W49",
        {
            "version": "0",
            "done_train": "on",
            "note_train": "Разобрали три звонка",
            "done_motivate": "on",
        },
    )
    assert response.status_code == 302
    review = WeeklyReview.objects.get(head=rop, week_start=W49.start)
    # then every function is the person's now: two ticked, the rest unticked
    assert review.marks["train"] == {"done": True, "note": "Разобрали три звонка"}
    assert review.marks["motivate"]["done"] is True
    assert review.marks["plan"] == {"done": False, "note": ""}
    assert review.version == 1
    after = client.get(response["Location"]).content.decode()
    assert "Разобрали три звонка" in after
    assert 'data-week="2026-W49"' in after  # the grid


def test_a_note_too_long_is_refused_on_the_page(client_for, rop, now):
    response = client_for(rop).post(PAGE, {"done_train": "on", "note_train": "x" * 1001})
    assert response.status_code == 400
    assert not WeeklyReview.objects.filter(head=rop).exists()


def test_a_stale_form_does_not_save_over_a_newer_one(client_for, rop, now):
    client = client_for(rop)
    client.post(PAGE, {"version": "0", "done_train": "on"})
    response = client.post(PAGE, {"version": "0"}, follow=True)
    assert response.status_code == 200
    assert WeeklyReview.objects.get(head=rop).marks["train"]["done"] is True


def test_the_owner_sees_every_head_read_only(client_for, boss, rop, now):
    client = client_for(boss)
    summary = client.get(PAGE)
    assert summary.status_code == 200
    assert f'data-head="{rop.pk}"' in summary.content.decode()
    review = client.get(f"{PAGE}?head={rop.pk}&week=2026-W48")
    assert review.status_code == 200
    html = review.content.decode()
    assert 'name="note_plan"' not in html and "disabled" in html
    assert client.post(f"{PAGE}?head={rop.pk}", {"done_plan": "on"}).status_code == 403


def test_others_get_403_and_another_organizations_head_404(client, org, rop, seller, now):
    other_head = MembershipFactory(organization=org, role=Role.HEAD_OF_SALES)
    viewer = MembershipFactory(organization=org, role=Role.VIEWER)
    rival = MembershipFactory(organization=OrganizationFactory(), role=Role.OWNER)
    for member, url, status in [
        (seller, PAGE, 403),
        (viewer, PAGE, 403),
        (other_head, f"{PAGE}?head={rop.pk}", 403),
        (rival, f"{PAGE}?head={rop.pk}", 404),
        (rop, f"{PAGE}?week=2026-W99", 400),
    ]:
        client.force_login(member.user)
        assert client.get(url).status_code == status, (member.role, url)


def test_the_owners_page_costs_a_few_queries_a_head(
    client_for, org, boss, rop, now, django_assert_max_num_queries
):
    # given the owner's page with one head of sales, measured
    client = client_for(boss)
    client.get(PAGE)
    with CaptureQueriesContext(connection) as one:
        client.get(PAGE)
    # when two more heads join
    for _ in range(2):
        MembershipFactory(organization=org, role=Role.HEAD_OF_SALES)
    # then each costs at most 8 more (their stored weeks, and the current week's prefill)
    with django_assert_max_num_queries(len(one) + 2 * 8):
        assert client.get(PAGE).status_code == 200

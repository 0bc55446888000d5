"""The weekly review in a real browser: the head of sales finds the plan they saved ticked
from the data, ticks a function with a note and saves; the week's grid shows it."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings

from salesplan.models import PlanVersion
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base_url: str, email: str) -> None:
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base_url}]
    )
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_the_head_ticks_their_week(page, live_server, rop, plan, now):
    # given the head saved the plan on Tuesday
    version = PlanVersion.objects.create(plan=plan, number=2, inputs={}, created_by=rop.user)
    PlanVersion.objects.filter(pk=version.pk).update(
        created_at=datetime(2026, 12, 1, 7, tzinfo=UTC)
    )
    sign_in(page, live_server.url, rop.user.email)
    page.goto(f"{live_server.url}/reviews/weekly/")
    # then "plan the week" is ticked from the data, with its evidence
    assert page.is_checked("#done_plan")
    assert "1 plan version saved on 01.12" in page.inner_text("tr[data-key=plan]")
    # when they tick "train the team" with a note and save
    page.check("#done_train")
    page.fill("textarea[name=note_train]", "Role-played objections")
    with page.expect_navigation():
        page.click("#weekly-review button[type=submit]")
    # then the week's row of the grid has both, and the note is kept
    row = page.locator("tr[data-week='2026-W49'] td.ok")
    assert row.count() == 2
    assert page.input_value("textarea[name=note_train]") == "Role-played objections"
    assert "The weekly review is saved." in page.content()
    folder = Path(settings.VAR_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "weekly_review_head.png"), full_page=True)

"""Real Chromium against the live server: sign in, switch language, see the dashboard."""

import pytest

from salesplan.models import Role
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_and_switch_language(page, live_server, make_member):
    member = make_member(Role.VIEWER)
    page.goto(f"{live_server.url}/")
    # Redirected to the sign-in page, in Russian by default.
    assert "/login/" in page.url
    page.fill("input[name=username]", member.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("text=Выйти").count() == 1
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("text=Sign out").count() == 1
    assert page.locator("h1").inner_text() == member.organization.name


def test_layout_fits_a_phone(page, live_server, make_member):
    member = make_member(Role.VIEWER)
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", member.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0

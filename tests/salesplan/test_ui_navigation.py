"""The menu per role (salesplan/navigation.py): the daily pages first, the set-up pages in
"More", the inbox with its unread counter, pages not built yet left out."""

import pytest
from django.urls import NoReverseMatch

from salesplan import navigation
from salesplan.models import Role
from salesplan.navigation import nav_for, nav_groups

pytestmark = pytest.mark.django_db


def _urls(items):
    return [item["url"] for item in items]


def test_an_owner_sees_the_overview_and_the_set_up_pages_in_more(make_member):
    # given an owner on the plans page
    items = nav_for(make_member(Role.OWNER), "/plans/")
    menu = nav_groups(items)
    # then the home is first, the daily pages follow, the set-up pages are in "More"
    assert _urls(menu["main"]) == [
        "/",
        "/overview/",
        "/dashboard/",
        "/marketing/",
        "/plans/",
        "/inbox/",
        "/kpi/",
    ]
    assert _urls(menu["more"]) == [
        "/reviews/weekly/",
        "/client-base/",
        "/discipline/",
        "/kpi/schemes/",
        "/funnels/",
        "/imports/",
        "/people/",
        "/api/docs/",
        "/settings/",
    ]
    assert [item["url"] for item in items if item["active"]] == ["/plans/"]
    assert not menu["more_active"]
    # and only the inbox carries the unread counter
    assert [item["badge_url"] for item in items if item["badge_url"]] == ["/inbox/badge/"]


def test_a_salesperson_gets_today_and_no_analyst_pages(make_member):
    items = nav_for(make_member(Role.SALESPERSON), "/settings/")
    urls = _urls(items)
    assert urls[0] == "/" and "/today/" in urls
    assert not {"/overview/", "/dashboard/", "/marketing/", "/imports/", "/people/"} & set(urls)
    assert nav_groups(items)["more_active"]  # the settings page is in "More"


@pytest.mark.parametrize("role", [Role.HEAD_OF_SALES, Role.MARKETER])
def test_heads_of_sales_and_marketers_get_the_funnel_and_marketing(make_member, role):
    urls = _urls(nav_for(make_member(role), "/"))
    assert "/dashboard/" in urls and "/marketing/" in urls and "/overview/" not in urls


def test_a_page_not_built_yet_is_left_out(make_member, monkeypatch):
    # given a menu item whose URL does not exist yet
    def reverse(name):
        if name == "marketing":
            raise NoReverseMatch(name)
        return {"home": "/"}.get(name, f"/{name}/")

    monkeypatch.setattr(navigation, "reverse", reverse)
    urls = _urls(nav_for(make_member(Role.MARKETER), "/"))
    assert "/marketing/" not in urls and urls[0] == "/"


def test_nobody_signed_in_gets_no_menu():
    assert nav_for(None, "/") == []

"""The morning pages' cache (salesplan.figures): a second read of an unchanged page is served
without rebuilding it; a recompute, the marketing job or any write of a member rebuilds it on
the next read; a page is never served to another member, another browser's CSRF cookie, or
with a message waiting; another organization's writes leave the cache alone.

The figures are the worked example of tests/salesplan/plan_vs_fact.py (the December team, 15
December: eleven deals of 50 000 ₽ paid by Anna and Boris)."""

from unittest import mock

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.fallback import FallbackStorage
from django.db import connection
from django.middleware.csrf import _does_token_match
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from salesplan.figures import figures_changed, page_key
from salesplan.models import Organization, Role
from salesplan.plans.performance import plan_performance_refresh
from tests.factories import MembershipFactory, OrganizationFactory
from tests.salesplan.plan_vs_fact import DAY, _no_queued_marks, load, plan, team, won  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cache_on(settings):
    settings.PAGE_CACHE_SECONDS = 600


@pytest.fixture
def computed(organization, funnel, plan, team):  # noqa: F811
    anna, boris = (team[k].user.email for k in ("anna", "boris"))
    rows = [won(n, anna, 1 + n) for n in range(1, 8)]
    rows += [won(10 + n, boris, 2 + 2 * n) for n in range(1, 5)]
    load(organization, funnel, rows, announce=False)
    assert plan_performance_refresh(plan_id=plan.pk, today=DAY) > 0
    return plan


def _signed_in(membership) -> Client:
    """A browser of its own: signed in, holding its CSRF cookie (a first page sets it)."""
    browser = Client()
    browser.force_login(membership.user)
    browser.get("/login/")
    return browser


def _get(browser: Client, path: str):
    with (
        mock.patch("django.utils.timezone.localdate", return_value=DAY),
        CaptureQueriesContext(connection) as queries,
    ):
        response = browser.get(path, HTTP_ACCEPT_LANGUAGE="en")
    return response, len(queries.captured_queries)


def _digits(response) -> str:
    """The page's text with its figures' group separators taken out."""
    text = response.content.decode()
    for separator in ("\xa0", "\u202f", ",", " "):
        text = text.replace(separator, "")
    return text


def _version(organization) -> int:
    return Organization.objects.get(pk=organization.pk).figures_version


def test_an_unchanged_page_is_served_without_building_it_again(computed, owner):
    browser = _signed_in(owner)
    first, built = _get(browser, "/overview/")
    again, served = _get(browser, "/overview/")
    assert first.status_code == again.status_code == 200
    # the same page, read with the session and the membership only
    assert again.content == first.content
    assert served < built and served <= 3
    assert again["Content-Type"] == first["Content-Type"]


def test_a_recompute_rebuilds_the_page_with_the_new_figures(computed, organization, funnel, owner):
    browser = _signed_in(owner)
    before, _ = _get(browser, "/overview/")
    assert "550000" in _digits(before)
    version = _version(organization)
    # when one more deal of 50 000 ₽ is paid and the plan recomputed
    load(organization, funnel, [won(30, owner.user.email, 14)], announce=False)
    plan_performance_refresh(plan_id=computed.pk, today=DAY, full=True)
    # then the version moved on, and the next read shows 600 000 ₽
    assert _version(organization) == version + 1
    after, _ = _get(browser, "/overview/")
    assert "600000" in _digits(after) and "550000" not in _digits(after)


def test_a_members_write_rebuilds_their_organizations_pages(computed, organization, owner):
    other = OrganizationFactory(name="Other")
    MembershipFactory(organization=other, role=Role.OWNER)
    browser = _signed_in(owner)
    _get(browser, f"/plans/{computed.pk}/pie/")
    mine, theirs = _version(organization), _version(other)
    # when the owner posts anything (here: the language switch, a form of every page)
    response = browser.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    assert response.status_code == 302
    # then their organization's pages are rebuilt on the next read, the other's are not
    assert (_version(organization), _version(other)) == (mine + 1, theirs)


def test_a_write_through_the_api_with_a_token_rebuilds_the_pages(
    computed, organization, owner, api_for
):
    version = _version(organization)
    # a token's user is known only once DRF authenticates it, inside the view
    response = api_for(owner).post("/api/v1/inbox/read-all/")
    assert response.status_code == 200
    assert _version(organization) == version + 1


def test_the_performance_api_reads_its_answer_once_per_version(computed, organization, owner):
    api = Client()
    api.force_login(owner.user)
    path = f"/api/v1/plans/{computed.pk}/performance/?date={DAY.isoformat()}"
    first, built = _get(api, path)
    again, served = _get(api, path)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and served < built
    revenue = next(r for r in first.json()["metrics"] if r["key"] == "revenue" and not r["owner"])
    # a recompute with one more deal: the answer follows at once
    load(organization, funnel := computed.funnel, [won(30, owner.user.email, 14)], announce=False)
    assert funnel is not None
    plan_performance_refresh(plan_id=computed.pk, today=DAY, full=True)
    after, _ = _get(api, path)
    moved = next(r for r in after.json()["metrics"] if r["key"] == "revenue" and not r["owner"])
    assert float(moved["actual_to_date"]) == float(revenue["actual_to_date"]) + 50000


def test_a_page_is_never_served_to_another_member(computed, team):  # noqa: F811
    anna, boris = team["anna"], team["boris"]
    for_anna, _ = _get(_signed_in(anna), "/today/")
    for_boris, built = _get(_signed_in(boris), "/today/")
    assert for_anna.status_code == for_boris.status_code == 200
    assert for_boris.content != for_anna.content
    assert built > 3  # built for Boris, not read from Anna's


def test_another_browser_of_the_same_person_gets_its_own_csrf_token(computed, owner):
    first, second = _signed_in(owner), _signed_in(owner)
    _get(first, "/overview/")
    page, _ = _get(second, "/overview/")
    token = page.content.decode().split('"X-CSRFToken": "', 1)[1].split('"', 1)[0]
    cookie = second.cookies["csrftoken"].value
    assert _does_token_match(token, cookie)
    assert not _does_token_match(token, first.cookies["csrftoken"].value)


def test_a_page_with_a_message_waiting_is_not_cached(owner):
    request = RequestFactory().get("/overview/")
    request.COOKIES["csrftoken"] = "x" * 32
    request.session = {}
    assert page_key(request, owner) is not None
    request._messages = FallbackStorage(request)
    request._messages.add(constants.SUCCESS, "Saved")
    assert page_key(request, owner) is None


def test_a_browser_without_its_csrf_cookie_yet_is_not_cached(owner):
    request = RequestFactory().get("/overview/")
    assert page_key(request, owner) is None


def test_the_marketing_job_moves_the_version(computed, organization):
    from salesplan.dashboards.tasks import refresh_marketing

    version = _version(organization)
    refresh_marketing(computed.pk, DAY.replace(day=1).isoformat(), DAY.isoformat())
    assert _version(organization) == version + 1


def test_figures_changed_moves_only_the_organizations_named(organization):
    other = OrganizationFactory(name="Other")
    figures_changed(organization.pk)
    assert (_version(organization), _version(other)) == (1, 0)

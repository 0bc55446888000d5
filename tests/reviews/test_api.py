"""The weekly review over the API: reading and ticking, who may, and bad input as a 400 that
names the field."""

import pytest

from salesplan.models import Role
from salesplan.reviews.checklist import FUNCTION_KEYS
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/weekly-reviews/"


def test_the_head_reads_their_current_week(api_for, rop, now):
    response = api_for(rop).get(URL)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["week"], body["week_start"], body["week_end"]) == (
        "2026-W49",
        "2026-11-30",
        "2026-12-06",
    )
    assert (body["head"], body["saved"], body["version"], body["is_current"]) == (
        rop.pk,
        False,
        0,
        True,
    )
    assert [item["key"] for item in body["items"]] == list(FUNCTION_KEYS)
    assert body["total"] == 11


def test_the_head_ticks_and_the_history_shows_who_and_when(api_for, rop, now):
    client = api_for(rop)
    response = client.put(
        f"{URL}?week=2026-W49",
        {
            "version": 0,
            "items": [
                {"key": "train", "done": True, "note": "Отработали возражения"},
                {"key": "sell", "done": False},
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["saved"], body["version"], body["ticked"]) == (True, 1, 1)
    train = next(item for item in body["items"] if item["key"] == "train")
    assert (train["done"], train["marked"], train["note"], train["source"]) == (
        True,
        True,
        "Отработали возражения",
        "person",
    )
    assert body["changes"][0]["number"] == 1
    assert body["changes"][0]["changed_by"] == rop.pk
    assert body["changes"][0]["items"][0] == {
        "key": "train",
        "done": [None, True],
        "note": ["", "Отработали возражения"],
    }
    # a save based on version 0 again is refused, with the current version
    stale = client.put(
        URL, {"version": 0, "items": [{"key": "train", "done": False}]}, format="json"
    )
    assert stale.status_code == 409
    assert stale.json()["version"] == 1
    # the history lists the weeks newest first
    history = client.get(f"{URL}history/?weeks=2").json()
    assert [week["week"] for week in history["weeks"]] == ["2026-W49", "2026-W48"]
    assert history["weeks"][0]["items"]["train"] is True
    assert history["summary"]["reviewed_weeks"] == 1


def test_the_owner_reads_every_head_but_ticks_none(api_for, boss, rop, now):
    client = api_for(boss)
    missing = client.get(URL)
    assert missing.status_code == 400
    assert "head" in missing.json()
    assert client.get(f"{URL}?head={rop.pk}").status_code == 200
    assert client.get(f"{URL}history/?head={rop.pk}").status_code == 200
    refused = client.put(
        f"{URL}?head={rop.pk}", {"items": [{"key": "plan", "done": True}]}, format="json"
    )
    assert refused.status_code == 403
    summary = client.get(f"{URL}summary/")
    assert summary.status_code == 200
    assert [row["head"] for row in summary.json()] == [rop.pk]
    assert summary.json()[0]["verdict"] == "no_reviews"


def test_others_are_refused_and_another_organization_is_not_found(api_for, org, rop, seller):
    other_head = MembershipFactory(organization=org, role=Role.HEAD_OF_SALES)
    rival = MembershipFactory(organization=OrganizationFactory(), role=Role.OWNER)
    assert api_for(seller).get(URL).status_code == 403
    assert api_for(seller).get(f"{URL}summary/").status_code == 403
    assert api_for(other_head).get(f"{URL}?head={rop.pk}").status_code == 403
    assert api_for(rival).get(f"{URL}?head={rop.pk}").status_code == 404
    assert api_for(rival).get(f"{URL}history/?head={rop.pk}").status_code == 404
    # a member who is no head of sales is no head to ask for
    assert api_for(rop).get(f"{URL}?head={seller.pk}").status_code == 404
    assert api_for(rop).get(f"{URL}?head=99999999999999999999").status_code == 404


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("get", f"{URL}?week=2026-49", None, "week"),
        ("get", f"{URL}?week=2026-W54", None, "week"),
        ("get", f"{URL}history/?weeks=0", None, "weeks"),
        ("get", f"{URL}history/?weeks=54", None, "weeks"),
        ("get", f"{URL}history/?until=soon", None, "until"),
        ("put", f"{URL}?week=2027-W10", {"items": [{"key": "plan", "done": True}]}, "week"),
        ("put", URL, {"items": [{"key": "dance", "done": True}]}, "items[0].key"),
        ("put", URL, {"items": [{"key": "plan", "done": "maybe"}]}, "items[0].done"),
        ("put", URL, {"items": "plan"}, "items"),
        ("put", URL, {"version": "x", "items": []}, "version"),
        ("put", URL, ["plan"], "items"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api_for, rop, now, method, url, body, field):
    response = getattr(api_for(rop), method)(url, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


def test_errors_are_in_the_callers_language(api_for, rop, now):
    response = api_for(rop).get(f"{URL}?week=2026-49", HTTP_ACCEPT_LANGUAGE="en")
    assert response.json() == {"week": ['Send the week as YYYY-Www, e.g. "2026-W49".']}

"""The what-if panel of a plan's page (README, "what-if"): conversion ± pp with a hint in the
chosen stage's own numbers, average check, revenue, cost per lead, adding or removing a
salesperson, and each salesperson's volumes now and with the levers pulled. Nothing is saved.

The plan is the worked example of DOMAIN section 1 (tests/worked_example.py) split 60 / 40
between Anna and Boris (tests/salesplan/plan_vs_fact.py); the numbers below are worked out by
hand from it."""

import csv
import html
import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from salesplan.models import Role, SalesPlan
from tests.salesplan.plan_vs_fact import _no_queued_marks  # noqa: F401

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


def _what_if(client, plan, data: dict, *, htmx: bool = True):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(f"/plans/{plan.pk}/what-if/", data, HTTP_ACCEPT_LANGUAGE="en", **headers)


def _text(response) -> str:
    page = response.content.decode()
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).replace(NBSP, " ")


@pytest.fixture
def head_client(client_for, team):
    return client_for(team["head"])


# --- the hint follows the stage ------------------------------------------------------------------


def test_the_hint_names_the_key_stage_by_default(head_client, plan):
    # when the head of sales opens the plan
    response = head_client.get(f"/plans/{plan.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    # then the hint under the conversion lever speaks of the key stage's 40 %
    hint = response.context["what_if_form"].conversion_hint()
    assert hint == "+5 pp turns 40% into 45% (Meeting held → Paid)."
    assert hint in _text(response)


def test_choosing_a_stage_fetches_its_hint(head_client, plan):
    # when the stage select changes to "Lead" (60 % to target leads): htmx asks for the hint
    response = _what_if(head_client, plan, {"stage": "Lead", "hint": "1"})
    # then only the hint comes back, in that stage's numbers, and nothing is computed
    content = response.content.decode()
    assert response.status_code == 200
    assert content.strip().startswith("<small") and 'id="what-if-hint"' in content
    assert _text(response).strip() == "+5 pp turns 60% into 65% (Lead → Target lead)."
    assert response.context.get("what_if") is None


def test_a_typed_change_shows_where_the_conversion_lands(head_client, plan):
    response = _what_if(
        head_client, plan, {"stage": "Target lead", "conversion_pp": "-5", "hint": "1"}
    )
    assert _text(response).strip() == "Target lead → Meeting scheduled: 25% becomes 20%."


def test_a_conversion_near_100_percent_takes_an_example_below(head_client, plan, funnel):
    # given the lead → target lead conversion at 97 %
    funnel.stages.filter(name="Lead").update(conversion="0.97")
    plan = SalesPlan.objects.get(pk=plan.pk)
    response = _what_if(head_client, plan, {"stage": "Lead", "hint": "1"})
    assert _text(response).strip() == "−5 pp turns 97% into 92% (Lead → Target lead)."


def test_without_javascript_the_hint_follows_the_submitted_stage(head_client, plan):
    # when the form is submitted the plain way with "Lead" chosen and +10 pp
    response = _what_if(head_client, plan, {"stage": "Lead", "conversion_pp": "10"}, htmx=False)
    # then the page comes back whole, the hint speaks of Lead, and the plan moved:
    # 252 target leads at 70 % → 360 leads (⌈252 / 0.7⌉)
    assert "<html" in response.content.decode()
    assert "Lead → Target lead: 60% becomes 70%." in _text(response)
    rows = {row["label"]: row for row in response.context["what_if"]["diff"]}
    assert (rows["Lead"]["before"], rows["Lead"]["after"], rows["Lead"]["delta"]) == (
        420,
        360,
        -60,
    )


# --- cost per lead -------------------------------------------------------------------------------


def test_cost_per_lead_moves_the_budget(head_client, plan):
    # when leads cost 600 ₽ instead of 500 ₽: 420 leads × 600 ₽ = 252 000 ₽
    response = _what_if(head_client, plan, {"cost_per_lead": "600"})
    rows = {row["label"]: row for row in response.context["what_if"]["diff"]}
    budget = rows["Marketing budget"]
    assert (budget["before"], budget["after"], budget["delta"]) == (210000, 252000, 42000)
    # and the deals do not move
    assert rows["Deals"]["delta"] == 0
    assert not SalesPlan.objects.filter(pk=plan.pk, version__gt=1).exists()


def test_the_cost_per_lead_field_says_what_it_is_now(head_client, plan):
    response = head_client.get(f"/plans/{plan.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Now ₽500. Empty: as planned." in _text(response)


def test_a_negative_cost_per_lead_is_refused_on_its_field(head_client, plan):
    response = _what_if(head_client, plan, {"cost_per_lead": "-1"})
    assert "cost_per_lead" in response.context["what_if_form"].errors
    assert response.context["what_if"] is None


# --- the team ------------------------------------------------------------------------------------


def _people(response) -> dict[str, dict]:
    return {row["name"]: row for row in response.context["what_if"]["people"]}


def _stage(row: dict, name: str) -> tuple:
    stage = next(stage for stage in row["stages"] if stage["name"] == name)
    return stage["before"], stage["after"], stage["delta"]


def test_removing_a_salesperson_gives_their_part_to_the_others(head_client, plan, team):
    # given Anna 60 % (252 leads, 12 deals) and Boris 40 % (168 leads, 8 deals)
    boris = team["boris"]
    # when Boris leaves the plan
    response = _what_if(head_client, plan, {"remove_members": [str(boris.pk)]})
    # then Anna carries the whole plan and Boris's row says he is gone
    people = _people(response)
    anna = people[team["anna"].display_name]
    gone = people[boris.display_name]
    assert (anna["share_before"], anna["share_after"]) == (Decimal("0.6"), 1)
    assert _stage(anna, "Lead") == (252, 420, 168)
    assert _stage(anna, "Paid") == (12, 20, 8)
    assert gone["status"] == "removed" and gone["share_after"] is None
    assert _stage(gone, "Paid") == (8, None, -8)
    # and the page shows the per-person table
    content = response.content.decode()
    assert f'data-person="{boris.pk}"' in content and 'class="removed changed"' in content
    assert "Each salesperson: now → what if" in _text(response)


def test_adding_a_salesperson_shows_each_persons_change(head_client, plan, team):
    # when one more salesperson joins: three equal shares of 420 leads = 140 each
    response = _what_if(head_client, plan, {"add_salesperson": "on"})
    people = _people(response)
    anna, boris = people[team["anna"].display_name], people[team["boris"].display_name]
    new = people["New salesperson"]
    assert _stage(anna, "Lead") == (252, 140, -112)
    assert _stage(boris, "Lead") == (168, 140, -28)
    assert _stage(new, "Lead") == (None, 140, 140)
    assert new["status"] == "added"
    # the parts still add up to the plan's 20 deals
    assert sum(_stage(row, "Paid")[1] for row in people.values()) == 20
    assert "New salesperson" in _text(response)


def test_removing_someone_not_in_the_plan_is_refused(head_client, plan, make_member):
    stranger = make_member(Role.SALESPERSON)
    response = _what_if(head_client, plan, {"remove_members": [str(stranger.pk)]})
    assert "remove_members" in response.context["what_if_form"].errors
    assert response.context["what_if"] is None


def test_a_what_if_is_for_those_who_may_plan(client_for, plan, team):
    response = client_for(team["anna"]).post(f"/plans/{plan.pk}/what-if/", {"hint": "1"})
    assert response.status_code == 403


def test_the_form_labels_every_lever(head_client, plan):
    # every input of the panel has a label (a checkbox inside its own)
    content = head_client.get(f"/plans/{plan.pk}/").content.decode()
    panel = content[content.index('id="what-if"') :]
    panel = panel[: panel.index("</form>")]
    for match in re.finditer(r'<(?:input|select)[^>]*\bid="([^"]+)"', panel):
        assert f'for="{match.group(1)}"' in panel, match.group(1)


# --- the what-if's tables download -----------------------------------------------------------


def _link(response, table: str, format_: str = "csv") -> str:
    """The result's download link of a table (as the page shows it)."""
    content = html.unescape(response.content.decode())
    match = re.search(rf'href="([^"]*export={format_}[^"]*table={table}(?:&[^"]*)?)"', content)
    assert match, f"no {format_} link of {table}"
    return match.group(1)


def test_the_what_if_tables_download_with_the_levers(head_client, plan, team):
    # given a what-if: leads at 600 ₽ and Boris off the plan
    boris = team["boris"]
    response = _what_if(
        head_client, plan, {"cost_per_lead": "600", "remove_members": [str(boris.pk)]}
    )
    # when its diff is downloaded through the link beside it
    link = _link(response, "what-if")
    assert "csrfmiddlewaretoken" not in link
    download = head_client.get(link, HTTP_ACCEPT_LANGUAGE="en")
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    # then it holds the same levers' outputs: 420 × 600 ₽
    assert rows[0] == ["Output", "Now", "What if", "Difference"]
    budget = next(row for row in rows if row[0] == "Marketing budget")
    assert [Decimal(value) for value in budget[1:]] == [210000, 252000, 42000]
    # and each person's table: Anna 12 → 20 deals, Boris 8 → none
    people = head_client.get(_link(response, "what-if-people", "xlsx"), HTTP_ACCEPT_LANGUAGE="en")
    sheet = load_workbook(io.BytesIO(people.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert [team["anna"].display_name, "Paid", 12, 20, 8] in values
    assert [boris.display_name, "Paid", 8, None, -8] in values
    assert not SalesPlan.objects.filter(pk=plan.pk, version__gt=1).exists()


def test_a_what_if_download_is_for_those_who_may_plan(client_for, plan, team):
    # a salesperson with a crafted address gets the plan's page, not a what-if
    response = client_for(team["anna"]).get(
        f"/plans/{plan.pk}/?cost_per_lead=600&export=csv&table=what-if"
    )
    assert response.status_code == 200
    assert "<html" in response.content.decode()

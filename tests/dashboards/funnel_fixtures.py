"""What the funnel dashboard's tests share: the December team and plan of the plan-vs-fact tests
(tests/salesplan/plan_vs_fact.py) with its deals loaded and its plan vs fact stored up to 15
December, "today" pinned to that day, and helpers to read a page."""

import html
import re

import pytest

from salesplan.dashboards import funnel_data
from salesplan.plans.performance import plan_performance_refresh
from tests.salesplan.plan_vs_fact import DAY, load, plan, team, won  # noqa: F401


@pytest.fixture(autouse=True)
def _today_is_15_december(monkeypatch):
    """The dashboard's "this month" and its cap on the days shown: 15 December 2026."""
    monkeypatch.setattr(funnel_data, "today_for", lambda organization: DAY)


@pytest.fixture
def actuals(organization, funnel, team):  # noqa: F811
    """By 15 December: Anna won 7 deals of 50,000 ₽ (2–8 December), Boris 4 (4, 6, 8 and 10
    December), the head of sales 1 (14 December)."""
    anna, boris, head = (team[k].user.email for k in ("anna", "boris", "head"))
    rows = [won(n, anna, 1 + n) for n in range(1, 8)]
    rows += [won(10 + n, boris, 2 + 2 * n) for n in range(1, 5)]
    rows += [won(20, head, 14)]
    load(organization, funnel, rows, announce=False)


@pytest.fixture
def computed(plan, actuals):  # noqa: F811
    """Plan vs fact stored up to 15 December, as the background job would. Whole: the rows
    were loaded unannounced, and in a transactional test the plan's save already stored its
    days (on_commit runs), which an incremental run would build on."""
    assert plan_performance_refresh(plan_id=plan.pk, today=DAY, full=True) > 0
    return plan


def text_of(page: str) -> str:
    """The page's text with the tags dropped and whitespace folded."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def block(page: str, element_id: str) -> str:
    """The HTML of the card with this id (up to the next card)."""
    match = re.search(rf'id="{element_id}"(.*?)(?=<div class="card"|\Z)', page, re.S)
    assert match, f"no #{element_id}"
    return match.group(1)


def lead_ids(page: str) -> list[str]:
    return re.findall(r'<tr data-lead="([^"]+)">', page)

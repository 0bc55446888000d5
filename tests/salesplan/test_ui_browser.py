"""The header, the menu and the charts in real Chromium (issue 12's layout defects): the
Russian menu fits one line at 1366 px; at 390 px the header is one slim bar with a "Menu"
button; the partial plotly.js bundle draws every trace the app uses, its toolbar in Russian."""

from pathlib import Path

import pytest

from salesplan.models import Role
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "static" / "vendor" / "plotly-4.1.1-salesplan.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots"
HEADER_MAX_PX = 64


def _sign_in(page, live_server, member) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", member.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def _header_height(page) -> float:
    return page.evaluate("document.querySelector('header.top').getBoundingClientRect().height")


def test_the_russian_menu_fits_one_line_at_1366(page, live_server, make_member):
    # given an owner, who sees the most items, on a 1366-px screen in Russian
    owner = make_member(Role.OWNER)
    page.set_viewport_size({"width": 1366, "height": 768})
    _sign_in(page, live_server, owner)
    page.goto(f"{live_server.url}/plans/")
    # then the header is one line: every visible menu item on the same row, nothing scrolls
    tops = page.evaluate(
        "[...document.querySelectorAll('header.top nav > a, header.top nav > details > summary')]"
        ".filter(e => e.offsetParent).map(e => Math.round(e.getBoundingClientRect().top))"
    )
    assert len(tops) >= 4 and len(set(tops)) == 1, tops
    assert _header_height(page) <= HEADER_MAX_PX
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    # and the set-up pages are one click away, in "More"
    assert not page.locator("header.top .more-panel a[href='/settings/']").is_visible()
    page.click("header.top .more > summary")
    assert page.locator("header.top .more-panel a[href='/settings/']").is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "ui-header-1366.png"))


def test_a_phone_gets_a_slim_header_and_a_menu_button(page, live_server, make_member):
    # given a head of sales on a 390-px phone
    head = make_member(Role.HEAD_OF_SALES)
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(page, live_server, head)
    # (with 3 unread notifications in the inbox)
    page.route(
        "**/inbox/badge/",
        lambda route: route.fulfill(body='<span class="badge">3</span>', content_type="text/html"),
    )
    page.goto(f"{live_server.url}/plans/")
    # then the header is one slim bar; the menu is behind a button, closed
    assert _header_height(page) <= HEADER_MAX_PX
    button = page.locator("header.top .menu > summary")
    assert button.is_visible()
    # and the unread counter shows on the button itself
    page.wait_for_function("document.getElementById('menu-badge').textContent.trim() === '3'")
    assert page.locator("#menu-badge").is_visible()
    plans = page.locator("header.top nav a[href='/plans/']")
    assert not plans.is_visible()
    assert page.evaluate("document.getElementById('menu').open") is False
    # when the button is pressed from the keyboard
    button.focus()
    page.keyboard.press("Enter")
    # then the menu opens over the page, every item reachable, the header stays slim
    assert plans.is_visible()
    assert page.locator("header.top nav a[href='/settings/']").is_visible()
    assert page.evaluate("document.getElementById('menu').open") is True
    assert _header_height(page) <= HEADER_MAX_PX
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "ui-menu-390.png"))
    # and Escape closes it
    page.keyboard.press("Escape")
    assert not plans.is_visible()


FIGURES = [
    [{"type": "bar", "x": ["a", "b"], "y": [10656000, 2]}],
    [{"type": "scatter", "x": [1, 2], "y": [1, 3]}],
    [{"type": "funnel", "y": ["Лид", "Сделка"], "x": [420, 20]}],
    [{"type": "waterfall", "x": ["a", "gap"], "y": [5, 0], "measure": ["relative", "total"]}],
    [{"type": "pie", "labels": ["a", "b"], "values": [1, 2]}],
    [{"type": "sunburst", "labels": ["root", "a"], "parents": ["", "root"], "values": [3, 1]}],
]
DRAW = """async (figures) => {
  const out = [];
  for (const data of figures) {
    const div = document.createElement('div');
    document.body.appendChild(div);
    await Plotly.newPlot(div, data, {separators: ',\\u00a0'}, {locale: 'ru'});
    out.push({type: div._fullData[0].type, svg: div.querySelectorAll('svg.main-svg').length});
  }
  return out;
}"""


def test_the_partial_bundle_draws_every_trace_with_a_russian_toolbar(page):
    # given a Russian page with the vendored partial bundle (1.4 MB, not the full 4.8 MB)
    assert BUNDLE.stat().st_size < 2_000_000
    page.set_content('<html lang="ru"><body></body></html>')
    page.add_script_tag(path=str(BUNDLE))
    # when each trace type the app uses is drawn with the locale charts.js passes
    drawn = page.evaluate(DRAW, FIGURES)
    # then every trace is drawn as itself (an unregistered type would fall back to scatter)
    assert [item["type"] for item in drawn] == [
        "bar",
        "scatter",
        "funnel",
        "waterfall",
        "pie",
        "sunburst",
    ]
    assert all(item["svg"] >= 1 for item in drawn), drawn
    # and the toolbar speaks Russian
    titles = page.evaluate(
        "[...document.querySelectorAll('.modebar-btn')].map(b => b.getAttribute('data-title'))"
    )
    assert "Сохранить в формате PNG" in titles
    assert "Download plot as a PNG" not in titles


STYLESHEET = ROOT / "static" / "css" / "app.css"
NBSP = "\u00a0"
CARDS = "".join(
    f'<div class="card kpi"><div class="label">Выручка</div><div class="value">{value}</div></div>'
    for value in [f"10{NBSP}656{NBSP}000{NBSP}₽", f"9{NBSP}381{NBSP}915{NBSP}₽", "420", "25,0 %"]
    * 2
)
WIDE_TABLE = "<tr>" + "".join(f"<td>{NBSP}Колонка{NBSP}{i}{NBSP}</td>" for i in range(14)) + "</tr>"
KPI_PAGE = f"""<html lang="ru"><body><main>
<div class="grid kpis">{CARDS}</div>
<div class="card" id="wide"><table>{WIDE_TABLE}</table></div>
</main></body></html>"""


@pytest.mark.parametrize("width", [1366, 390])
def test_big_figures_fit_their_cards_and_wide_tables_scroll_inside(page, width):
    # given eight figure cards and a 14-column table, at a laptop's and a phone's width
    page.set_viewport_size({"width": width, "height": 800})
    page.set_content(KPI_PAGE)
    page.add_style_tag(path=str(STYLESHEET))
    # then every figure is whole inside its card (not cut, not spilling over)
    cut = page.evaluate(
        "[...document.querySelectorAll('.kpi .value')].filter(v =>"
        " v.scrollWidth > v.clientWidth + 1"
        " || v.getBoundingClientRect().right > v.closest('.card').getBoundingClientRect().right)"
        ".map(v => v.textContent)"
    )
    assert cut == []
    # and each figure stays on one line (its no-break spaces hold)
    heights = page.evaluate(
        "[...document.querySelectorAll('.kpi .value')].map(v => v.getBoundingClientRect().height)"
    )
    assert max(heights) < 2 * min(heights)
    # and the wide table scrolls inside its card; the page itself never scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    card = page.locator("#wide")
    assert card.evaluate("c => c.scrollWidth > c.clientWidth && getComputedStyle(c).overflowX")
    assert card.evaluate("c => getComputedStyle(c).overflowX") == "auto"

"""The menu each role sees. One list, so a new page is added to the menu in one place.

The daily pages come first; the set-up pages (funnels, imports, people, API, settings) sit in a
"More" group so the Russian menu fits one line at 1366 px (templates/base.html)."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from salesplan.access import MARKETING_READERS
from salesplan.models import Membership, Role

ALL_ROLES = frozenset(Role.values)
ANALYSTS = frozenset({Role.OWNER, Role.HEAD_OF_SALES, Role.MARKETER})
MANAGERS = frozenset({Role.OWNER, Role.HEAD_OF_SALES})
MAIN, MORE = "main", "more"


@dataclass(frozen=True, slots=True)
class NavItem:
    url_name: str
    label: str | Promise
    roles: frozenset[str] = ALL_ROLES
    group: str = MAIN
    # the item shows the unread counter (htmx loads it from this URL name)
    badge_url_name: str | None = None


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("home", _("Dashboard")),
    NavItem("overview", _("Overview"), frozenset({Role.OWNER})),
    NavItem("dashboard", _("Funnel"), ANALYSTS),
    NavItem("marketing", _("Marketing"), MARKETING_READERS),  # the page's own rule
    NavItem("today", _("Today"), frozenset({Role.SALESPERSON})),
    NavItem("plan_list", _("Plans")),
    NavItem("inbox", _("Inbox"), badge_url_name="inbox_badge"),
    NavItem("scorecard", _("KPI")),
    NavItem("weekly_review", _("Weekly review"), MANAGERS, group=MORE),
    NavItem("client_base", _("Client base"), group=MORE),
    NavItem("discipline", _("CRM discipline"), MANAGERS, group=MORE),
    NavItem("kpi_schemes", _("KPI schemes"), MANAGERS, group=MORE),
    NavItem("funnel_list", _("Funnels"), group=MORE),
    NavItem("import_list", _("Imports"), MANAGERS, group=MORE),
    NavItem("members", _("People"), MANAGERS, group=MORE),
    NavItem("api_docs", _("API"), MANAGERS, group=MORE),
    NavItem("settings", _("Settings"), group=MORE),
)


def _url(name: str | None) -> str | None:
    if name is None:
        return None
    try:
        return reverse(name)
    except NoReverseMatch:  # the page is not built yet
        return None


def nav_for(membership: Membership | None, current_path: str) -> list[dict[str, object]]:
    """The role's menu items in order: url, label, active, group ("main"/"more") and the
    URL of the unread badge (or None). Pages not built yet are left out."""
    if membership is None:
        return []
    items = []
    for item in NAV_ITEMS:
        if membership.role not in item.roles:
            continue
        url = _url(item.url_name)
        if url is None:
            continue
        active = current_path == url or (url != "/" and current_path.startswith(url))
        items.append(
            {
                "url": url,
                "label": item.label,
                "active": active,
                "group": item.group,
                "badge_url": _url(item.badge_url_name),
            }
        )
    return items


def nav_groups(items: list[dict[str, object]]) -> dict[str, object]:
    """The menu split for the template: the main items, the "More" items and whether one of
    those is the current page (the group's button is then marked too)."""
    more = [item for item in items if item["group"] == MORE]
    return {
        "main": [item for item in items if item["group"] == MAIN],
        "more": more,
        "more_active": any(item["active"] for item in more),
    }

"""The menu each role sees. One list, so a new page is added to the menu in one place."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from salesplan.models import Membership, Role

ALL_ROLES = frozenset(Role.values)


@dataclass(frozen=True, slots=True)
class NavItem:
    url_name: str
    label: str | Promise
    roles: frozenset[str] = ALL_ROLES


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("home", _("Dashboard")),
    NavItem("plan_list", _("Plans")),
    NavItem("funnel_list", _("Funnels")),
    NavItem("import_list", _("Imports"), frozenset({Role.OWNER, Role.HEAD_OF_SALES})),
    NavItem("members", _("People"), frozenset({Role.OWNER, Role.HEAD_OF_SALES})),
    NavItem("api_docs", _("API"), frozenset({Role.OWNER, Role.HEAD_OF_SALES})),
    NavItem("settings", _("Settings")),
)


def nav_for(membership: Membership | None, current_path: str) -> list[dict[str, object]]:
    if membership is None:
        return []
    items = []
    for item in NAV_ITEMS:
        if membership.role not in item.roles:
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:  # the page is not built yet
            continue
        active = current_path == url or (url != "/" and current_path.startswith(url))
        items.append({"url": url, "label": item.label, "active": active})
    return items

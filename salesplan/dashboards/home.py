"""Home by role (issue 12): each member lands on the page of their job. The head of sales on
the funnel dashboard, the owner on the roll-up of every team's plan, the marketer on the
marketer's page, a salesperson on their day; anyone else (a viewer) on the organization's
current plans, the home every role had before."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from salesplan import selectors as core_selectors
from salesplan.access import require_membership
from salesplan.models import Membership, Role
from salesplan.plans import selectors
from salesplan.plans.presentation import verdict_label

# Each role's home, by URL name; a page not built yet falls back to the plans' home.
ROLE_HOMES: dict[str, str] = {
    Role.HEAD_OF_SALES: "dashboard",
    Role.OWNER: "overview",
    Role.MARKETER: "marketing",
    Role.SALESPERSON: "today",
}


def home_url(member: Membership) -> str | None:
    """The address of the member's home, or None: the plans' home (`plans_home`)."""
    name = ROLE_HOMES.get(member.role)
    if name is None:
        return None
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def home(request: HttpRequest) -> HttpResponse:
    member = require_membership(request)
    url = home_url(member)
    if url is not None:
        return redirect(url)
    return plans_home(request)


def plans_home(request: HttpRequest) -> HttpResponse:
    """The organization's current plans and one's slice of the pie: a constant number of
    queries whatever the number of plans."""
    member = require_membership(request)
    organization = member.organization
    today = timezone.localdate()
    plans = selectors.decompose_plans(
        selectors.current_plans(organization=organization, day=today), organization=organization
    )
    context = {
        "summary": core_selectors.organization_summary(organization=organization),
        "today": today,
        "plans": [
            {
                "plan": item.plan,
                "decomposition": item.decomposition,
                "verdict_label": verdict_label(item.decomposition.verdict)
                if item.decomposition
                else "",
            }
            for item in plans
        ],
        "slices": selectors.my_slices(membership=member, plans=plans),
    }
    return render(request, "home.html", context)

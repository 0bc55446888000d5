"""The dashboard: the plans that cover today, a salesperson's numbers for today, and one's
slice of the pie. A constant number of queries whatever the number of plans."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from salesplan import selectors as core_selectors
from salesplan.access import require_membership
from salesplan.plans import selectors
from salesplan.plans.presentation import verdict_label


def home(request: HttpRequest) -> HttpResponse:
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
        "slices": selectors.my_slices(membership=member, plans=[item.plan for item in plans]),
        "today_plans": selectors.numbers_for_today(membership=member, plans=plans, day=today)
        if member.is_salesperson
        else [],
    }
    return render(request, "home.html", context)

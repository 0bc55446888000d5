"""A salesperson's day (issue 12): the calls, meetings and deals the plan asks of them today
and this week, what it takes to be on plan by tonight and by the week's end, what they have
done so far (their own stored snapshots), their slice of the pie and their open slips."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from salesplan.access import require_membership
from salesplan.dashboards import roles_data
from salesplan.figures import cached_page
from salesplan.plans import selectors


@cached_page
def today(request: HttpRequest) -> HttpResponse:
    """Any member may open it; a member with no share of a current plan sees none (a head of
    sales has no personal plan: DOMAIN idea 5)."""
    member = require_membership(request)
    organization = member.organization
    day = timezone.localdate()
    plans = selectors.decompose_plans(
        selectors.current_plans(organization=organization, day=day), organization=organization
    )
    context = {
        "day": day,
        "week_start": roles_data.week_start(day),
        "today_plans": roles_data.today_plans(membership=member, plans=plans, day=day),
        "slices": selectors.my_slices(membership=member, plans=plans),
        "slips": roles_data.slip_items(
            roles_data.slips_for(member).filter(owner=member)[: roles_data.SLIPS_SHOWN]
        ),
    }
    return render(request, "dashboards/today.html", context)

"""The client base page (every role): the base's state and how long it lasts at this pace,
the "do not touch" list (searchable, paginated; htmx swaps the list alone), the warnings of
contacts with cooling companies, and the refusal rates as a table and a chart (a salesperson:
their own). The settings page (owner, head of sales) saves through the service the API calls."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from salesplan.access import may_edit_settings, require_membership
from salesplan.clientbase import burn, charts, selectors, services
from salesplan.clientbase.forms import BaseSettingsForm
from salesplan.errors import error_dict
from salesplan.forms import add_service_errors
from salesplan.models import Role

# Companies per page of the "do not touch" list, and the newest warnings the page shows (the
# API pages through all of them).
COMPANIES_PER_PAGE = 50
WARNINGS_ON_PAGE = 20


def client_base(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    organization = membership.organization
    today = selectors.today_of(organization)
    search_error = None
    try:
        search = selectors.clean_search(request.GET.get("q"))
    except ValidationError as error:
        search, search_error = "", " ".join(error_dict(error).get("search", []))
    companies = selectors.do_not_touch(organization=organization, today=today, search=search)
    page = Paginator(companies, COMPANIES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "today": today,
        "search": search,
        "search_error": search_error,
        "page": page,
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "clientbase/_do_not_touch.html", context)
    table = selectors.rate_table(member=membership, today=today, months=selectors.RATE_MONTHS_PAGE)
    warnings = selectors.cooling_warnings(member=membership)
    context |= {
        "summary": selectors.summary_of(organization),
        "rules": services.base_settings(organization),
        "warnings": list(warnings[:WARNINGS_ON_PAGE]),
        "warning_count": warnings.count(),
        "rates": table,
        "chart": charts.refusal_rate_chart(table["months"], table["lines"])
        if table["lines"]
        else None,
        "own_rates_only": membership.role == Role.SALESPERSON,
        "can_edit": may_edit_settings(membership),
    }
    return render(request, "clientbase/client_base.html", context)


def client_base_settings(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request, may_edit_settings)
    rules = services.base_settings(membership.organization)
    form = BaseSettingsForm(
        initial={
            "permanent_reasons": "\n".join(rules.permanent_reasons),
            "cooling_days": rules.cooling_days,
        }
    )
    if request.method == "POST":
        form = BaseSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.base_settings_update(member=membership, **form.service_arguments())
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Saved. The companies' states follow the new rules within a few minutes."),
                )
                return redirect("client_base")
    reasons = [
        {**row, "permanent": burn.is_permanent(row["lost_reason"], rules.permanent_reasons)}
        for row in selectors.lost_reasons(organization=membership.organization)
    ]
    return render(
        request, "clientbase/settings.html", {"form": form, "rules": rules, "reasons": reasons}
    )

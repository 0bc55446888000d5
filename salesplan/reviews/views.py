"""The weekly review page (URL name `weekly_review`): a head of sales ticks their week's
functions with notes (the current week or a past one) and sees their weeks' grid and who
changed what; the owner sees every head's summary "manages or sells", and a head's grid and
reviews, read only. The same services and rules as the API."""

from django.contrib import messages
from django.core.exceptions import BadRequest, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from salesplan.access import require_membership
from salesplan.errors import error_lines
from salesplan.models import Membership, Role
from salesplan.reviews import selectors, services
from salesplan.reviews.checklist import FUNCTIONS
from salesplan.reviews.weeks import Week, current_week, parse_week


def _week(request: HttpRequest, default: Week) -> Week:
    value = request.GET.get("week")
    if value in (None, ""):
        return default
    try:
        return parse_week(value)
    except ValidationError as error:
        raise BadRequest(" ".join(error.messages)) from error


def _address(head: Membership, week: Week, member: Membership) -> str:
    query = {"week": week.label}
    if member.pk != head.pk:
        query["head"] = str(head.pk)
    return f"{reverse('weekly_review')}?{urlencode(query)}"


def _marks_from(request: HttpRequest) -> list[services.Mark]:
    """The form sends every function: a checkbox and a note each."""
    return [
        services.Mark(
            key=function.key,
            done=request.POST.get(f"done_{function.key}") == "on",
            note=request.POST.get(f"note_{function.key}", ""),
        )
        for function in FUNCTIONS
    ]


def weekly_review(request: HttpRequest) -> HttpResponse:
    member = require_membership(request, selectors.may_read_reviews)
    this_week = current_week(member.organization)
    week = _week(request, this_week)
    head_id = request.GET.get("head")
    if member.role == Role.OWNER and head_id in (None, ""):
        summaries = [
            selectors.summarise(head, selectors.history(head))
            for head in selectors.heads_of(member)
        ]
        return render(
            request,
            "reviews/owner.html",
            {"summaries": summaries, "weeks": selectors.SUMMARY_WEEKS},
        )
    head = selectors.access_head(member, head_id, edit=request.method == "POST")
    errors: list[str] = []
    if request.method == "POST":
        try:
            marks = services.validate_marks(
                [
                    {"key": mark.key, "done": mark.done, "note": mark.note}
                    for mark in _marks_from(request)
                ]
            )
            version_text = request.POST.get("version", "")
            version = int(version_text) if version_text.isdigit() else None
            services.review_save(member=member, head=head, week=week, marks=marks, version=version)
        except services.ReviewConflict:
            messages.error(
                request,
                _(
                    "Someone saved this review after you opened it: nothing was changed. "
                    "Here it is as it is now."
                ),
            )
            return redirect(_address(head, week, member))
        except ValidationError as error:
            errors = error_lines(error)
        else:
            messages.success(request, _("The weekly review is saved."))
            return redirect(_address(head, week, member))
    view = selectors.review_view(head, week)
    rows = selectors.history(head, until=this_week)
    return render(
        request,
        "reviews/review.html",
        {
            "review": view,
            "rows": rows,
            "summary": selectors.summarise(head, rows),
            "functions": FUNCTIONS,
            "titles": {function.key: str(function.title) for function in FUNCTIONS},
            "editable": member.pk == head.pk and week.start <= this_week.start,
            "errors": errors,
            "previous_url": _address(head, week.previous(), member),
            "next_url": _address(head, week.next(), member)
            if week.start < this_week.start
            else None,
            "is_owner": member.role == Role.OWNER,
            "head_param": "" if member.pk == head.pk else str(head.pk),
        },
        status=400 if errors else 200,
    )

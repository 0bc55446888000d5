"""Weekly reviews over the API (/api/v1/): a head of sales' review of a week (GET, and PUT
by the head), the weeks' history with the summary "manages or sells", and every head's
summary for the owner. The same services and rules as the page (reviews.services,
reviews.selectors)."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.urls import path
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from salesplan.api.mixins import OrganizationScopedMixin, expected_version
from salesplan.api.schema import ErrorSerializer, error_responses
from salesplan.limits import MAX_REVIEW_HISTORY_WEEKS, MAX_REVIEW_NOTE_CHARS
from salesplan.reviews import selectors, services
from salesplan.reviews.checklist import FUNCTION_KEYS
from salesplan.reviews.weeks import Week, current_week, parse_week

# --- serializers (what goes out, and the documentation of what comes in) ----------------------


class WeeklyReviewItemSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=FUNCTION_KEYS, help_text="The function (stable).")
    title = serializers.CharField(help_text="Its name, in your language.")
    hint = serializers.CharField(help_text="What counts as done this week.")
    done = serializers.BooleanField(
        help_text="Ticked as shown: the person's tick, else the data's suggestion."
    )
    marked = serializers.BooleanField(
        allow_null=True, help_text="The person's own tick; null: not decided (the prefill shows)."
    )
    note = serializers.CharField(allow_blank=True)
    suggested = serializers.BooleanField(
        allow_null=True, help_text="What the data suggests; null: the data cannot tell."
    )
    evidence = serializers.CharField(
        allow_blank=True, help_text='Why, in your language ("2 plan versions saved on 01.12").'
    )
    warning = serializers.BooleanField(
        help_text="The evidence is a warning (e.g. too many own deals: selling, not managing)."
    )
    source = serializers.CharField(
        help_text='Whose the tick is: "person" (theirs), "data" (the suggestion), "none".'
    )


class WeeklyReviewChangedItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    done = serializers.ListField(
        child=serializers.BooleanField(allow_null=True),
        min_length=2,
        max_length=2,
        help_text="The person's tick before and after.",
    )
    note = serializers.ListField(
        child=serializers.CharField(allow_blank=True),
        min_length=2,
        max_length=2,
        help_text="The note before and after.",
    )


class WeeklyReviewChangeSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="The review's version after this save.")
    changed_by = serializers.IntegerField(source="changed_by_id", allow_null=True)
    changed_by_name = serializers.CharField(allow_null=True)
    changed_at = serializers.DateTimeField()
    items = WeeklyReviewChangedItemSerializer(many=True)


class WeeklyReviewSerializer(serializers.Serializer):
    head = serializers.IntegerField(help_text="The head of sales (member id).")
    head_name = serializers.CharField()
    week = serializers.CharField(help_text='The ISO week, e.g. "2026-W49".')
    week_start = serializers.DateField(help_text="Its Monday (the organization's local week).")
    week_end = serializers.DateField(help_text="Its Sunday.")
    is_current = serializers.BooleanField()
    saved = serializers.BooleanField(
        help_text="Stored (saved by the head or prefilled by the job); false: prefilled now."
    )
    version = serializers.IntegerField(
        help_text="The head's saves so far; send it back with a PUT (or If-Match)."
    )
    ticked = serializers.IntegerField(help_text="Functions ticked, as shown.")
    total = serializers.IntegerField()
    own_deals = serializers.IntegerField(help_text="The head's own deals of the week.")
    own_revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    prefilled_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)
    updated_by = serializers.IntegerField(allow_null=True)
    items = WeeklyReviewItemSerializer(many=True)
    changes = WeeklyReviewChangeSerializer(
        many=True, help_text="Who changed what and when, newest first."
    )


def review_data(view: selectors.ReviewView) -> dict[str, Any]:
    return {
        "head": view.head.pk,
        "head_name": view.head.display_name,
        "week": view.week.label,
        "week_start": view.week.start,
        "week_end": view.week.end,
        "is_current": view.is_current,
        "saved": view.saved,
        "version": view.version,
        "ticked": view.ticked_count,
        "total": len(view.items),
        "own_deals": view.own_deals,
        "own_revenue": view.own_revenue,
        "prefilled_at": view.prefilled_at,
        "updated_at": view.updated_at,
        "updated_by": view.updated_by.pk if view.updated_by else None,
        "items": [item.__dict__ for item in view.items],
        "changes": [
            {
                "number": change.number,
                "changed_by_id": change.changed_by_id,
                "changed_by_name": change.changed_by.display_name if change.changed_by else None,
                "changed_at": change.changed_at,
                "items": change.items,
            }
            for change in view.changes
        ],
    }


class WeeklyReviewMarkSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=FUNCTION_KEYS)
    done = serializers.BooleanField(
        allow_null=True, help_text="Ticked or not; null: back to the data's suggestion."
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_REVIEW_NOTE_CHARS,
        help_text="Left out: unchanged.",
    )


class WeeklyReviewUpdateSerializer(serializers.Serializer):
    items = WeeklyReviewMarkSerializer(
        many=True, help_text="The functions to change, each once; the others stay as they are."
    )
    version = serializers.IntegerField(
        required=False,
        help_text="The version you read: a save over a newer one is refused (409).",
    )


class WeeklyReviewWeekSerializer(serializers.Serializer):
    week = serializers.CharField()
    week_start = serializers.DateField()
    saved = serializers.BooleanField()
    ticked = serializers.IntegerField()
    items = serializers.DictField(
        child=serializers.BooleanField(), help_text="Each function's key: ticked or not."
    )
    own_deals = serializers.IntegerField()
    own_revenue = serializers.DecimalField(max_digits=16, decimal_places=2)


class WeeklyReviewSummarySerializer(serializers.Serializer):
    head = serializers.IntegerField()
    head_name = serializers.CharField()
    weeks = serializers.IntegerField()
    reviewed_weeks = serializers.IntegerField()
    ticked_share = serializers.DecimalField(
        max_digits=4, decimal_places=3, help_text="Functions ticked ÷ (functions × weeks)."
    )
    own_deals = serializers.IntegerField()
    own_revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
    verdict = serializers.ChoiceField(choices=["manages", "sells", "both", "little", "no_reviews"])
    verdict_text = serializers.CharField()


class WeeklyReviewHistorySerializer(serializers.Serializer):
    weeks = WeeklyReviewWeekSerializer(many=True, help_text="Newest first.")
    summary = WeeklyReviewSummarySerializer()


def summary_data(summary: selectors.Summary) -> dict[str, Any]:
    return {
        "head": summary.head.pk,
        "head_name": summary.head.display_name,
        "weeks": summary.weeks,
        "reviewed_weeks": summary.reviewed_weeks,
        "ticked_share": summary.ticked_share,
        "own_deals": summary.own_deals,
        "own_revenue": summary.own_revenue,
        "verdict": summary.verdict,
        "verdict_text": summary.verdict_text,
    }


def week_row_data(row: selectors.WeekRow) -> dict[str, Any]:
    return {
        "week": row.week.label,
        "week_start": row.week.start,
        "saved": row.saved,
        "ticked": row.ticked_count,
        "items": row.ticks,
        "own_deals": row.own_deals,
        "own_revenue": row.own_revenue,
    }


# --- views -------------------------------------------------------------------------------------

HEAD = OpenApiParameter(
    "head",
    OpenApiTypes.INT,
    description="The head of sales (member id); a head of sales may leave it out (their own), "
    "the owner names one.",
)
WEEK = OpenApiParameter(
    "week",
    OpenApiTypes.STR,
    description='The ISO week of the organization\'s time zone, e.g. "2026-W49" '
    "(default: the current one).",
)
READ_ERRORS = {
    403: OpenApiResponse(
        ErrorSerializer,
        description="Not the owner or a head of sales, or another head's review.",
    ),
    404: OpenApiResponse(
        ErrorSerializer, description="No such head of sales in your organization."
    ),
}


def _week(request: Request, head_week: Week) -> Week:
    value = request.query_params.get("week")
    return head_week if value in (None, "") else parse_week(value)


class WeeklyReviewView(OrganizationScopedMixin, APIView):
    """A head of sales' weekly review: each function of the checklist ticked or not, with
    the person's note, the data's suggestion and its evidence, and who changed what and when.
    A week nobody has reviewed yet comes prefilled from the data (`saved` false). The owner
    reads every head's; a head of sales reads and ticks their own."""

    @extend_schema(parameters=[WEEK, HEAD], responses={200: WeeklyReviewSerializer, **READ_ERRORS})
    def get(self, request: Request) -> Response:
        head = selectors.access_head(self.membership, request.query_params.get("head"))
        week = _week(request, current_week(self.organization))
        return Response(WeeklyReviewSerializer(review_data(selectors.review_view(head, week))).data)

    @extend_schema(
        parameters=[WEEK, HEAD],
        request=WeeklyReviewUpdateSerializer,
        responses={
            200: WeeklyReviewSerializer,
            **READ_ERRORS,
            403: OpenApiResponse(
                ErrorSerializer, description="Only the head of sales ticks their own review."
            ),
            **error_responses(409),
        },
    )
    def put(self, request: Request) -> Response:
        head = selectors.access_head(self.membership, request.query_params.get("head"), edit=True)
        week = _week(request, current_week(self.organization))
        data = request.data if isinstance(request.data, dict) else None
        if data is None:
            raise serializers.ValidationError(
                {"items": [gettext("Send an object with the items.")]}
            )
        marks = services.validate_marks(data.get("items"))
        version = expected_version(request, "version")
        try:
            services.review_save(
                member=self.membership, head=head, week=week, marks=marks, version=version
            )
        except services.ReviewConflict as conflict:
            return Response(
                {
                    "detail": gettext(
                        "Someone saved this review after you opened it: nothing was changed. "
                        "Open it again."
                    ),
                    "version": conflict.current,
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(WeeklyReviewSerializer(review_data(selectors.review_view(head, week))).data)


def _weeks(request: Request) -> int:
    value = request.query_params.get("weeks")
    if value in (None, ""):
        return selectors.SUMMARY_WEEKS
    try:
        weeks = int(value)
    except (TypeError, ValueError):
        weeks = 0
    if not 1 <= weeks <= MAX_REVIEW_HISTORY_WEEKS:
        raise serializers.ValidationError(
            {
                "weeks": [
                    gettext("Send a whole number from 1 to %(max)d.")
                    % {"max": MAX_REVIEW_HISTORY_WEEKS}
                ]
            }
        )
    return weeks


class WeeklyReviewHistoryView(OrganizationScopedMixin, APIView):
    """A head of sales' weeks, newest first, each function ticked or not (a week nobody
    reviewed: none), and the summary "manages or sells": the share of functions ticked
    against the head's own deals over those weeks."""

    @extend_schema(
        parameters=[
            HEAD,
            OpenApiParameter(
                "weeks",
                OpenApiTypes.INT,
                description=f"How many weeks back (1–{MAX_REVIEW_HISTORY_WEEKS}, "
                f"default {selectors.SUMMARY_WEEKS}).",
            ),
            OpenApiParameter(
                "until",
                OpenApiTypes.STR,
                description='The last week, e.g. "2026-W49" (default: the current one).',
            ),
        ],
        responses={200: WeeklyReviewHistorySerializer, **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        head = selectors.access_head(self.membership, request.query_params.get("head"))
        weeks = _weeks(request)
        until = request.query_params.get("until")
        last = parse_week(until, field="until") if until else None
        rows = selectors.history(head, weeks=weeks, until=last)
        return Response(
            WeeklyReviewHistorySerializer(
                {
                    "weeks": [week_row_data(row) for row in rows],
                    "summary": summary_data(selectors.summarise(head, rows)),
                }
            ).data
        )


class WeeklyReviewSummaryView(OrganizationScopedMixin, APIView):
    """Manages or sells, per head of sales over the last weeks: the owner sees every head,
    a head of sales their own."""

    @extend_schema(
        responses={
            200: WeeklyReviewSummarySerializer(many=True),
            403: OpenApiResponse(ErrorSerializer, description="Not the owner or a head of sales."),
        }
    )
    def get(self, request: Request) -> Response:
        if not selectors.may_read_reviews(self.membership):
            raise PermissionDenied(
                gettext("Only the owner and heads of sales read weekly reviews.")
            )
        data = [
            summary_data(selectors.summarise(head, selectors.history(head)))
            for head in selectors.heads_of(self.membership)
        ]
        return Response(WeeklyReviewSummarySerializer(data, many=True).data)


urlpatterns = [
    path("weekly-reviews/", WeeklyReviewView.as_view(), name="api_weekly_review"),
    path(
        "weekly-reviews/history/",
        WeeklyReviewHistoryView.as_view(),
        name="api_weekly_review_history",
    ),
    path(
        "weekly-reviews/summary/",
        WeeklyReviewSummaryView.as_view(),
        name="api_weekly_review_summary",
    ),
]

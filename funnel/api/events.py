"""POST /api/v1/events/: a JSON batch of actuals (leads, stage events, payments, spend, calls,
tasks) from a CRM or a BI pipeline, validated item by item and loaded idempotently."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from funnel.importers.batch import MAX_ITEMS, NOTE_MAX_LENGTH, ItemError, count_items
from funnel.models import Source
from funnel.services import events
from salesplan.api.mixins import OrganizationScopedMixin
from salesplan.api.parsers import JSONParser
from salesplan.api.permissions import CanEditSettings

# --- the request and response, declared for the OpenAPI schema ------------------------------
# The view validates by hand (funnel.importers.batch): 10,000 items through DRF serializers
# would take seconds, and the errors must name section, index and field in one flat list.

MOMENT_HELP = "ISO 8601; without an offset it is the organization's local time."


class LeadItemSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    name = serializers.CharField(required=False, max_length=300)
    created_at = serializers.DateTimeField(help_text=MOMENT_HELP)
    channel = serializers.CharField(required=False, max_length=200)
    is_target = serializers.BooleanField(required=False, allow_null=True)
    non_target_reason = serializers.CharField(required=False, max_length=300)
    responsible = serializers.CharField(required=False, help_text="A member's name or e-mail.")
    company = serializers.CharField(required=False, max_length=300)
    stage = serializers.CharField(required=False, help_text="Our stage's name.")
    stage_at = serializers.DateTimeField(required=False, allow_null=True, help_text=MOMENT_HELP)
    won = serializers.BooleanField(required=False, help_text="Won: the last stage, paid.")
    lost = serializers.BooleanField(required=False)
    lost_reason = serializers.CharField(required=False, max_length=300)
    lost_at = serializers.DateTimeField(required=False, allow_null=True)
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False)
    gross_margin = serializers.DecimalField(max_digits=16, decimal_places=2, required=False)
    product = serializers.CharField(required=False)
    paid_at = serializers.DateTimeField(required=False, allow_null=True)
    is_new_client = serializers.BooleanField(required=False, allow_null=True)


class StageEventItemSerializer(serializers.Serializer):
    lead_external_id = serializers.CharField(max_length=100)
    stage = serializers.CharField(help_text="Our stage's name; the stages above are implied.")
    reached_at = serializers.DateTimeField(help_text=MOMENT_HELP)
    member = serializers.CharField(required=False)


class PaymentItemSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    lead_external_id = serializers.CharField(max_length=100)
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    gross_margin = serializers.DecimalField(max_digits=16, decimal_places=2, required=False)
    product = serializers.CharField(required=False)
    paid_at = serializers.DateTimeField(help_text=MOMENT_HELP)
    is_new_client = serializers.BooleanField(required=False, allow_null=True)
    credited = serializers.CharField(required=False, help_text="The salesperson credited.")


class SpendItemSerializer(serializers.Serializer):
    channel = serializers.CharField(max_length=200)
    date = serializers.DateField(help_text="The organization's local day.")
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)


class CallItemSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    member = serializers.CharField(required=False)
    lead_external_id = serializers.CharField(required=False, max_length=100)
    at = serializers.DateTimeField(help_text=MOMENT_HELP)
    connected = serializers.BooleanField()
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=NOTE_MAX_LENGTH,
        help_text="The call's comment. Leave the field out if your CRM does not export "
        "comments (the stored one is kept, and the call is not counted as uncommented); send "
        '"" for a call that has none.',
    )


class TaskItemSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100)
    lead_external_id = serializers.CharField(required=False, max_length=100)
    member = serializers.CharField(required=False)
    due_at = serializers.DateTimeField(help_text=MOMENT_HELP)
    done_at = serializers.DateTimeField(required=False, allow_null=True)
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=NOTE_MAX_LENGTH,
        help_text="The task's text: the goal of the next contact. Leave the field out if your "
        "CRM does not export it (the stored one is kept, and the task is not judged).",
    )


class EventsBatchSerializer(serializers.Serializer):
    funnel = serializers.IntegerField(help_text="A funnel of your organization.")
    source = serializers.ChoiceField(choices=Source.choices, default=Source.API)
    valid_items_only = serializers.BooleanField(
        default=False,
        help_text="Write the valid items and report the others; by default one bad item "
        "rejects the whole batch and nothing is written.",
    )
    leads = LeadItemSerializer(many=True, required=False)
    stage_events = StageEventItemSerializer(many=True, required=False)
    payments = PaymentItemSerializer(many=True, required=False)
    spend = SpendItemSerializer(many=True, required=False)
    calls = CallItemSerializer(many=True, required=False)
    tasks = TaskItemSerializer(many=True, required=False)


class ItemErrorSerializer(serializers.Serializer):
    section = serializers.CharField(allow_null=True)
    index = serializers.IntegerField(allow_null=True, help_text="The item's index in its list.")
    field = serializers.CharField(allow_blank=True)
    value = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()


class EventsResultSerializer(serializers.Serializer):
    record = serializers.IntegerField(help_text="The stored batch (RawRecord) id.")
    counts = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text='Per table, {"inserted": n, "updated": n}; a repeated batch gives zeros.',
    )
    unknown_people = serializers.ListField(
        child=serializers.CharField(), help_text="People no member matches, kept as written."
    )
    errors = ItemErrorSerializer(many=True)


class EventsRejectedSerializer(serializers.Serializer):
    detail = serializers.CharField(required=False)
    errors = ItemErrorSerializer(many=True, required=False)


class EventsView(OrganizationScopedMixin, APIView):
    """Load a batch of actuals. Owner and heads of sales only.

    Items are named like the columns of the normalized frames. At most 10,000 items per
    batch (413 beyond). Every item is validated; by default one bad item answers 400 with every
    error (section, index, field, value, reason) and nothing is written. With
    `valid_items_only` the valid items are written and the errors come back beside the counts.
    Records are keyed by their external ids: the same batch twice changes nothing."""

    permission_classes = [CanEditSettings]
    parser_classes = [JSONParser]

    @extend_schema(
        request=EventsBatchSerializer,
        responses={
            200: EventsResultSerializer,
            400: OpenApiResponse(EventsRejectedSerializer, description="Bad items; none written"),
            413: OpenApiResponse(EventsRejectedSerializer, description="Over 10,000 items"),
        },
        tags=["events"],
    )
    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict):
            return self.rejected(
                [ItemError(None, None, "", "", _("Send a JSON object with funnel and sections."))]
            )
        total = count_items(body)
        if total > MAX_ITEMS:
            return Response(
                {
                    "detail": _(
                        "A batch holds at most %(limit)s items; this one has %(count)s. "
                        "Split it into several requests."
                    )
                    % {"limit": f"{MAX_ITEMS:,}", "count": f"{total:,}"}
                },
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        try:
            loaded = events.events_load(organization=self.organization, body=body)
        except events.BatchRejected as rejected:
            return self.rejected(rejected.errors)
        return Response(
            {
                "record": loaded.record.pk,
                "counts": loaded.counts,
                "unknown_people": loaded.unknown_people,
                "errors": [error.as_dict() for error in loaded.errors],
            }
        )

    def rejected(self, errors: list[ItemError]) -> Response:
        return Response(
            {
                "detail": _("Nothing was written: fix the items below and send the batch again."),
                "errors": [error.as_dict() for error in errors],
            },
            status=status.HTTP_400_BAD_REQUEST,
        )

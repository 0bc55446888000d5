"""Slips, the inbox and notification settings over the API (/api/v1/): a plan's slips
(`plans/{plan_pk}/slips/`), the caller's inbox and marking it read, the caller's own channels,
and the organization's bot, chat and webhook with the retry of its failed deliveries (owners
and heads of sales: it holds secrets, so reading it is managing it, as with CRM
integrations)."""

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import generics, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from metrics.models import PlanMetric, Slip
from salesplan.access import (
    access_plan,
    get_scoped_or_404,
    may_edit_settings,
    membership_for,
    visible,
)
from salesplan.api.fields import IdField
from salesplan.api.mixins import OrganizationScopedMixin
from salesplan.api.permissions import IsOrganizationMember
from salesplan.api.schema import ErrorSerializer
from salesplan.models import Delivery, Notification
from salesplan.notifications import services
from salesplan.notifications.messages import render

# --- slips ------------------------------------------------------------------------------------


class SlipSerializer(serializers.ModelSerializer):
    serializer_related_field = IdField
    metric_key = serializers.CharField(source="metric.key", read_only=True)
    metric_name = serializers.CharField(source="metric.display_name", read_only=True)
    owner_name = serializers.CharField(
        source="owner.display_name", read_only=True, allow_null=True, default=None
    )
    is_open = serializers.SerializerMethodField()

    class Meta:
        model = Slip
        fields = [
            "id",
            "plan",
            "metric",
            "metric_key",
            "metric_name",
            "owner",
            "owner_name",
            "personal",
            "since",
            "closed_on",
            "is_open",
            "gap",
            "gap_pct",
            "attributed_revenue",
            "updated_on",
        ]
        read_only_fields = fields

    def get_is_open(self, slip: Slip) -> bool:
        return slip.closed_on is None


def _flag(request: Request, name: str) -> bool | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise serializers.ValidationError({name: [gettext("Send 1 or 0.")]})


@extend_schema(
    parameters=[
        OpenApiParameter(
            "open", OpenApiTypes.BOOL, description="1: open slips only; 0: closed ones only"
        )
    ]
)
class PlanSlipListView(OrganizationScopedMixin, generics.ListAPIView):
    """The plan's slips, open and closed, newest first: whose metric (the pie's owner of the
    department's figure, or a salesperson's own slice: `personal`), since when, the gap in
    units and % and its part of the revenue gap. Salespeople and marketers see the slips of
    the metrics they hold, as with the metrics themselves."""

    serializer_class = SlipSerializer

    def get_queryset(self) -> QuerySet[Slip]:
        if self.schema_only:
            return Slip.objects.none()
        plan = access_plan(self.membership, self.kwargs["plan_pk"])
        metrics = visible(self.membership, PlanMetric.objects.filter(plan=plan))
        slips = Slip.objects.filter(plan=plan, metric__in=metrics.values("pk")).select_related(
            "metric", "owner__user"
        )
        is_open = _flag(self.request, "open")
        if is_open is not None:
            slips = slips.filter(closed_on__isnull=is_open)
        return slips.order_by("-since", "-id")


# --- the inbox --------------------------------------------------------------------------------


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = ["channel", "status", "attempts", "last_error", "sent_at", "next_attempt_at"]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    serializer_related_field = IdField
    subject = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField()
    deliveries = DeliverySerializer(many=True, read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "slip",
            "subject",
            "text",
            "payload",
            "created_at",
            "read_at",
            "deliveries",
        ]
        read_only_fields = fields

    def get_subject(self, notification: Notification) -> str:
        return render(notification).subject

    def get_text(self, notification: Notification) -> str:
        return render(notification).text


class InboxPagination(PageNumberPagination):
    """A page of the inbox, with the unread count beside it (the counter in the menu)."""

    unread = 0

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        response.data["unread"] = self.unread
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        wrapped = super().get_paginated_response_schema(schema)
        wrapped["properties"]["unread"] = {"type": "integer", "example": 3}
        wrapped["required"] = [*wrapped.get("required", []), "unread"]
        return wrapped


@extend_schema(
    parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="1: unread only")]
)
class InboxView(OrganizationScopedMixin, generics.ListAPIView):
    """The caller's notifications, newest first, in the caller's language; `unread` counts
    the unread ones. Each shows how its channels went (a failed delivery says why)."""

    serializer_class = NotificationSerializer
    pagination_class = InboxPagination

    def get_queryset(self) -> QuerySet[Notification]:
        if self.schema_only:
            return Notification.objects.none()
        notifications = services.inbox(self.membership)
        unread = _flag(self.request, "unread")
        if unread is not None:
            notifications = notifications.filter(read_at__isnull=unread)
        return notifications

    def paginate_queryset(self, queryset: QuerySet) -> Any:
        if not self.schema_only and isinstance(self.paginator, InboxPagination):
            self.paginator.unread = services.unread_count(self.membership)
        return super().paginate_queryset(queryset)


class InboxReadView(OrganizationScopedMixin, APIView):
    """Mark one of the caller's notifications read (again: no change)."""

    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request: Request, id: int) -> Response:
        notification = get_scoped_or_404(services.inbox(self.membership), self.organization, pk=id)
        services.inbox_mark_read(member=self.membership, notification=notification)
        return Response(NotificationSerializer(notification).data)


class ReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were unread.")
    unread = serializers.IntegerField()


class InboxReadAllView(OrganizationScopedMixin, APIView):
    """Mark every notification of the caller read."""

    @extend_schema(request=None, responses=ReadAllSerializer)
    def post(self, request: Request) -> Response:
        marked = services.inbox_mark_all_read(member=self.membership)
        return Response({"marked": marked, "unread": services.unread_count(self.membership)})


# --- settings ---------------------------------------------------------------------------------
#
# The serializers below only read the request's types (booleans, strings) and document them:
# every rule (a chat id's form, the webhook URL, the languages, the bot token) is the update
# services', which the pages call too; their ValidationError is a 400 per field
# (salesplan.api.exceptions).


class PersonSettingsSerializer(serializers.Serializer):
    email_enabled = serializers.BooleanField(help_text="Slips and digests by e-mail.")
    telegram_enabled = serializers.BooleanField(
        help_text="Slips and digests in Telegram (needs the chat id and the organization's bot)."
    )
    telegram_chat_id = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        help_text="Your chat with the organization's bot: its number, or a public @channel "
        f"(at most {services.CHAT_ID_MAX_LENGTH} characters).",
    )
    language = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        help_text="The language of your e-mails and Telegram messages: "
        + ", ".join(code for code, _name in settings.LANGUAGES)
        + " (empty: the default).",
    )


class PersonSettingsView(OrganizationScopedMixin, APIView):
    """The caller's own notification channels."""

    @extend_schema(responses=PersonSettingsSerializer)
    def get(self, request: Request) -> Response:
        return Response(PersonSettingsSerializer(services.person_settings(self.membership)).data)

    @extend_schema(request=PersonSettingsSerializer, responses=PersonSettingsSerializer)
    def put(self, request: Request) -> Response:
        serializer = PersonSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.person_settings_update(member=self.membership, **serializer.validated_data)
        return Response(PersonSettingsSerializer(item).data)


class FailedDeliverySerializer(serializers.ModelSerializer):
    kind = serializers.CharField(source="notification.kind", read_only=True)
    created_at = serializers.DateTimeField(source="notification.created_at", read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "kind", "channel", "attempts", "last_error", "created_at"]
        read_only_fields = fields


class OrganizationSettingsSerializer(serializers.Serializer):
    telegram_bot_token = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        help_text="The bot's token from @BotFather (stored encrypted, never shown again); "
        "empty removes it, leaving it out keeps it.",
    )
    has_telegram_bot_token = serializers.SerializerMethodField()
    telegram_chat_id = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        help_text="The organization's chat (a group or channel) for slips: its number, or a "
        "public @channel.",
    )
    webhook_url = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        help_text="Where slip events are POSTed as JSON, signed with the secret (http or "
        f"https, at most {services.WEBHOOK_URL_MAX_LENGTH} characters).",
    )
    webhook_secret = serializers.CharField(
        read_only=True,
        help_text="X-Salesplan-Signature is sha256=<hex HMAC-SHA256 of the raw body with it>.",
    )
    regenerate_webhook_secret = serializers.BooleanField(
        write_only=True, required=False, default=False
    )
    failed_deliveries = serializers.SerializerMethodField()

    def get_has_telegram_bot_token(self, item: Any) -> bool:
        return bool(item.telegram_bot_token_encrypted)

    @extend_schema_field(FailedDeliverySerializer(many=True))
    def get_failed_deliveries(self, item: Any) -> list[dict]:
        failed = services.failed_deliveries(item.organization)
        return FailedDeliverySerializer(failed, many=True).data


class ManagesNotifications(IsOrganizationMember):
    """The organization's bot token and webhook secret: owners and heads of sales."""

    message = _("Only the owner or a head of sales manages the organization's notifications.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and may_edit_settings(membership_for(request))


class OrganizationSettingsView(OrganizationScopedMixin, APIView):
    """The organization's Telegram bot and chat, and its outgoing webhook."""

    permission_classes = [ManagesNotifications]

    @extend_schema(responses=OrganizationSettingsSerializer)
    def get(self, request: Request) -> Response:
        item = services.organization_settings(self.organization)
        return Response(OrganizationSettingsSerializer(item).data)

    @extend_schema(request=OrganizationSettingsSerializer, responses=OrganizationSettingsSerializer)
    def put(self, request: Request) -> Response:
        serializer = OrganizationSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        item = services.organization_settings_update(
            organization=self.organization,
            telegram_bot_token=data.pop("telegram_bot_token", None),
            regenerate_secret=data.pop("regenerate_webhook_secret", False),
            **data,
        )
        return Response(OrganizationSettingsSerializer(item).data)


class DeliveryRetryView(OrganizationScopedMixin, APIView):
    """Send a failed delivery of the organization's webhook or chat again, from its first
    attempt, in the background (fix its cause first: the bot token, the chat, the URL);
    202 with the delivery as it is now (pending, due now). Owners and heads of sales;
    another organization's delivery, or a person's own, is 404."""

    permission_classes = [ManagesNotifications]

    @extend_schema(
        request=None,
        responses={
            202: DeliverySerializer,
            409: OpenApiResponse(
                ErrorSerializer,
                description="Not failed (pending already, or sent): nothing was changed.",
            ),
        },
    )
    def post(self, request: Request, id: int) -> Response:
        delivery = get_scoped_or_404(
            services.organization_deliveries(self.organization),
            self.organization,
            path="notification__organization",
            pk=id,
        )
        if not services.delivery_retry(delivery):
            return Response(
                {"detail": gettext("This delivery is not failed; there is nothing to retry.")},
                status=status.HTTP_409_CONFLICT,
            )
        delivery.refresh_from_db()
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

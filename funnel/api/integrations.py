"""CRM integrations: their management API (owner and head of sales), the webhooks received
with their retry, and the public webhook endpoints the CRMs post to, which know the
organization only by the integration's secret."""

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from funnel.crm import amocrm, bitrix24
from funnel.crm.forms import WebhookError
from funnel.models import Funnel, Integration, RawRecord
from funnel.services import integrations, webhooks
from salesplan.api.fields import ScopedPrimaryKeyField
from salesplan.api.mixins import OrganizationScopedMixin
from salesplan.api.permissions import ManagesSettings
from salesplan.api.throttling import WebhookThrottle
from salesplan.limits import MAX_ID


class IntegrationSerializer(serializers.ModelSerializer):
    """Types only: funnel.services.integrations checks the stage map and the token."""

    funnel = ScopedPrimaryKeyField(Funnel)
    stage_map = serializers.DictField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text=(
            'CRM status id or stage name → our stage (its name or id), "won" or "lost". '
            "For amoCRM, statuses 142 (won) and 143 (lost) are implied in every pipeline; "
            "a CRM stage written as one of our stages' names needs no entry."
        ),
    )
    application_token = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Bitrix24 only (required there): the outbound webhook's application token.",
    )
    has_application_token = serializers.SerializerMethodField()
    rest_url = serializers.CharField(
        max_length=bitrix24.MAX_REST_URL_CHARS,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text=(
            "Bitrix24 only: the portal's inbound webhook URL (https://<portal>/rest/<user "
            "id>/<code>/, with the crm scope); deals are read with it. Stored encrypted and "
            "never returned: see has_rest_url and portal_domain."
        ),
    )
    has_rest_url = serializers.BooleanField(read_only=True)
    portal_domain = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=253,
        help_text=(
            "The Bitrix24 portal the integration calls, and the only one whose webhooks it "
            "takes: the REST URL's, or given here (an application's webhooks, read with their "
            "access token)."
        ),
    )
    webhook_url = serializers.SerializerMethodField(
        help_text="The address to paste into the CRM; it carries the integration's secret."
    )

    class Meta:
        model = Integration
        fields = [
            "id",
            "kind",
            "funnel",
            "stage_map",
            "application_token",
            "has_application_token",
            "rest_url",
            "has_rest_url",
            "portal_domain",
            "webhook_url",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["is_active", "created_at"]

    def get_has_application_token(self, integration: Integration) -> bool:
        return bool(integration.application_token)

    def get_webhook_url(self, integration: Integration) -> str:
        request = self.context.get("request")
        path = integrations.webhook_path(integration)
        return request.build_absolute_uri(path) if request is not None else path

    def create(self, validated_data: dict[str, Any]) -> Integration:
        return integrations.integration_create(
            organization=self.context["organization"], **validated_data
        )


class IntegrationCredentialsSerializer(serializers.Serializer):
    """What a PATCH may change: the Bitrix24 credentials (the rest is fixed at creation)."""

    rest_url = serializers.CharField(
        max_length=bitrix24.MAX_REST_URL_CHARS,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Bitrix24 only: a new inbound webhook URL; an empty string removes it.",
    )
    application_token = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Bitrix24 only: a new application token of the outbound webhook.",
    )


class IntegrationViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """amoCRM and Bitrix24 integrations of the organization. Each has a `webhook_url` with a
    random secret to paste into the CRM; a Bitrix24 one takes the portal's inbound webhook URL
    (`rest_url`, write-only) to read deals with. Owner and heads of sales only (reading too:
    the URL is a credential); another organization's integration is 404."""

    serializer_class = IntegrationSerializer
    permission_classes = [ManagesSettings]
    lookup_value_regex = r"\d+"

    def base_queryset(self):
        return Integration.objects.order_by("id")

    @extend_schema(request=IntegrationCredentialsSerializer, responses=IntegrationSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Replace a Bitrix24 integration's inbound webhook URL or application token (the
        webhook address stays); neither is ever returned."""
        integration = self.get_object()
        body = IntegrationCredentialsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        integrations.integration_credentials_update(integration=integration, **body.validated_data)
        return Response(self.get_serializer(integration).data)


DetailSerializer = inline_serializer("WebhookDetail", {"detail": serializers.CharField()})


# --- the webhooks received, and their retry --------------------------------------------------


class WebhookRecordSerializer(serializers.ModelSerializer):
    """A stored webhook without its body (it carries the CRM's tokens)."""

    class Meta:
        model = RawRecord
        fields = [
            "id",
            "integration",
            "source",
            "status",
            "attempts",
            "next_attempt_at",
            "error",
            "received_at",
            "processed_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "status": {
                "help_text": (
                    "received: waiting for its first or next try (next_attempt_at); "
                    "processed; failed: see error, and POST …/retry/ to run it again."
                )
            },
            "error": {"help_text": "Why it failed, the last transient failure, or notes."},
        }


RECORD_FILTERS = [
    OpenApiParameter("integration", OpenApiTypes.INT, description="An integration's id."),
    OpenApiParameter("status", OpenApiTypes.STR, enum=RawRecord.Status.values),
]


@extend_schema_view(
    list=extend_schema(parameters=RECORD_FILTERS, tags=["integrations"]),
    retrieve=extend_schema(tags=["integrations"]),
)
class WebhookRecordViewSet(OrganizationScopedMixin, viewsets.ReadOnlyModelViewSet):
    """The webhooks the organization's CRMs posted, newest first, with their status, tries and
    error. Owner and heads of sales only; another organization's record is 404."""

    serializer_class = WebhookRecordSerializer
    permission_classes = [ManagesSettings]
    lookup_value_regex = r"\d+"

    def base_queryset(self) -> QuerySet[RawRecord]:
        return RawRecord.objects.filter(kind=RawRecord.Kind.WEBHOOK).order_by("-id")

    def get_queryset(self) -> QuerySet[RawRecord]:
        queryset = super().get_queryset()
        if self.schema_only:
            return queryset
        params = self.request.query_params
        integration = params.get("integration", "")
        if integration:
            if not integration.isdigit() or int(integration) > MAX_ID:
                raise serializers.ValidationError({"integration": [_("Give an integration's id.")]})
            queryset = queryset.filter(integration_id=int(integration))
        record_status = params.get("status", "")
        if record_status:
            if record_status not in RawRecord.Status.values:
                raise serializers.ValidationError(
                    {"status": [_("Use received, processed or failed.")]}
                )
            queryset = queryset.filter(status=record_status)
        return queryset

    @extend_schema(
        request=None,
        responses={
            202: WebhookRecordSerializer,
            409: OpenApiResponse(DetailSerializer, description="Processed: nothing to retry."),
        },
        tags=["integrations"],
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        """Run a failed (or still waiting) webhook again from its first try, in the
        background; 202 with the record as it is now."""
        record = self.get_object()
        if not webhooks.record_retry(record):
            return Response(
                {"detail": _("This webhook is processed; there is nothing to retry.")},
                status=status.HTTP_409_CONFLICT,
            )
        record.refresh_from_db()
        return Response(self.get_serializer(record).data, status=status.HTTP_202_ACCEPTED)


# --- the webhooks the CRMs post -------------------------------------------------------------


class WebhookFormSerializer(serializers.Serializer):
    """Documentation only: CRMs post PHP-style form keys, parsed by funnel.crm."""


AcceptedSerializer = inline_serializer(
    "WebhookAccepted",
    {"record": serializers.IntegerField(), "status": serializers.CharField()},
)


class WebhookView(APIView):
    """Base of the public CRM endpoints: no user, no session, no CSRF; the secret in the path
    names the integration (and so the organization). The body is stored first, answered fast,
    and processed by `funnel.tasks.process_webhook` after the commit."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [WebhookThrottle]  # per integration: a CRM's cloud posts for many
    kind: str = ""

    def integration(self, secret: str) -> Integration:
        integration = None
        if "\x00" not in secret:  # PostgreSQL refuses NUL in a query: it matches nothing
            integration = (
                Integration.objects.select_related("organization")
                .filter(kind=self.kind, secret=secret, is_active=True)
                .first()
            )
        if integration is None:
            raise Http404(_("No integration at this address."))
        return integration

    def store(self, request: Request, integration: Integration) -> RawRecord:
        try:
            body = request.body
        except RequestDataTooBig:  # not a CRM event; kept (empty) so the refusal is on record
            body = b""
        return webhooks.record_store(
            integration=integration, content_type=request.content_type, body=body
        )

    def refuse(self, record: RawRecord, reason: str, code: int) -> Response:
        webhooks.mark_failed(record.pk, reason)
        return Response({"detail": reason, "record": record.pk}, status=code)

    def accept(self, record: RawRecord) -> Response:
        webhooks.record_queue(record)
        return Response({"record": record.pk, "status": record.status})


WEBHOOK_RESPONSES = {
    200: OpenApiResponse(AcceptedSerializer, description="Stored and queued."),
    400: OpenApiResponse(DetailSerializer, description="Not a usable webhook (kept, failed)."),
    404: OpenApiResponse(DetailSerializer, description="No integration with this secret."),
}


class AmoCrmWebhookView(WebhookView):
    kind = Integration.Kind.AMOCRM

    @extend_schema(
        operation_id="integrations_amocrm_webhook",
        request={"application/x-www-form-urlencoded": WebhookFormSerializer},
        responses=WEBHOOK_RESPONSES,
        tags=["integrations"],
        description=(
            "amoCRM's webhook (leads[add|update|status|delete][0][...], account[subdomain]), "
            "form-encoded. Public: the secret in the path is the credential."
        ),
    )
    def post(self, request: Request, secret: str) -> Response:
        integration = self.integration(secret)
        record = self.store(request, integration)
        try:
            amocrm.parse_amocrm(record.content_type, record.body)
        except WebhookError as error:
            return self.refuse(record, error.reason, status.HTTP_400_BAD_REQUEST)
        return self.accept(record)


class Bitrix24WebhookView(WebhookView):
    kind = Integration.Kind.BITRIX24

    @extend_schema(
        operation_id="integrations_bitrix24_webhook",
        request={"application/x-www-form-urlencoded": WebhookFormSerializer},
        responses={
            **WEBHOOK_RESPONSES,
            401: OpenApiResponse(DetailSerializer, description="No application token."),
            403: OpenApiResponse(
                DetailSerializer,
                description="Wrong application token, or not the integration's portal.",
            ),
        },
        tags=["integrations"],
        description=(
            "Bitrix24's outbound webhook (event=ONCRMDEALADD|ONCRMDEALUPDATE, "
            "data[FIELDS][ID], auth[domain], auth[application_token]), form-encoded. The deal "
            "is then read with crm.deal.get."
        ),
    )
    def post(self, request: Request, secret: str) -> Response:
        integration = self.integration(secret)
        record = self.store(request, integration)
        try:
            event = bitrix24.parse_bitrix24(record.content_type, record.body)
        except WebhookError as error:
            return self.refuse(record, error.reason, status.HTTP_400_BAD_REQUEST)
        if not event.application_token:
            return self.refuse(
                record,
                _("No application token (auth[application_token]) in this webhook."),
                status.HTTP_401_UNAUTHORIZED,
            )
        if not bitrix24.application_token_matches(event, integration.application_token):
            return self.refuse(
                record,
                _("The application token does not match this integration's."),
                status.HTTP_403_FORBIDDEN,
            )
        if event.event != bitrix24.BITRIX_DELETE_EVENT:
            # Only the registered portal is ever called (the job checks it again).
            refusal = bitrix24.portal_refusal(event, integration.portal_domain)
            if refusal:
                return self.refuse(record, refusal, status.HTTP_403_FORBIDDEN)
        return self.accept(record)


amocrm_webhook = login_not_required(csrf_exempt(AmoCrmWebhookView.as_view()))
bitrix24_webhook = login_not_required(csrf_exempt(Bitrix24WebhookView.as_view()))

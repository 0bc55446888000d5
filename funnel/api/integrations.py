"""CRM integrations: their management API (owner and head of sales) and the public webhook
endpoints the CRMs post to, which know the organization only by the integration's secret."""

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
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


def webhook_path(integration: Integration) -> str:
    return reverse(f"api_webhook_{integration.kind}", kwargs={"secret": integration.secret})


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
            "webhook_url",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["is_active", "created_at"]

    def get_has_application_token(self, integration: Integration) -> bool:
        return bool(integration.application_token)

    def get_webhook_url(self, integration: Integration) -> str:
        request = self.context.get("request")
        path = webhook_path(integration)
        return request.build_absolute_uri(path) if request is not None else path

    def create(self, validated_data: dict[str, Any]) -> Integration:
        return integrations.integration_create(
            organization=self.context["organization"], **validated_data
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
    random secret to paste into the CRM. Owner and heads of sales only (reading too: the URL
    is a credential); another organization's integration is 404."""

    serializer_class = IntegrationSerializer
    permission_classes = [ManagesSettings]
    lookup_value_regex = r"\d+"

    def base_queryset(self):
        return Integration.objects.order_by("id")


# --- the webhooks the CRMs post -------------------------------------------------------------


class WebhookFormSerializer(serializers.Serializer):
    """Documentation only: CRMs post PHP-style form keys, parsed by funnel.crm."""


DetailSerializer = inline_serializer("WebhookDetail", {"detail": serializers.CharField()})
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
            403: OpenApiResponse(DetailSerializer, description="Wrong application token."),
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
        return self.accept(record)


amocrm_webhook = login_not_required(csrf_exempt(AmoCrmWebhookView.as_view()))
bitrix24_webhook = login_not_required(csrf_exempt(Bitrix24WebhookView.as_view()))

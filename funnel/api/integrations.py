"""CRM integrations: their management API (owner and head of sales) and the public webhook
endpoints the CRMs post to, which know the organization only by the integration's secret."""

import logging
import secrets
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from funnel import webhooks
from funnel.ingest.schema import LOST, WON
from funnel.models import Funnel, Integration, RawRecord
from funnel.tasks import process_webhook
from salesplan.access import can_edit_settings, membership_for, scoped
from salesplan.api.mixins import OrganizationScopedMixin
from salesplan.api.permissions import IsOrganizationMember

logger = logging.getLogger(__name__)

# Bytes of randomness in a webhook secret (token_urlsafe(24) → 32 characters).
SECRET_BYTES = 24
MAX_STAGE_MAP_ENTRIES = 500


class CanManageIntegrations(IsOrganizationMember):
    """Integrations hold the secrets CRMs post with: only the owner and heads of sales see or
    change them (can_edit_settings), for reading too."""

    message = gettext_lazy("Only the owner or a head of sales manages CRM integrations.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and can_edit_settings(membership_for(request))


class ScopedFunnelField(serializers.PrimaryKeyRelatedField):
    """A funnel of the caller's organization; another organization's id is "not found"."""

    def get_queryset(self):
        organization = self.context.get("organization")
        if organization is None:
            return Funnel.objects.none()
        return scoped(Funnel, organization)


def webhook_path(integration: Integration) -> str:
    return reverse(f"api_webhook_{integration.kind}", kwargs={"secret": integration.secret})


class IntegrationSerializer(serializers.ModelSerializer):
    funnel = ScopedFunnelField()
    stage_map = serializers.DictField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text=(
            'CRM status id or stage name → our stage name, "won" or "lost". For amoCRM, '
            "statuses 142 (won) and 143 (lost) are implied in every pipeline."
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

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["kind"]
        token = (attrs.get("application_token") or "").strip()
        if kind == Integration.Kind.BITRIX24 and not token:
            raise serializers.ValidationError(
                {
                    "application_token": [
                        _(
                            "Bitrix24 signs every outbound webhook with an application token; "
                            "copy it from the outbound webhook's settings."
                        )
                    ]
                }
            )
        attrs["application_token"] = token if kind == Integration.Kind.BITRIX24 else ""
        attrs["stage_map"] = self._stage_map(attrs.get("stage_map") or {}, attrs["funnel"])
        return attrs

    def _stage_map(self, stage_map: dict[str, str], funnel: Funnel) -> dict[str, str]:
        """Keys lower-cased (CRM ids and names match case-insensitively); values our stage's
        exact name, or won / lost."""
        if len(stage_map) > MAX_STAGE_MAP_ENTRIES:
            raise serializers.ValidationError(
                {"stage_map": [_("At most %(n)d entries.") % {"n": MAX_STAGE_MAP_ENTRIES}]}
            )
        names = {name.casefold(): name for name in funnel.stages.values_list("name", flat=True)}
        normalized: dict[str, str] = {}
        errors = []
        for external, target in stage_map.items():
            key = str(external).strip().casefold()
            wanted = target.strip().casefold()
            if not key or len(key) > 200 or "\x00" in key:
                errors.append(_("A CRM status or stage must be 1 to 200 characters."))
            elif wanted in (WON, LOST):
                normalized[key] = wanted
            elif wanted in names:
                normalized[key] = names[wanted]
            else:
                errors.append(
                    _(
                        "%(crm)s → %(stage)s: no such stage in the funnel; use one of "
                        '%(stages)s, "won" or "lost".'
                    )
                    % {"crm": external, "stage": target, "stages": ", ".join(names.values())}
                )
        if errors:
            raise serializers.ValidationError({"stage_map": errors})
        return normalized

    def create(self, validated_data: dict[str, Any]) -> Integration:
        return Integration.objects.create(
            organization=self.context["organization"],
            secret=secrets.token_urlsafe(SECRET_BYTES),
            **validated_data,
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
    permission_classes = [CanManageIntegrations]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return self.scope(Integration.objects.all()).order_by("id")


# --- the webhooks the CRMs post -------------------------------------------------------------


class WebhookFormSerializer(serializers.Serializer):
    """Documentation only: CRMs post PHP-style form keys, parsed by funnel.webhooks."""


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
            body = webhooks.clean_text(request.body)
        except RequestDataTooBig:  # not a CRM event; kept (empty) so the refusal is on record
            body = ""
        return RawRecord.objects.create(
            organization=integration.organization,
            integration=integration,
            kind=RawRecord.Kind.WEBHOOK,
            source=integration.kind,
            content_type=webhooks.clean_text(request.content_type or "")[:100],
            body=body,
        )

    def refuse(self, record: RawRecord, reason: str, code: int) -> Response:
        webhooks.mark_failed(record.pk, reason)
        return Response({"detail": reason, "record": record.pk}, status=code)

    def accept(self, record: RawRecord) -> Response:
        transaction.on_commit(lambda: queue_processing(record.pk))
        return Response({"record": record.pk, "status": record.status})


def queue_processing(record_id: int) -> None:
    """Queue the record; the CRM has been answered either way. If the broker is down the
    record stays `received` (stored, listed, reprocessable), never a 500 to the CRM."""
    try:
        process_webhook.delay(record_id)
    except Exception:
        logger.exception("Could not queue webhook record %s", record_id)


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
            webhooks.parse_amocrm(record.content_type, record.body)
        except webhooks.WebhookError as error:
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
            event = webhooks.parse_bitrix24(record.content_type, record.body)
        except webhooks.WebhookError as error:
            return self.refuse(record, error.reason, status.HTTP_400_BAD_REQUEST)
        if not event.application_token:
            return self.refuse(
                record,
                _("No application token (auth[application_token]) in this webhook."),
                status.HTTP_401_UNAUTHORIZED,
            )
        if not webhooks.application_token_matches(event, integration.application_token):
            return self.refuse(
                record,
                _("The application token does not match this integration's."),
                status.HTTP_403_FORBIDDEN,
            )
        return self.accept(record)


amocrm_webhook = login_not_required(csrf_exempt(AmoCrmWebhookView.as_view()))
bitrix24_webhook = login_not_required(csrf_exempt(Bitrix24WebhookView.as_view()))

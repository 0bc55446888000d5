from django.db.models import Prefetch, ProtectedError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from funnel.api.serializers import FunnelSerializer
from funnel.models import Funnel, Stage
from salesplan.api.mixins import OrganizationScopedMixin
from salesplan.api.permissions import CanEditSettings
from salesplan.api.schema import error_responses


class FunnelViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """Funnels with their ordered stages, created and replaced in one call."""

    serializer_class = FunnelSerializer
    permission_classes = [CanEditSettings]

    def base_queryset(self):
        return Funnel.objects.prefetch_related(
            Prefetch("stages", queryset=Stage.objects.order_by("position"))
        )

    @extend_schema(responses={204: None, **error_responses(409)})
    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        try:
            return super().destroy(request, *args, **kwargs)
        except ProtectedError:
            return Response(
                {"detail": _("Plans are built on this funnel; delete or move them first.")},
                status=status.HTTP_409_CONFLICT,
            )

"""The kernel's endpoints: who am I, the members, API tokens; products and the working calendar
(the planning inputs every plan shares)."""

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from salesplan import accounts
from salesplan.access import membership_for, visible
from salesplan.api.mixins import OrganizationScopedMixin
from salesplan.api.parsers import JSONParser
from salesplan.api.permissions import CanEditSettings
from salesplan.api.serializers import (
    CalendarDaySerializer,
    MembershipSerializer,
    MeSerializer,
    ProductSerializer,
)
from salesplan.api.throttling import TokenThrottle, UserThrottle
from salesplan.models import CalendarDay, Membership, Product
from salesplan.services import profile_update


class ProfileSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150, required=False)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class MeView(APIView):
    """Who the caller is and in which organization they act; PATCH edits one's own profile
    (the one thing every role may write)."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        membership = membership_for(request)
        return Response(
            MeSerializer({"membership": membership, "organization": membership.organization}).data
        )

    @extend_schema(request=ProfileSerializer, responses=MeSerializer)
    def patch(self, request: Request) -> Response:
        serializer = ProfileSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        profile_update(user=request.user, **serializer.validated_data)
        return self.get(request)


class MemberListView(generics.ListAPIView):
    """The members of the caller's organization."""

    serializer_class = MembershipSerializer

    def get_queryset(self):
        return (
            visible(membership_for(self.request), Membership).select_related("user").order_by("id")
        )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When the token stops working (null: it does not expire)."
    )


def _token_body(token: Token) -> dict[str, Any]:
    expires_at = accounts.token_expires_at(token)
    return {"token": token.key, "expires_at": expires_at.isoformat() if expires_at else None}


class TokenView(ObtainAuthToken):
    """POST: exchange a username (e-mail) and password for an API token (the one the person
    has while it works, else a new one). After LOGIN_FAILURE_LIMIT wrong passwords the
    account is locked for this client (429, django-axes). DELETE: revoke the caller's token."""

    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]
    parser_classes = [JSONParser, FormParser, MultiPartParser]  # ours: JSON size and depth bounded

    def initialize_request(self, request: Any, *args: Any, **kwargs: Any) -> Request:
        self._revoking = request.method == "DELETE"
        return super().initialize_request(request, *args, **kwargs)

    def get_authenticators(self) -> list[Any]:
        # A password needs no other credential, and a stale token sent along by habit must
        # not stand in the way of getting a new one; revoking needs the caller's.
        if getattr(self, "_revoking", False):
            return [auth() for auth in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
        return []

    def get_permissions(self) -> list[Any]:
        if getattr(self, "_revoking", False):
            return [IsAuthenticated()]
        return super().get_permissions()

    def get_throttles(self) -> list[Any]:
        if getattr(self, "_revoking", False):
            return [UserThrottle()]
        return super().get_throttles()

    @extend_schema(responses=TokenResponseSerializer)
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        if not isinstance(request.data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": [gettext("Send an object with username and password.")]}
            )
        data = dict(request.data.items())
        if isinstance(data.get("username"), str):
            data["username"] = data["username"].strip().lower()
        serializer = self.serializer_class(data=data, context={"request": request})
        if not serializer.is_valid():
            # django-axes flags the request it saw (DRF's) when the account is locked out.
            if getattr(request, "axes_locked_out", False):
                return Response(
                    {"detail": accounts.lockout_message()},
                    status=status.HTTP_429_TOO_MANY_REQUESTS,
                    headers={"Retry-After": str(accounts.lockout_seconds())},
                )
            raise serializers.ValidationError(serializer.errors)
        token = accounts.token_issue(user=serializer.validated_data["user"])
        return Response(_token_body(token))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, *args: object, **kwargs: object) -> Response:
        accounts.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


token_view = login_not_required(TokenView.as_view())


class TokenRotateView(APIView):
    """A new API token for the caller; the old one stops working at once."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=TokenResponseSerializer)
    def post(self, request: Request) -> Response:
        return Response(_token_body(accounts.token_rotate(user=request.user)))


class ProductViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """Products the plans' mix can take; written through the same service as the page."""

    serializer_class = ProductSerializer
    permission_classes = [CanEditSettings]

    def base_queryset(self):
        return Product.objects.select_related("organization").order_by("name")


class CalendarDayViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """The organization's own working days and days off on top of the production calendar."""

    serializer_class = CalendarDaySerializer
    permission_classes = [CanEditSettings]

    def base_queryset(self):
        return CalendarDay.objects.select_related("organization").order_by("date")

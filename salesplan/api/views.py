"""The kernel's endpoints: who am I, the members, API tokens; products and the working calendar
(the planning inputs every plan shares)."""

from django.contrib.auth.decorators import login_not_required
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from salesplan.access import membership_for, visible
from salesplan.api.mixins import OrganizationScopedMixin
from salesplan.api.permissions import CanEditSettings
from salesplan.api.serializers import (
    CalendarDaySerializer,
    MembershipSerializer,
    MeSerializer,
    ProductSerializer,
)
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


class TokenView(ObtainAuthToken):
    """Exchange a username (e-mail) and password for an API token."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

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
        serializer.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


token_view = login_not_required(TokenView.as_view())


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

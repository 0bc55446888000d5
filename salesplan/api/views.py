from django.contrib.auth.decorators import login_not_required
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from salesplan.access import membership_for, scoped
from salesplan.api.serializers import MembershipSerializer, MeSerializer
from salesplan.models import Membership


class MeView(APIView):
    """Who the caller is and in which organization they act."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        membership = membership_for(request)
        return Response(
            MeSerializer({"membership": membership, "organization": membership.organization}).data
        )


class MemberListView(generics.ListAPIView):
    """The members of the caller's organization."""

    serializer_class = MembershipSerializer

    def get_queryset(self):
        membership = membership_for(self.request)
        return scoped(Membership, membership.organization).select_related("user").order_by("id")


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class TokenView(ObtainAuthToken):
    """Exchange a username (e-mail) and password for an API token."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses=TokenResponseSerializer)
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = request.data.copy() if hasattr(request.data, "copy") else dict(request.data)
        if isinstance(data.get("username"), str):
            data["username"] = data["username"].strip().lower()
        serializer = self.serializer_class(data=data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        from rest_framework.authtoken.models import Token

        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


token_view = login_not_required(TokenView.as_view())

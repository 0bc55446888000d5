"""API tokens that expire: API_TOKEN_TTL_DAYS after they were issued a token is refused (401
with a message that says what to do); `salesplan.accounts` issues, rotates and revokes them."""

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from salesplan.accounts import token_expired


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise exceptions.AuthenticationFailed(
                _(
                    "This API token has expired. Get a new one with POST /api/v1/auth/token/ "
                    "or on your account page."
                )
            )
        return user, token

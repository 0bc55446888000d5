"""Request rates of the API (DRF throttles): over its rate a caller gets 429 with
`Retry-After`. The rates are `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`, read at each request
(DRF's own classes keep the rates they saw at import, so a changed setting would not count).

Scopes: `anon` (a caller with no user, per client address), `user` (per user), `token` (the
token endpoint, per client address: each request there is a password guess), `webhooks`
(a CRM's webhook address, per integration secret: a CRM's cloud posts for many customers
from the same few addresses, so its address would throttle them all together)."""

import hashlib
from typing import Any

from rest_framework import throttling
from rest_framework.request import Request
from rest_framework.settings import api_settings


class _RatesFromSettings:
    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonThrottle(_RatesFromSettings, throttling.AnonRateThrottle):
    pass


class UserThrottle(_RatesFromSettings, throttling.UserRateThrottle):
    pass


class TokenThrottle(_RatesFromSettings, throttling.SimpleRateThrottle):
    """The token endpoint: per client address, whoever the caller claims to be."""

    scope = "token"

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class WebhookThrottle(_RatesFromSettings, throttling.SimpleRateThrottle):
    """A CRM's webhook address: per the secret in the path (hashed: the cache never holds it)."""

    scope = "webhooks"

    def get_cache_key(self, request: Request, view: Any) -> str:
        secret = str(view.kwargs.get("secret", ""))
        ident = hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": ident}

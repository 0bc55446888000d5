"""CRM integrations: a funnel, a stage map, a secret webhook address to paste into the CRM,
and for Bitrix24 the portal's own inbound webhook URL to read deals with. The API and the
integrations page create them through `integration_create`.

The inbound webhook URL is a credential (anyone holding it reads the portal's CRM): it is
stored encrypted (Fernet, with a key derived from SECRET_KEY; SECRET_KEY_FALLBACKS still
open it after a rotation) and only `integration_rest_url` opens it, for the fetch."""

import base64
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from funnel.crm.bitrix24 import (
    MAX_REST_URL_CHARS,
    normalize_portal_domain,
    normalize_rest_url,
    rest_url_domain,
)
from funnel.crm.forms import WebhookError
from funnel.models import Funnel, Integration
from funnel.stage_map import resolve_stage_map
from salesplan.models import Organization

# Bytes of randomness in a webhook secret (token_urlsafe(24) → 32 characters).
SECRET_BYTES = 24
# A CRM has a few dozen statuses per pipeline; a map this long is not a stage map.
MAX_STAGE_MAP_ENTRIES = 500
MAX_CRM_STAGE_CHARS = 200
# The key of the integrations' credentials is SECRET_KEY's, stretched for this one purpose:
# a key leaked from elsewhere (sessions, password resets) does not open them.
CREDENTIALS_KEY_INFO = b"salesplan funnel.Integration credentials v1"


def _fernet_key(secret_key: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=CREDENTIALS_KEY_INFO)
    return base64.urlsafe_b64encode(derived.derive(secret_key.encode()))


def _credentials_cipher() -> MultiFernet:
    """Encrypts with SECRET_KEY's key, decrypts with it or any of SECRET_KEY_FALLBACKS'."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def seal(text: str) -> str:
    return _credentials_cipher().encrypt(text.encode()).decode("ascii") if text else ""


def integration_rest_url(integration: Integration) -> str:
    """The integration's Bitrix24 inbound webhook URL in clear ("" without one), for the fetch
    only. A URL sealed with a key this deployment no longer has is a WebhookError that says
    how to mend it."""
    if not integration.rest_url_encrypted:
        return ""
    try:
        return _credentials_cipher().decrypt(integration.rest_url_encrypted.encode()).decode()
    except (InvalidToken, ValueError):
        raise WebhookError(
            _(
                "The integration's Bitrix24 REST URL cannot be decrypted: SECRET_KEY changed "
                "without the old key in SECRET_KEY_FALLBACKS. Enter the inbound webhook URL "
                "again on the integrations page."
            )
        ) from None


def _rest_url(kind: str, text: str) -> str:
    """The inbound webhook URL, normalized; "" when none is given."""
    text = (text or "").strip()
    if not text:
        return ""
    if kind != Integration.Kind.BITRIX24:
        raise ValidationError(
            {"rest_url": [_("A REST URL is for Bitrix24 integrations only; leave it empty.")]}
        )
    url = normalize_rest_url(text)
    if url is None:
        raise ValidationError(
            {
                "rest_url": [
                    _(
                        "Paste the Bitrix24 inbound webhook URL as the portal shows it, e.g. "
                        "https://your-portal.bitrix24.ru/rest/1/abc123xyz/: https, the "
                        "portal's domain, then /rest/<user id>/<code>/, at most %(n)d "
                        "characters."
                    )
                    % {"n": MAX_REST_URL_CHARS}
                ]
            }
        )
    return url


def _portal_domain(kind: str, url: str, text: str) -> str:
    """The Bitrix24 portal the integration may call: its REST URL's, else the domain given
    (an application's webhooks carry an access token, not the URL); "" for none."""
    text = (text or "").strip()
    if kind != Integration.Kind.BITRIX24:
        if text:
            message = _("A portal is for Bitrix24 integrations only; leave it empty.")
            raise ValidationError({"portal_domain": [message]})
        return ""
    domain = normalize_portal_domain(text) if text else ""
    if domain is None:
        raise ValidationError(
            {"portal_domain": [_("Give the portal's domain, e.g. your-portal.bitrix24.ru.")]}
        )
    if url:
        if domain and domain != rest_url_domain(url):
            raise ValidationError(
                {
                    "portal_domain": [
                        _("The REST URL is on %(portal)s; give that portal or leave it empty.")
                        % {"portal": rest_url_domain(url)}
                    ]
                }
            )
        return rest_url_domain(url)
    return domain


def _stage_map(stage_map: dict[str, str], funnel: Funnel) -> dict[str, str]:
    """Keys lower-cased and stripped (CRM ids and names match case-insensitively); values
    our stage's exact name, or won / lost."""
    if len(stage_map) > MAX_STAGE_MAP_ENTRIES:
        raise ValidationError(
            {"stage_map": [_("At most %(n)d entries.") % {"n": MAX_STAGE_MAP_ENTRIES}]}
        )
    errors = [
        _("A CRM status or stage must be 1 to 200 characters.")
        for external in stage_map
        if not str(external).strip()
        or len(str(external).strip()) > MAX_CRM_STAGE_CHARS
        or "\x00" in str(external)
    ]
    stages = list(funnel.stages.order_by("position").values_list("pk", "name"))
    resolved = resolve_stage_map(
        {str(external).strip().casefold(): target for external, target in stage_map.items()},
        [name for _pk, name in stages],
        stage_ids=[pk for pk, _name in stages],
    )
    errors += [
        _(
            "%(crm)s → %(stage)s: no stage of the funnel has this name or id; use a stage by "
            'its name or id (%(stages)s), "won" or "lost".'
        )
        % {
            "crm": external,
            "stage": target,
            "stages": ", ".join(f"{name} = {pk}" for pk, name in stages),
        }
        for external, target in resolved.unknown
    ]
    if errors:
        raise ValidationError({"stage_map": errors})
    return resolved.targets


def webhook_path(integration: Integration) -> str:
    """The address (path) the CRM posts to; its secret names the integration."""
    return reverse(f"api_webhook_{integration.kind}", kwargs={"secret": integration.secret})


def _application_token(kind: str, text: str) -> str:
    """Bitrix24 signs every outbound webhook with an application token: required there; amoCRM
    has none, so whatever is given for it is not kept."""
    token = (text or "").strip()
    if kind != Integration.Kind.BITRIX24:
        return ""
    if not token:
        raise ValidationError(
            {
                "application_token": [
                    _(
                        "Bitrix24 signs every outbound webhook with an application token; "
                        "copy it from the outbound webhook's settings."
                    )
                ]
            }
        )
    return token


@transaction.atomic
def integration_create(
    *,
    organization: Organization,
    kind: str,
    funnel: Funnel,
    stage_map: dict[str, str] | None = None,
    application_token: str = "",
    rest_url: str = "",
    portal_domain: str = "",
) -> Integration:
    """A new integration with a random secret. Bitrix24 signs its webhooks with an
    application token, so one is required there; its inbound webhook URL (`rest_url`) is
    what the deals are read with, stored encrypted. Its portal (the REST URL's, or
    `portal_domain` for an application's webhooks) is the only one it ever calls."""
    if funnel.organization_id != organization.pk:
        raise ValidationError({"funnel": [_("This funnel is not in your organization.")]})
    url = _rest_url(kind, rest_url)
    domain = _portal_domain(kind, url, portal_domain)
    token = _application_token(kind, application_token)
    return Integration.objects.create(
        organization=organization,
        kind=kind,
        funnel=funnel,
        stage_map=_stage_map(stage_map or {}, funnel),
        application_token=token,
        rest_url_encrypted=seal(url),
        portal_domain=domain,
        secret=secrets.token_urlsafe(SECRET_BYTES),
    )


@transaction.atomic
def integration_credentials_update(
    *, integration: Integration, rest_url: str | None = None, application_token: str | None = None
) -> Integration:
    """Replace a Bitrix24 integration's inbound webhook URL ("" removes it) or its application
    token, e.g. after the portal's webhooks were made anew; what is not given is kept. The
    webhook address the CRM posts to does not change."""
    fields = []
    if rest_url is not None:
        url = _rest_url(integration.kind, rest_url)
        integration.rest_url_encrypted = seal(url)
        integration.portal_domain = rest_url_domain(url) if url else ""
        fields += ["rest_url_encrypted", "portal_domain"]
    if application_token is not None and integration.kind == Integration.Kind.BITRIX24:
        integration.application_token = _application_token(integration.kind, application_token)
        fields.append("application_token")
    if fields:
        integration.save(update_fields=fields)
    return integration

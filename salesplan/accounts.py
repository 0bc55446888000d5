"""People's own accounts: API tokens that expire and that a person rotates or revokes, a
sign-up confirmed by e-mail that never says whether an address has an account, and how
django-axes names the account a failed sign-in tried.

Pages (salesplan.views) and the API (salesplan.api.views) call the same functions."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from salesplan.models import CURRENCY_CHOICES, Organization
from salesplan.services import normalize_email, organization_create

User = get_user_model()

SIGNUP_SALT = "salesplan.accounts.signup"


# --- sign-in attempts (django-axes) -----------------------------------------------------------


def attempted_username(request: Any, credentials: dict[str, Any] | None = None) -> str:
    """The account a sign-in tried, as the forms normalize it ("Boss@X.com" is boss@x.com), so
    a lockout cannot be sidestepped by changing the case of an e-mail."""
    username = (credentials or {}).get("username")
    if username is None:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        username = data.get("username", "") if hasattr(data, "get") else ""
    return normalize_email(str(username or ""))


def client_address(request: Any) -> str:
    """The client's address as the API's throttles take it (REST_FRAMEWORK["NUM_PROXIES"]):
    the connection's, or the one the last trusted proxy saw in X-Forwarded-For."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        return hops[-min(proxies, len(hops))] if hops else remote
    return remote


def lockout_message() -> str:
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return _(
        "Too many failed sign-in attempts. Try again in %(minutes)d minutes, or reset your "
        "password by e-mail."
    ) % {"minutes": minutes}


def lockout_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


# --- API tokens -------------------------------------------------------------------------------


def token_expires_at(token: Token) -> datetime | None:
    """When the token stops working; None when tokens do not expire (API_TOKEN_TTL_DAYS=0)."""
    days = settings.API_TOKEN_TTL_DAYS
    return token.created + timedelta(days=days) if days > 0 else None


def token_expired(token: Token, *, now: datetime | None = None) -> bool:
    expires_at = token_expires_at(token)
    return expires_at is not None and expires_at <= (now or timezone.now())


def token_of(user: AbstractBaseUser) -> Token | None:
    return Token.objects.filter(user=user).first()


@transaction.atomic
def token_issue(*, user: AbstractBaseUser) -> Token:
    """The person's token after they proved their password: the one they have while it works,
    else a new one (an expired token is replaced, not revived)."""
    token = Token.objects.select_for_update().filter(user=user).first()
    if token is not None and not token_expired(token):
        return token
    return token_rotate(user=user)


@transaction.atomic
def token_rotate(*, user: AbstractBaseUser) -> Token:
    """A new key for the person; the old one stops working at once."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def token_revoke(*, user: AbstractBaseUser) -> bool:
    """The person's token stops working; a new one takes the password again."""
    deleted, _rows = Token.objects.filter(user=user).delete()
    return bool(deleted)


# --- sign-up confirmed by e-mail --------------------------------------------------------------


def _signup_link_age() -> int:
    return int(settings.PASSWORD_RESET_TIMEOUT)


def signup_request(
    *,
    email: str,
    organization_name: str,
    first_name: str,
    last_name: str = "",
    currency: str = "RUB",
    confirm_url_template: str,
    login_url: str,
    reset_url: str,
) -> None:
    """E-mail the address a link that creates the organization once the person sets a
    password. An address that already has an account gets a note to sign in or reset the
    password instead: the page answers the same either way, so it never tells whether an
    address has an account."""
    email = normalize_email(email)
    if User.objects.filter(username=email).exists():
        subject = _("Your Salesplan account")
        message = _(
            "Someone (perhaps you) tried to create a Salesplan organization with this e-mail, "
            "but it already has an account.\n\nSign in: %(login)s\nForgot the password? "
            "Reset it: %(reset)s\n\nIf it was not you, ignore this e-mail."
        ) % {"login": login_url, "reset": reset_url}
    else:
        token = signing.dumps(
            {
                "email": email,
                "organization": organization_name,
                "first_name": first_name,
                "last_name": last_name,
                "currency": currency,
            },
            salt=SIGNUP_SALT,
            compress=True,
        )
        subject = _("Confirm your Salesplan sign-up")
        message = _(
            "To create %(organization)s in Salesplan, open this link and choose a password "
            "(it works for %(hours)d hours):\n\n%(link)s\n\nIf it was not you, ignore this "
            "e-mail."
        ) % {
            "organization": organization_name,
            "hours": _signup_link_age() // 3600,
            "link": confirm_url_template.format(token=token),
        }
    transaction.on_commit(
        lambda: send_mail(
            subject=subject,
            message=message,
            from_email=None,
            recipient_list=[email],
            fail_silently=True,
        )
    )


def signup_details(token: str) -> dict[str, str] | None:
    """What a sign-up link carries, or None: forged, expired, or used (its e-mail has an
    account by now)."""
    try:
        data = signing.loads(token, salt=SIGNUP_SALT, max_age=_signup_link_age())
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(key), str)
        for key in ("email", "organization", "first_name", "last_name", "currency")
    ):
        return None
    if data["currency"] not in dict(CURRENCY_CHOICES):
        return None
    if User.objects.filter(username=normalize_email(data["email"])).exists():
        return None
    return data


@transaction.atomic
def signup_confirm(*, details: dict[str, str], password: str) -> Organization:
    """The organization and its owner from a sign-up link, with the password chosen now. A link
    used twice makes nothing the second time (ValueError)."""
    email = normalize_email(details["email"])
    if User.objects.filter(username=email).exists():
        raise ValueError("this sign-up link was used")
    return organization_create(
        name=details["organization"],
        owner_email=email,
        owner_password=password,
        owner_first_name=details["first_name"],
        owner_last_name=details["last_name"],
        currency=details["currency"],
    )

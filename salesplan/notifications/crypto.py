"""The organization's Telegram bot token, stored encrypted (Fernet, a key derived from
SECRET_KEY for this one purpose; SECRET_KEY_FALLBACKS still open it after a rotation)."""

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

KEY_INFO = b"salesplan notifications bot token v1"


def _fernet_key(secret_key: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_INFO)
    return base64.urlsafe_b64encode(derived.derive(secret_key.encode()))


def _cipher() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def seal(text: str) -> str:
    return _cipher().encrypt(text.encode()).decode("ascii") if text else ""


def unseal(sealed: str) -> str | None:
    """The text in clear; "" for none; None when no key of this deployment opens it."""
    if not sealed:
        return ""
    try:
        return _cipher().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None

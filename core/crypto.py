"""Encryption at rest for secrets a model must keep readable (OAuth tokens, provider keys).

``encrypt_text`` / ``decrypt_text`` use Fernet (AES-128-CBC + HMAC-SHA256, authenticated) through a
``MultiFernet``, so keys can be rotated: ``FIELD_ENCRYPTION_KEY`` holds one or more comma-separated
keys, the first encrypts and every one decrypts. A key is either a Fernet key
(``Fernet.generate_key()``, 44 url-safe base64 characters) or any passphrase, which is stretched to
a Fernet key with HKDF-SHA256. Without ``FIELD_ENCRYPTION_KEY`` a development server derives a key
from ``SECRET_KEY``; production (``ENVIRONMENT=production``, the default when ``DJANGO_DEBUG=0``)
refuses to encrypt without an explicit key, because rotating ``SECRET_KEY`` would otherwise make
every stored secret unreadable.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_HKDF_INFO = b"platform.core.crypto.field-encryption.v1"


class DecryptionError(Exception):
    """The text was not produced by any configured key (tampered, truncated or a retired key)."""


def encrypt_text(plaintext: str) -> str:
    """The Fernet token (url-safe ASCII) of ``plaintext`` under the current (first) key."""
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_text(ciphertext: str) -> str:
    """The text ``encrypt_text`` was given; ``DecryptionError`` if no configured key opens it."""
    try:
        return _fernet().decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("cannot decrypt: wrong key or corrupted value") from exc


def rotate_text(ciphertext: str) -> str:
    """Re-encrypt a stored value under the current key (after adding a new key in front)."""
    try:
        return _fernet().rotate(ciphertext.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("cannot rotate: wrong key or corrupted value") from exc


def _fernet() -> MultiFernet:
    # Keyed on the settings so tests that override them get a fresh instance.
    return _fernet_for(settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY, settings.ENVIRONMENT)


@lru_cache(maxsize=8)
def _fernet_for(field_keys: str, secret_key: str, environment: str) -> MultiFernet:
    keys = [key.strip() for key in field_keys.split(",") if key.strip()]
    if not keys:
        if environment == "production":
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set in production")
        keys = [secret_key]
    return MultiFernet([Fernet(_as_fernet_key(key)) for key in keys])


def _as_fernet_key(key: str) -> bytes:
    try:
        if len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32 and len(key) == 44:
            return key.encode("ascii")
    except (binascii.Error, ValueError, UnicodeError):
        pass
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(key.encode("utf-8"))
    return base64.urlsafe_b64encode(derived)

"""NextAuth.js v4 session tokens: the encrypted JWT in the ``next-auth.session-token`` cookie.

NextAuth v4 (``next-auth/jwt``) encrypts the session as a compact JWE with ``alg: dir`` and
``enc: A256GCM``. Its key is derived from ``NEXTAUTH_SECRET`` with HKDF-SHA256: input key material
the secret's UTF-8 bytes, an empty salt, info ``"NextAuth.js Generated Encryption Key"``, 32
bytes. Decoding allows 15 seconds of clock skew on ``exp``, as NextAuth's own ``decode`` does.

Tokens longer than a cookie can hold are split by NextAuth into ``<name>.0``, ``<name>.1``, ...;
the chunks are joined in order before decoding.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ENCRYPTION_KEY_INFO = b"NextAuth.js Generated Encryption Key"
CLOCK_TOLERANCE_SECONDS = 15
COOKIE_NAMES = ("__Secure-next-auth.session-token", "next-auth.session-token")


class InvalidSessionTokenError(Exception):
    """The token is malformed, was encrypted with another secret, or has expired."""


def derive_encryption_key(secret: str) -> bytes:
    """The 32-byte A256GCM key NextAuth v4 derives from ``secret``."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"", info=ENCRYPTION_KEY_INFO).derive(secret.encode())


def _b64url_decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidSessionTokenError("not base64url") from exc


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode_session_token(token: str, secret: str, *, now: float | None = None) -> dict[str, Any]:
    """The claims of a NextAuth v4 session token; ``InvalidSessionTokenError`` when it can't be trusted."""
    parts = token.strip().split(".")
    if len(parts) != 5:
        raise InvalidSessionTokenError("not a compact JWE")
    protected, encrypted_key, iv, ciphertext, tag = parts
    try:
        header = json.loads(_b64url_decode(protected))
    except ValueError as exc:
        raise InvalidSessionTokenError("bad header") from exc
    if not isinstance(header, Mapping) or header.get("alg") != "dir" or header.get("enc") != "A256GCM":
        raise InvalidSessionTokenError("unsupported algorithm")
    if encrypted_key:
        raise InvalidSessionTokenError("direct encryption carries no encrypted key")
    nonce = _b64url_decode(iv)
    if len(nonce) != 12:
        raise InvalidSessionTokenError("bad initialisation vector")
    try:
        # The additional authenticated data is the ASCII of the protected header (RFC 7516 5.1).
        plaintext = AESGCM(derive_encryption_key(secret)).decrypt(
            nonce, _b64url_decode(ciphertext) + _b64url_decode(tag), protected.encode("ascii")
        )
        claims = json.loads(plaintext)
    except (InvalidTag, ValueError) as exc:
        raise InvalidSessionTokenError("cannot decrypt") from exc
    if not isinstance(claims, dict):
        raise InvalidSessionTokenError("claims are not an object")
    current = time.time() if now is None else now
    expires = claims.get("exp")
    if not isinstance(expires, (int, float)) or expires + CLOCK_TOLERANCE_SECONDS < current:
        raise InvalidSessionTokenError("expired")
    not_before = claims.get("nbf")
    if isinstance(not_before, (int, float)) and not_before - CLOCK_TOLERANCE_SECONDS > current:
        raise InvalidSessionTokenError("not yet valid")
    return claims


def encode_session_token(claims: Mapping[str, Any], secret: str, *, iv: bytes | None = None) -> str:
    """Encrypt ``claims`` exactly as NextAuth v4's ``encode`` does (used by tests and tooling)."""
    import os

    protected = _b64url_encode(json.dumps({"alg": "dir", "enc": "A256GCM"}, separators=(",", ":")).encode())
    nonce = iv or os.urandom(12)
    sealed = AESGCM(derive_encryption_key(secret)).encrypt(
        nonce, json.dumps(dict(claims), separators=(",", ":")).encode(), protected.encode("ascii")
    )
    ciphertext, tag = sealed[:-16], sealed[-16:]
    return ".".join([protected, "", _b64url_encode(nonce), _b64url_encode(ciphertext), _b64url_encode(tag)])


def session_token_from_cookies(cookies: Mapping[str, str]) -> str | None:
    """The session token in ``cookies``: whole, or joined from NextAuth's numbered chunks."""
    for name in COOKIE_NAMES:
        if cookies.get(name):
            return cookies[name]
        chunks = []
        index = 0
        while cookies.get(f"{name}.{index}"):
            chunks.append(cookies[f"{name}.{index}"])
            index += 1
        if chunks:
            return "".join(chunks)
    return None

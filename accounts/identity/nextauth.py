"""NextAuth.js v4 and Auth.js v5 session tokens: the encrypted JWT in the session cookie.

Both encrypt the session as a compact JWE with ``alg: dir``; the key is derived from the app's
secret (``NEXTAUTH_SECRET``; Auth.js calls it ``AUTH_SECRET``) with HKDF-SHA256:

- NextAuth v4: cookie ``next-auth.session-token``, ``enc`` A256GCM, a 32-byte key with an empty
  salt and info ``NextAuth.js Generated Encryption Key``.
- Auth.js v5: cookie ``authjs.session-token``, ``enc`` A256CBC-HS512, a 64-byte key with the cookie
  name as salt and info ``Auth.js Generated Encryption Key (<cookie name>)``.

Over HTTPS each cookie carries the ``__Secure-`` prefix, and for v5 that prefixed name is the salt.
Auth.js v5 puts the key's JWK thumbprint in the header (``kid``); when present it must match. Tokens
longer than a cookie can hold are split into ``<name>.0``, ``<name>.1``, ...; the chunks are joined
in order before decoding. ``exp`` is checked with the libraries' 15 seconds of clock tolerance.

What the session says about its e-mail address is the app's own word: NextAuth's Credentials
provider (the minicontratos app signs users in with an e-mail and password it never confirms, and
as ``guest-<n>`` guests) proves nothing about the mailbox. So an address counts as verified only
when the token says so (``email_verified: true``, or an ``emailVerified`` date as Auth.js adapters
keep it), or when the deployment declares that its app signs in verified addresses only
(``NEXTAUTH_EMAILS_VERIFIED=1``, e.g. an e-mail magic-link or Google-only app). Guests never carry
an address.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from accounts.identity import VerifiedIdentity

CLOCK_TOLERANCE_SECONDS = 15
V4_ENCRYPTION_KEY_INFO = b"NextAuth.js Generated Encryption Key"
V4_COOKIE_NAMES = ("__Secure-next-auth.session-token", "next-auth.session-token")
V5_COOKIE_NAMES = ("__Secure-authjs.session-token", "authjs.session-token")
# Every cookie a session may come in, in the order they are tried.
COOKIE_NAMES = (*V5_COOKIE_NAMES, *V4_COOKIE_NAMES)
GUEST_EMAIL = re.compile(r"^guest-\d+$")


class InvalidSessionTokenError(Exception):
    """The token is malformed, was encrypted with another secret, or has expired."""


@dataclass(frozen=True)
class SessionCookie:
    name: str
    token: str


# --- Keys ------------------------------------------------------------------------------------------


def _hkdf(secret: str, *, salt: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(secret.encode())


def derive_encryption_key(secret: str) -> bytes:
    """The 32-byte A256GCM key NextAuth v4 derives from ``secret``."""
    return _hkdf(secret, salt=b"", info=V4_ENCRYPTION_KEY_INFO, length=32)


def derive_authjs_key(secret: str, cookie_name: str, enc: str) -> bytes:
    """The key Auth.js v5 derives from ``secret`` for a cookie (the salt) and content encryption."""
    length = {"A256CBC-HS512": 64, "A256GCM": 32}.get(enc)
    if length is None:
        raise InvalidSessionTokenError("unsupported content encryption")
    salt = cookie_name.encode()
    return _hkdf(secret, salt=salt, info=b"Auth.js Generated Encryption Key (" + salt + b")", length=length)


def _jwk_thumbprint(key: bytes) -> str:
    """RFC 7638 thumbprint of an ``oct`` key, with SHA-256 or SHA-512 by key size (as Auth.js)."""
    member = json.dumps({"k": _b64url_encode(key), "kty": "oct"}, separators=(",", ":")).encode()
    digest = hashlib.sha512 if len(key) == 64 else hashlib.sha256
    return _b64url_encode(digest(member).digest())


# --- Compact JWE, alg dir ---------------------------------------------------------------------------


def _b64url_decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidSessionTokenError("not base64url") from exc


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _cbc_hmac_tag(mac_key: bytes, aad: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    # RFC 7518 5.2.2.1: HMAC-SHA-512 over AAD || IV || ciphertext || AL, first 32 bytes.
    length_bits = (len(aad) * 8).to_bytes(8, "big")
    return hmac.new(mac_key, aad + iv + ciphertext + length_bits, hashlib.sha512).digest()[:32]


def _decrypt(enc: str, key: bytes, protected: str, iv: bytes, ciphertext: bytes, tag: bytes) -> bytes:
    aad = protected.encode("ascii")
    if enc == "A256GCM":
        if len(iv) != 12:
            raise InvalidSessionTokenError("bad initialisation vector")
        try:
            return AESGCM(key).decrypt(iv, ciphertext + tag, aad)
        except InvalidTag as exc:
            raise InvalidSessionTokenError("cannot decrypt") from exc
    if len(iv) != 16:
        raise InvalidSessionTokenError("bad initialisation vector")
    mac_key, enc_key = key[:32], key[32:]
    if not hmac.compare_digest(_cbc_hmac_tag(mac_key, aad, iv, ciphertext), tag):
        raise InvalidSessionTokenError("cannot decrypt")
    try:
        decryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise InvalidSessionTokenError("cannot decrypt") from exc


def _encrypt(enc: str, key: bytes, protected: str, plaintext: bytes, iv: bytes | None) -> tuple[bytes, bytes, bytes]:
    aad = protected.encode("ascii")
    if enc == "A256GCM":
        nonce = iv or os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, plaintext, aad)
        return nonce, sealed[:-16], sealed[-16:]
    nonce = iv or os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key[32:]), modes.CBC(nonce)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    return nonce, ciphertext, _cbc_hmac_tag(key[:32], aad, nonce, ciphertext)


def _check_times(claims: Any, now: float | None) -> dict[str, Any]:
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


def decode_session_token(
    token: str, secret: str, *, cookie_name: str = V4_COOKIE_NAMES[1], now: float | None = None
) -> dict[str, Any]:
    """The claims of a session token found in ``cookie_name``; ``InvalidSessionTokenError`` when it
    can't be trusted. A v4 cookie is decrypted as NextAuth v4 does, a v5 cookie as Auth.js v5 does."""
    parts = token.strip().split(".")
    if len(parts) != 5:
        raise InvalidSessionTokenError("not a compact JWE")
    protected, encrypted_key, iv, ciphertext, tag = parts
    try:
        header = json.loads(_b64url_decode(protected))
    except ValueError as exc:
        raise InvalidSessionTokenError("bad header") from exc
    if not isinstance(header, Mapping) or header.get("alg") != "dir" or encrypted_key:
        raise InvalidSessionTokenError("unsupported algorithm")
    enc = header.get("enc")
    if cookie_name in V5_COOKIE_NAMES:
        if enc not in ("A256CBC-HS512", "A256GCM"):
            raise InvalidSessionTokenError("unsupported content encryption")
        key = derive_authjs_key(secret, cookie_name, enc)
        kid = header.get("kid")
        if kid is not None and not hmac.compare_digest(str(kid), _jwk_thumbprint(key)):
            raise InvalidSessionTokenError("encrypted with another secret")
    else:
        if enc != "A256GCM":
            raise InvalidSessionTokenError("unsupported content encryption")
        key = derive_encryption_key(secret)
    plaintext = _decrypt(enc, key, protected, _b64url_decode(iv), _b64url_decode(ciphertext), _b64url_decode(tag))
    try:
        claims = json.loads(plaintext)
    except ValueError as exc:
        raise InvalidSessionTokenError("cannot decrypt") from exc
    return _check_times(claims, now)


def encode_session_token(
    claims: Mapping[str, Any], secret: str, *, cookie_name: str = V4_COOKIE_NAMES[1], iv: bytes | None = None
) -> str:
    """Encrypt ``claims`` as the app would for ``cookie_name`` (NextAuth v4's or Auth.js v5's
    ``encode``); for tests and tooling."""
    if cookie_name in V5_COOKIE_NAMES:
        enc = "A256CBC-HS512"
        key = derive_authjs_key(secret, cookie_name, enc)
        header = {"alg": "dir", "enc": enc, "kid": _jwk_thumbprint(key)}
    else:
        enc, key, header = "A256GCM", derive_encryption_key(secret), {"alg": "dir", "enc": "A256GCM"}
    protected = _b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    plaintext = json.dumps(dict(claims), separators=(",", ":")).encode()
    nonce, ciphertext, tag = _encrypt(enc, key, protected, plaintext, iv)
    return ".".join([protected, "", _b64url_encode(nonce), _b64url_encode(ciphertext), _b64url_encode(tag)])


# --- Cookies and identities ---------------------------------------------------------------------------


def session_cookie_from(cookies: Mapping[str, str]) -> SessionCookie | None:
    """The session cookie in ``cookies`` (Auth.js v5 first, then NextAuth v4): whole, or joined
    from the numbered chunks."""
    for name in COOKIE_NAMES:
        if cookies.get(name):
            return SessionCookie(name=name, token=cookies[name])
        chunks = []
        index = 0
        while cookies.get(f"{name}.{index}"):
            chunks.append(cookies[f"{name}.{index}"])
            index += 1
        if chunks:
            return SessionCookie(name=name, token="".join(chunks))
    return None


def nextauth_identity(claims: Mapping[str, Any], *, emails_verified: bool = False) -> VerifiedIdentity:
    """The identity a decrypted session asserts (see the module docstring for what counts as a
    verified address). ``InvalidSessionTokenError`` when it names no one."""
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    is_guest = claims.get("type") == "guest" or bool(email and GUEST_EMAIL.match(email))
    if email is not None and ("@" not in email or is_guest):
        email = None
    subject = str(claims.get("sub") or claims.get("id") or email or "")
    if not subject:
        raise InvalidSessionTokenError("the session names neither sub nor email")
    asserted = claims.get("email_verified") is True or bool(claims.get("emailVerified"))
    return VerifiedIdentity(
        provider="nextauth",
        subject=subject,
        email=email,
        email_verified=bool(email) and (asserted or emails_verified),
        display_name=str(claims.get("name") or ""),
        avatar_url=str(claims.get("picture") or ""),
    )

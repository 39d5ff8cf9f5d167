"""Verifying Clerk session tokens, and the development key that stands in for Clerk locally.

A Clerk session token is an RS256 JWT. It is verified against, in this order:

1. ``CLERK_JWT_PUBLIC_KEY`` (the PEM "JWT public key" of the Clerk dashboard), or
2. the key with the token's ``kid`` in the JWKS at ``CLERK_JWKS_URL`` (cached for
   ``CODER_CLERK_JWKS_CACHE_SECONDS``; an unknown ``kid`` refetches it, at most once a minute), or
3. only when ``DEBUG`` is on and neither is set: the development key pair in
   ``var/coder-dev-clerk-key.pem`` that ``manage.py coder_dev_clerk_token`` signs with.

Signature, ``exp`` and ``nbf`` are always checked (with ``CODER_CLERK_LEEWAY_SECONDS``), ``iss``
when ``CLERK_ISSUER`` is set, and ``azp`` when ``CODER_CLERK_AUTHORIZED_PARTIES`` is set.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.cache import cache

from coder import conf
from coder.errors import CLERK_TOKEN_INVALID
from core import errors

logger = logging.getLogger(__name__)

ALGORITHM = "RS256"
JWKS_REFETCH_MIN_SECONDS = 60


def clerk_token_verify(token: str) -> dict[str, Any]:
    """The claims of a valid Clerk session token; ``UNAUTHORIZED`` (401) for anything else."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise CLERK_TOKEN_INVALID("The Clerk token is not a JWT")
    if header.get("alg") != ALGORITHM:
        raise CLERK_TOKEN_INVALID(f"Clerk tokens are signed with {ALGORITHM}")
    key = _verification_key(header.get("kid"))
    issuer = settings.CLERK_ISSUER or None
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=issuer,
            leeway=conf.CLERK_LEEWAY_SECONDS,
            options={"require": ["exp", "sub"], "verify_aud": False, "verify_nbf": True, "verify_iat": True},
        )
    except jwt.ExpiredSignatureError:
        raise CLERK_TOKEN_INVALID("The Clerk token has expired")
    except jwt.ImmatureSignatureError:
        raise CLERK_TOKEN_INVALID("The Clerk token is not valid yet")
    except jwt.InvalidIssuerError:
        raise CLERK_TOKEN_INVALID("The Clerk token was issued by another Clerk instance")
    except jwt.PyJWTError:
        raise CLERK_TOKEN_INVALID()
    parties = conf.CLERK_AUTHORIZED_PARTIES
    if parties and claims.get("azp") not in parties:
        raise CLERK_TOKEN_INVALID("The Clerk token was issued for another application")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise CLERK_TOKEN_INVALID("The Clerk token has no subject")
    return claims


def _verification_key(kid: str | None):
    if settings.CLERK_JWT_PUBLIC_KEY:
        return _pem_public_key(settings.CLERK_JWT_PUBLIC_KEY)
    if settings.CLERK_JWKS_URL:
        return _jwks_key(settings.CLERK_JWKS_URL, kid)
    if settings.DEBUG:
        private_key = dev_private_key(create=False)
        if private_key is not None:
            return private_key.public_key()
        raise errors.SERVICE_UNAVAILABLE(
            "No Clerk key is configured; run `manage.py coder_dev_clerk_token` to create a development key"
        )
    raise errors.SERVICE_UNAVAILABLE("Clerk sign-in is not configured (CLERK_JWT_PUBLIC_KEY or CLERK_JWKS_URL)")


def _pem_public_key(pem: str):
    # Environment files often carry the PEM on one line with literal "\n".
    text = pem.replace("\\n", "\n").strip()
    try:
        return serialization.load_pem_public_key(text.encode())
    except ValueError:
        raise errors.SERVICE_UNAVAILABLE("CLERK_JWT_PUBLIC_KEY is not a PEM public key")


def _jwks_cache_key(url: str) -> str:
    return f"coder:clerk-jwks:{hashlib.sha256(url.encode()).hexdigest()[:16]}"


def _fetch_jwks(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=10.0, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError):
        logger.warning("Clerk JWKS could not be fetched")
        raise errors.SERVICE_UNAVAILABLE("Clerk's signing keys could not be fetched; try again shortly")
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise errors.SERVICE_UNAVAILABLE("Clerk's JWKS document has no keys")
    cache.set(_jwks_cache_key(url), document, timeout=conf.CLERK_JWKS_CACHE_SECONDS)
    return document


def _find_key(document: dict[str, Any], kid: str | None):
    candidates = [key for key in document["keys"] if isinstance(key, dict) and key.get("kty") == "RSA"]
    if kid is not None:
        candidates = [key for key in candidates if key.get("kid") == kid]
    elif len(candidates) != 1:
        return None  # without a kid, only an unambiguous key set can be used
    if not candidates:
        return None
    try:
        return jwt.PyJWK(candidates[0], algorithm=ALGORITHM).key
    except jwt.PyJWTError:
        return None


def _jwks_key(url: str, kid: str | None):
    document = cache.get(_jwks_cache_key(url)) or _fetch_jwks(url)
    key = _find_key(document, kid)
    # A new kid means Clerk rotated its keys: refetch, but not more than once a minute.
    if key is None and cache.add(f"{_jwks_cache_key(url)}:refetch", 1, timeout=JWKS_REFETCH_MIN_SECONDS):
        key = _find_key(_fetch_jwks(url), kid)
    if key is None:
        raise CLERK_TOKEN_INVALID("The Clerk token was signed with an unknown key")
    return key


# --- Development key -----------------------------------------------------------------------------


def dev_private_key(*, create: bool) -> rsa.RSAPrivateKey | None:
    """The development signing key; generated into ``CODER_DEV_CLERK_KEY_PATH`` when ``create``."""
    path = conf.DEV_CLERK_KEY_PATH
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not create:
        return None
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.touch(mode=0o600)
    path.write_bytes(pem)
    return key


def dev_public_key_pem() -> str:
    key = dev_private_key(create=True)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def dev_token_mint(
    *, subject: str, email: str | None = None, name: str = "", minutes: int = 60, issuer: str | None = None
) -> str:
    """A Clerk-format session token signed by the development key (``sub``, ``sid``, ``exp``, ...)."""
    key = dev_private_key(create=True)
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "sid": f"sess_{uuid.uuid4().hex[:24]}",
        "iss": issuer or settings.CLERK_ISSUER or conf.DEV_CLERK_ISSUER,
        "iat": now,
        "nbf": now - 5,
        "exp": now + minutes * 60,
        "azp": "http://localhost:3000",
    }
    if email:
        claims["email"] = email
    if name:
        claims["name"] = name
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": "dev-clerk-key"})

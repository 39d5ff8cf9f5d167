"""Clerk session tokens (coder's sign-in), and the development key that stands in for Clerk locally.

A Clerk session token is an RS256 JWT. It is verified against, in this order:

1. ``CLERK_JWT_PUBLIC_KEY`` (the PEM "JWT public key" of the Clerk dashboard), or
2. the key with the token's ``kid`` in the JWKS at ``CLERK_JWKS_URL`` (cached for
   ``CLERK_JWKS_CACHE_SECONDS``; an unknown ``kid`` refetches it, at most once a minute), or
3. outside production, when neither is set: this server's own development key
   (``CLERK_DEV_KEY_PATH``, generated with mode 0600 by ``manage.py coder_dev_clerk_token``).

Signature, ``exp`` and ``nbf`` are always checked (with ``CLERK_LEEWAY_SECONDS``), and so are the
issuer (``iss`` must be ``CLERK_ISSUER``) and the authorized party (``azp``, the front-end origin
the token was made for, must be one of ``CLERK_AUTHORIZED_PARTIES``). With a real Clerk key and
either left unset, no token is accepted (503), and ``check --deploy`` refuses production
(``accounts.checks``). The development key's tokens carry ``DEV_ISSUER`` and ``DEV_AUTHORIZED_PARTY``,
which are what a development server expects when nothing is configured.

Clerk's default session token carries no e-mail address. Add the custom claims
``{"email": "{{user.primary_email_address}}", "email_verified": "{{user.email_verified}}"}`` in
the Clerk dashboard ("Customize session token") for one person's Clerk sign-in to join the account
they already have elsewhere: only an address with ``email_verified: true`` links (docs/security.md).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.cache import cache

from accounts.errors import CLERK_TOKEN_INVALID
from accounts.identity import VerifiedIdentity
from core import errors

logger = logging.getLogger(__name__)

ALGORITHM = "RS256"
JWKS_REFETCH_MIN_SECONDS = 60
DEV_ISSUER = "https://clerk.development.invalid"
DEV_AUTHORIZED_PARTY = "http://localhost:3000"


@dataclass(frozen=True)
class _Expected:
    key: Any
    issuer: str
    parties: tuple[str, ...]


def clerk_token_verify(token: str) -> dict[str, Any]:
    """The claims of a valid Clerk session token; ``UNAUTHORIZED`` (401) for anything else, 503 when
    Clerk is not fully configured."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise CLERK_TOKEN_INVALID("The Clerk token is not a JWT")
    if header.get("alg") != ALGORITHM:
        raise CLERK_TOKEN_INVALID(f"Clerk tokens are signed with {ALGORITHM}")
    expected = _expected(header.get("kid"))
    try:
        claims = jwt.decode(
            token,
            expected.key,
            algorithms=[ALGORITHM],
            issuer=expected.issuer,
            leeway=settings.CLERK_LEEWAY_SECONDS,
            options={
                "require": ["exp", "sub", "iss", "azp"],
                "verify_aud": False,
                "verify_nbf": True,
                "verify_iat": True,
            },
        )
    except jwt.ExpiredSignatureError:
        raise CLERK_TOKEN_INVALID("The Clerk token has expired")
    except jwt.ImmatureSignatureError:
        raise CLERK_TOKEN_INVALID("The Clerk token is not valid yet")
    except jwt.InvalidIssuerError:
        raise CLERK_TOKEN_INVALID("The Clerk token was issued by another Clerk instance")
    except jwt.MissingRequiredClaimError as exc:
        raise CLERK_TOKEN_INVALID(f"The Clerk token has no {exc.claim}")
    except jwt.PyJWTError:
        raise CLERK_TOKEN_INVALID()
    if claims.get("azp") not in expected.parties:
        raise CLERK_TOKEN_INVALID("The Clerk token was issued for another application")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise CLERK_TOKEN_INVALID("The Clerk token has no subject")
    return claims


def clerk_identity(token: str) -> VerifiedIdentity:
    """Who a valid Clerk session token signs in: the Clerk user (``sub``), and the address of the
    ``email`` claim, verified only when the token says ``email_verified: true``."""
    claims = clerk_token_verify(token)
    email = _email_of(claims)
    name = claims.get("name") or " ".join(filter(None, [claims.get("first_name"), claims.get("last_name")]))
    return VerifiedIdentity(
        provider="clerk",
        subject=claims["sub"],
        email=email,
        email_verified=bool(email) and claims.get("email_verified") in (True, "true"),
        username_hint=str(claims.get("username") or ""),
        display_name=str(name or ""),
        avatar_url=str(claims.get("image_url") or claims.get("picture") or ""),
        data={"iss": claims.get("iss", ""), "azp": claims.get("azp", "")},
    )


def _email_of(claims: dict) -> str | None:
    for claim in ("email", "email_address", "primary_email_address"):
        value = claims.get(claim)
        if isinstance(value, str) and "@" in value:
            return value.strip()
    return None


def _expected(kid: str | None) -> _Expected:
    """The key, issuer and authorized parties a token must match."""
    if settings.CLERK_JWT_PUBLIC_KEY or settings.CLERK_JWKS_URL:
        if not settings.CLERK_ISSUER or not settings.CLERK_AUTHORIZED_PARTIES:
            raise errors.SERVICE_UNAVAILABLE(
                "Clerk sign-in is not fully configured (CLERK_ISSUER and CLERK_AUTHORIZED_PARTIES)"
            )
        key = (
            _pem_public_key(settings.CLERK_JWT_PUBLIC_KEY)
            if settings.CLERK_JWT_PUBLIC_KEY
            else _jwks_key(settings.CLERK_JWKS_URL, kid)
        )
        return _Expected(key, settings.CLERK_ISSUER, tuple(settings.CLERK_AUTHORIZED_PARTIES))
    if settings.PRODUCTION:
        raise errors.SERVICE_UNAVAILABLE("Clerk sign-in is not configured (CLERK_JWT_PUBLIC_KEY or CLERK_JWKS_URL)")
    private_key = dev_private_key(create=False)
    if private_key is None:
        raise errors.SERVICE_UNAVAILABLE(
            "No Clerk key is configured; run `manage.py coder_dev_clerk_token` to create a development key"
        )
    parties = tuple(settings.CLERK_AUTHORIZED_PARTIES) or (DEV_AUTHORIZED_PARTY,)
    return _Expected(private_key.public_key(), settings.CLERK_ISSUER or DEV_ISSUER, parties)


def _pem_public_key(pem: str):
    # Environment files often carry the PEM on one line with literal "\n".
    text = pem.replace("\\n", "\n").strip()
    try:
        return serialization.load_pem_public_key(text.encode())
    except ValueError:
        raise errors.SERVICE_UNAVAILABLE("CLERK_JWT_PUBLIC_KEY is not a PEM public key")


def _jwks_cache_key(url: str) -> str:
    return f"accounts:clerk-jwks:{hashlib.sha256(url.encode()).hexdigest()[:16]}"


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
    cache.set(_jwks_cache_key(url), document, timeout=settings.CLERK_JWKS_CACHE_SECONDS)
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
    """The development signing key; generated into ``CLERK_DEV_KEY_PATH`` (mode 0600) when ``create``."""
    path = settings.CLERK_DEV_KEY_PATH
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not create:
        return None
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made by a concurrent call: use that one
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return key


def dev_public_key_pem() -> str:
    key = dev_private_key(create=True)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def dev_token_mint(
    *,
    subject: str,
    email: str | None = None,
    email_verified: bool = True,
    name: str = "",
    minutes: int = 60,
    issuer: str | None = None,
    authorized_party: str | None = None,
) -> str:
    """A Clerk-format session token signed by the development key (``sub``, ``sid``, ``iss``, ``azp``,
    ``exp``, and the ``email`` / ``email_verified`` custom claims), shaped as a real one."""
    key = dev_private_key(create=True)
    now = int(time.time())
    parties = settings.CLERK_AUTHORIZED_PARTIES or [DEV_AUTHORIZED_PARTY]
    claims: dict[str, Any] = {
        "sub": subject,
        "sid": f"sess_{uuid.uuid4().hex[:24]}",
        "iss": issuer or settings.CLERK_ISSUER or DEV_ISSUER,
        "iat": now,
        "nbf": now - 5,
        "exp": now + minutes * 60,
        "azp": authorized_party or parties[0],
        "v": 2,
    }
    if email:
        claims["email"] = email
        claims["email_verified"] = email_verified
    if name:
        claims["name"] = name
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": "dev-clerk-key"})

"""HMAC-SHA256 signatures for webhooks, in (verify) and out (sign)."""

from __future__ import annotations

import hashlib
import hmac


def hmac_sha256_hex(secret: str | bytes, payload: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def sign_payload(secret: str | bytes, payload: bytes, *, prefix: str = "sha256=") -> str:
    """The signature header value for an outgoing webhook body, e.g. ``sha256=<hex>``."""
    return f"{prefix}{hmac_sha256_hex(secret, payload)}"


def verify_signature(secret: str | bytes, payload: bytes, signature: str | None, *, prefix: str = "sha256=") -> bool:
    """Constant-time check of a ``sha256=<hex>`` header against the raw body. False when absent,
    and for any header that is not ASCII (never raises)."""
    # compare_digest raises TypeError on non-ASCII str, and a WSGI header arrives latin-1 decoded.
    if not secret or not signature or not signature.isascii() or not signature.startswith(prefix):
        return False
    return hmac.compare_digest(sign_payload(secret, payload, prefix=prefix), signature)

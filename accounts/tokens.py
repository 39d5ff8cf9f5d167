"""The checks of every token a product hands out: access tokens, download links.

Each token names the product it was issued for, and ``accounts.products.accepts`` decides whether
the product reading it may take it: a marketplace access token is refused by cerebro's API and by
the coder socket, a marketplace download link by cerebro's download path. Refresh tokens are
checked the same way in ``accounts.services.auth_session_refresh``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from accounts import products, selectors
from accounts.models import User
from core import storage


def access_token_user(raw_token: str, *, product: str) -> tuple[User, AccessToken]:
    """The active user of an access token issued for ``product``, and the token.

    Signature, expiry and type are checked, then the product claim, then the token's session is
    read with its user in one query (``user_of_live_session``), where revocation is written, so a
    revoked or expired session is refused at once. ``AuthenticationFailed`` otherwise.
    """
    try:
        token = AccessToken(raw_token)
    except TokenError as exc:
        raise exceptions.AuthenticationFailed(_("Invalid or expired token")) from exc
    if not products.accepts(product=product, issued_for=token.get("product")):
        raise exceptions.AuthenticationFailed(_("This token was issued for another product"))
    user = selectors.user_of_live_session(token["sid"], product=product) if token.get("sid") else None
    if user is None or str(user.pk) != str(token.get(jwt_settings.USER_ID_CLAIM, "")):
        raise exceptions.AuthenticationFailed(_("Session has ended; sign in again"))
    if not user.is_active:
        raise exceptions.AuthenticationFailed(_("Account is disabled"))
    return user, token


def download_link_issue(
    *, product: str, cid: str, filename: str, content_type: str, ttl_seconds: int, subject: str = ""
) -> tuple[str, storage.DownloadGrant]:
    """A signed link token for one stored file, good on ``product``'s download path only. ``subject``
    names what the file belongs to, for the download path to check it still exists when used."""
    if product not in products.PRODUCTS:
        raise ValueError(f"unknown product {product!r}")
    return storage.sign_download(
        cid, product=product, filename=filename, content_type=content_type, ttl_seconds=ttl_seconds, subject=subject
    )


def download_link_grant(token: str, *, product: str) -> storage.DownloadGrant:
    """The grant of a link issued by ``product``; ``storage.InvalidDownloadTokenError`` for a link
    that is tampered with, expired, or issued by another product."""
    grant = storage.verify_download(token)
    if not products.accepts(product=product, issued_for=grant.product):
        raise storage.InvalidDownloadTokenError("issued for another product")
    return grant

"""``Authorization: Bearer <API key>``: an accounts API key of the telemetry product."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions

from accounts import selectors as account_selectors
from accounts.authentication import ApiKeyAuthentication
from accounts.services import api_key_touch
from telemetry import conf, selectors
from telemetry.services.keys import telemetry_key_for


class TelemetryApiKeyAuthentication(ApiKeyAuthentication):
    """The key travels as a bearer token; ``request.auth`` becomes its TelemetryKey (with account)."""

    header = "Authorization"
    product = conf.API_KEY_PRODUCT

    def authenticate(self, request):
        header = request.headers.get(self.header, "")
        if not header:
            return None
        scheme, _separator, raw_key = header.partition(" ")
        raw_key = raw_key.strip()
        if scheme.lower() != "bearer" or not raw_key:
            raise exceptions.AuthenticationFailed(_("Authorization must be 'Bearer <API key>'"))
        key = selectors.telemetry_key_by_raw(raw_key)
        if key is None:
            api_key = account_selectors.api_key_by_raw(raw_key, product=self.product)
            key = telemetry_key_for(api_key=api_key) if api_key is not None else None
        if key is None or not key.api_key.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid API key"))
        api_key_touch(api_key=key.api_key)
        return key.api_key.user, key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'

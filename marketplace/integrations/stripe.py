"""Stripe's REST API over httpx (``STRIPE_API_URL``, ``STRIPE_SECRET_KEY``): reading a PaymentIntent."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from marketplace import conf
from marketplace.errors import PAYMENT_PROVIDER_UNAVAILABLE


class StripeClient:
    def __init__(self, base_url: str | None = None, *, secret_key: str | None = None) -> None:
        self.base_url = (base_url if base_url is not None else conf.STRIPE_API_URL).rstrip("/")
        self.secret_key = secret_key if secret_key is not None else conf.STRIPE_SECRET_KEY
        self.timeout = conf.STRIPE_TIMEOUT_SECONDS

    def payment_intent(self, payment_intent_id: str) -> dict | None:
        """The PaymentIntent as Stripe describes it; None when Stripe knows no such intent.

        ``PAYMENT_PROVIDER_UNAVAILABLE`` when card payments are not configured, Stripe cannot be
        reached, or it answers with another error.
        """
        if not self.secret_key:
            raise PAYMENT_PROVIDER_UNAVAILABLE("Card payments are not configured (STRIPE_SECRET_KEY)")
        url = f"{self.base_url}/v1/payment_intents/{quote(payment_intent_id, safe='')}"
        try:
            response = httpx.get(url, headers={"Authorization": f"Bearer {self.secret_key}"}, timeout=self.timeout)
        except httpx.HTTPError:
            raise PAYMENT_PROVIDER_UNAVAILABLE("Stripe could not be reached")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise PAYMENT_PROVIDER_UNAVAILABLE("Stripe answered with an error")
        return response.json()

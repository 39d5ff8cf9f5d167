"""How marketplace requests sign in: a bearer JWT issued by ``/auth/login`` for this API.

Tokens minted for another API (coder, cerebro, ...) are refused: each API signs its users in its
own way, and a token is only as strong as the sign-in that issued it.
"""

from __future__ import annotations

from accounts import products
from accounts.authentication import ProductJWTAuthentication

PRODUCT = products.MARKETPLACE


class MarketplaceJWTAuthentication(ProductJWTAuthentication):
    product = PRODUCT

"""The products a token can be issued for, and the one rule every credential check applies.

Every credential the platform hands out names one product: access and refresh tokens carry a
``product`` claim, session cookies and API keys a ``product`` column, download links and e-mail
confirmation links a ``p`` field in their signed payload. A product accepts a credential only when
that name is its own. ``accounts.tokens`` checks tokens and links with ``accepts``; session cookies
and API keys are looked up with their product in the query (``accounts.selectors``). The HTTP
classes (``accounts.authentication``) and the WebSocket middleware (``accounts.websocket``) go
through those two and compare nothing themselves.
"""

from __future__ import annotations

CODER = "coder"
MARKETPLACE = "marketplace"
CEREBRO = "cerebro"
TELEMETRY = "telemetry"
ANALYTICS = "analytics"

PRODUCTS = frozenset({CODER, MARKETPLACE, CEREBRO, TELEMETRY, ANALYTICS})


def accepts(*, product: str, issued_for: object) -> bool:
    """True when a credential issued for ``issued_for`` may be used on ``product``: the same, known
    product. A credential that names no product (or a product that is not one of ours) is never
    accepted, so a token minted before products were recorded, or for a test product, fails closed."""
    return bool(product) and product in PRODUCTS and issued_for == product

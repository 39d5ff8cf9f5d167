"""Who someone is at an outside provider, verified here once for every product.

- ``clerk``: Clerk session tokens (coder's sign-in).
- ``siwe``: Sign-In with Ethereum messages (the marketplace's wallet sign-in).
- ``nextauth``: NextAuth v4 / Auth.js v5 session cookies (cerebro's sign-in).

Each turns a credential into a ``VerifiedIdentity``: the provider's subject, and an e-mail address
with whether the provider asserts it as verified. ``accounts.services.user_for_identity`` then finds
or creates the user, linking to an existing user only on a verified address (docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class VerifiedIdentity:
    provider: str
    subject: str
    email: str | None = None
    # True only when the provider itself asserts that the address was verified.
    email_verified: bool = False
    username_hint: str = ""
    display_name: str = ""
    avatar_url: str = ""
    data: dict = field(default_factory=dict)

"""Mint a Clerk-format session token for local development.

    .venv/bin/python manage.py coder_dev_clerk_token --email ada@example.com

The token is signed by a development RSA key generated into ``var/keys/clerk-dev-key.pem`` (mode
0600, this clone's own) on first use, and carries what a real Clerk token carries: ``iss`` (the
development issuer, or ``CLERK_ISSUER``), ``azp`` (``http://localhost:3000``, or the first of
``CLERK_AUTHORIZED_PARTIES``), ``sub``, ``sid``, and the ``email`` / ``email_verified`` custom
claims. A server outside production with no Clerk key configured trusts that key, so
``POST /coder/api/auth/login {"clerkToken": ...}`` signs in.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.identity.clerk import dev_public_key_pem, dev_token_mint


class Command(BaseCommand):
    help = "Print a Clerk-format session token signed by the development key the dev server trusts."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="developer@example.com")
        parser.add_argument(
            "--unverified-email", action="store_true", help="Say the address is not verified (email_verified: false)"
        )
        parser.add_argument("--sub", default="", help="Clerk user id (default: derived from the e-mail)")
        parser.add_argument("--name", default="Local Developer")
        parser.add_argument("--minutes", type=int, default=60, help="Lifetime of the token")
        parser.add_argument("--public-key", action="store_true", help="Print the development public key instead")

    def handle(self, *args, **options):
        if options["public_key"]:
            self.stdout.write(dev_public_key_pem())
            return
        subject = options["sub"] or "user_dev_" + options["email"].split("@")[0].replace(".", "_")
        token = dev_token_mint(
            subject=subject,
            email=options["email"],
            email_verified=not options["unverified_email"],
            name=options["name"],
            minutes=options["minutes"],
        )
        if settings.CLERK_JWT_PUBLIC_KEY or settings.CLERK_JWKS_URL or settings.PRODUCTION:
            self.stderr.write(
                "Note: this server verifies Clerk tokens with a real Clerk key (or runs in production), "
                "so it will not accept this development token."
            )
        self.stdout.write(token)

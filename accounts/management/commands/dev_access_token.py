"""Print a bearer access token of one product for a user, on a development machine.

    .venv/bin/python manage.py dev_access_token --product cerebro --email ada@example.com

For the APIs whose own sign-in a developer cannot easily go through locally (cerebro's comes from
the minicontratos app's NextAuth cookie, which Swagger UI cannot send). The token belongs to a new
session of that product (``accounts.services.auth_session_start``), for the user with that address
(made when there is none), and lives as long as any access token (15 minutes by default). Refused
in production, where tokens come only from each product's own sign-in.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import products
from accounts.models import User
from accounts.services import auth_session_start, user_get_or_create_for_email


class Command(BaseCommand):
    help = "Print a bearer access token of a product for the user with an e-mail address (not in production)."

    def add_arguments(self, parser):
        parser.add_argument("--product", required=True, choices=sorted(products.PRODUCTS))
        parser.add_argument("--email", default="developer@example.com")

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Refused in production: tokens come from each product's own sign-in there.")
        email = options["email"]
        user = User.objects.filter(email__iexact=email).order_by("date_joined").first()
        if user is None:
            user, _ = user_get_or_create_for_email(email=email)
        issued = auth_session_start(user=user, product=options["product"], user_agent="manage.py dev_access_token")
        self.stdout.write(issued.tokens.access)

"""A scratch PostgreSQL database next to DATABASE_URL's, for a bench module that writes rows it
cannot (or should not) clean up: created empty, Django's default connection pointed at it, dropped
on exit.

    with ScratchDatabase("ledger") as scratch:    # <name>_ledger_bench
        call_command("migrate", "ledger")
        with connect(scratch.settings, scratch.name) as raw: ...
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit


def connect(database: dict, name: str, **kwargs):
    """A psycopg connection to database ``name`` on the server of Django's ``database`` settings."""
    import psycopg

    return psycopg.connect(
        host=database.get("HOST") or None,
        port=database.get("PORT") or None,
        dbname=name,
        user=database.get("USER") or None,
        password=database.get("PASSWORD") or None,
        **kwargs,
    )


class ScratchDatabase:
    """Point Django's default connection at a fresh database ``<name>_<purpose>_bench``; drop it on exit."""

    def __init__(self, purpose: str) -> None:
        self.purpose = purpose

    def __enter__(self) -> ScratchDatabase:
        from django.conf import settings
        from django.db import connections

        self.settings = settings.DATABASES["default"]
        self.original = self.settings["NAME"]
        self.name = f"{self.original}_{self.purpose}_bench"[:63]
        with connect(self.settings, "postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{self.name}" TEMPLATE template0')
        connections["default"].close()
        self.settings["NAME"] = self.name
        connections["default"].settings_dict["NAME"] = self.name
        return self

    def __exit__(self, *exc_info) -> None:
        from django.db import connections

        connections["default"].close()
        self.settings["NAME"] = self.original
        connections["default"].settings_dict["NAME"] = self.original
        with connect(self.settings, "postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def url(self) -> str:
        """DATABASE_URL naming this database, for a server the module starts."""
        parts = urlsplit(os.environ["DATABASE_URL"])
        return urlunsplit(parts._replace(path=f"/{self.name}"))

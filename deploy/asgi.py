"""uvicorn for the full stack, started warm: `python -m deploy.asgi <uvicorn options>`.

Django imports a project's views on the first request, in each process; here that is several
seconds of CPU (the marketplace's Ethereum and data libraries), which a client would wait for
after every start or restart. This imports the ASGI application and every URL's view first, then
runs uvicorn's own command line with the arguments given. Under supervisord the uvicorn processes
share one listening socket (``--fd 0``), so while a restarted process warms up, the others take
every connection.
"""

from __future__ import annotations

import os
import sys

import uvicorn.main


def warm_up() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.db import connections
    from django.urls import get_resolver

    import config.asgi  # noqa: F401 - sets Django up and builds the application uvicorn will load

    get_resolver().url_patterns  # noqa: B018 - the import is the point
    connections.close_all()


def main(argv: list[str]) -> None:
    warm_up()
    uvicorn.main.main(argv, prog_name="uvicorn")


if __name__ == "__main__":
    main(sys.argv[1:])

"""A persistent PostgreSQL connection's health, checked without a round trip.

Django's ``CONN_HEALTH_CHECKS`` sends ``SELECT 1`` before the first query of every request that
uses the database: one more round trip a request (an authenticated read or a ledger append makes
only two or three of its own). ``close_dropped_connections`` runs instead at the start of each
request (``request_started``, after Django's own ``close_old_connections``) and of each Celery
task (``task_prerun``, where Django's health check ran too): it asks the
connection's socket, without waiting, whether anything is there to read. An idle connection
between requests has nothing to read; one the server ended (a restart, ``pg_terminate_backend``,
an idle timeout) has the server's last words or the end of the stream waiting, and is closed, so
the request opens a new one as the health check would have made it. What the socket cannot tell
is a peer that vanished without a word (a partition): that request's first query fails, as it
fails then with the health check's reconnect too, and Django closes the connection after it.
Connections from Django's pool (the ASGI servers) are the pool's to check, and are left alone.
"""

from __future__ import annotations

import select

from django.db import connections


def connection_was_dropped(raw_connection) -> bool:
    """True when the server has ended ``raw_connection`` (a psycopg connection between requests)."""
    if raw_connection.closed or raw_connection.broken:
        return True
    try:
        readable, _, _ = select.select([raw_connection.fileno()], [], [], 0)
    except (OSError, ValueError):  # the socket is gone
        return True
    return bool(readable)


def close_dropped_connections(**kwargs) -> None:
    """Close each idle PostgreSQL connection of this thread that its server has ended."""
    for connection in connections.all(initialized_only=True):
        if (
            connection.vendor != "postgresql"
            or connection.connection is None
            or connection.pool
            or connection.in_atomic_block
        ):
            continue
        if connection_was_dropped(connection.connection):
            connection.close()

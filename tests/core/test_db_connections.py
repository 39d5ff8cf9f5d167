"""core.db: a persistent PostgreSQL connection is checked by its socket at the start of a request,
not by a SELECT 1 round trip (Django's CONN_HEALTH_CHECKS), and one its server ended is replaced."""

from __future__ import annotations

import socket
import time
from unittest import mock

import psycopg
import pytest
from django.conf import settings
from django.core.signals import request_started
from django.db import connection, connections

from core.db import connection_was_dropped


class SocketConnection:
    """What connection_was_dropped reads of a psycopg connection, on one end of a socket pair."""

    def __init__(self, end: socket.socket) -> None:
        self.end, self.closed, self.broken = end, False, False

    def fileno(self) -> int:
        return self.end.fileno()


def test_an_idle_socket_is_healthy_and_one_with_anything_to_read_was_dropped():
    ours, servers = socket.socketpair()
    with ours, servers:
        assert connection_was_dropped(SocketConnection(ours)) is False
        servers.sendall(b"E")  # the server's last words (FATAL: terminating connection ...)
        assert connection_was_dropped(SocketConnection(ours)) is True
    end, other = socket.socketpair()
    with end:
        other.close()  # the end of the stream
        assert connection_was_dropped(SocketConnection(end)) is True


def test_a_connection_psycopg_knows_is_closed_or_broken_was_dropped():
    ours, servers = socket.socketpair()
    with ours, servers:
        broken = SocketConnection(ours)
        broken.broken = True
        assert connection_was_dropped(broken) is True


@pytest.mark.postgres
def test_no_select_1_round_trip_before_a_requests_first_query():
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_healthy_connection_is_kept_and_not_asked_anything():
    connection.ensure_connection()
    raw = connection.connection
    with mock.patch.object(type(connections["default"]), "is_usable", side_effect=AssertionError("a round trip")):
        request_started.send(sender=None)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 2")
            assert cursor.fetchone() == (2,)
    assert connection.connection is raw


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_its_server_ended_is_replaced_before_the_requests_first_query():
    connection.ensure_connection()
    ended = connection.connection
    pid = ended.info.backend_pid
    params = {key: value for key, value in connection.get_connection_params().items() if key != "cursor_factory"}
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        # Wait until the backend is gone, as a restart or an idle timeout would leave it.
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            time.sleep(0.01)

    request_started.send(sender=None)

    with connection.cursor() as cursor:  # without core.db: OperationalError, the request a 500
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
    assert connection.connection is not ended

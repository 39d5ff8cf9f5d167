"""core.db.prepared_cursor: the hot paths' fixed statements are prepared once per connection on
PostgreSQL (planned once, not on every execution), logged and wrapped as Django's own statements,
and plain statements on SQLite."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from accounts.selectors import user_of_live_session
from accounts.services import auth_session_start
from core.db import prepared_cursor
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STATEMENT = "SELECT CAST(%(n)s AS integer) + 1 AS next"


def prepared_statements() -> dict[str, tuple[int, int]]:
    """This connection's prepared statements: text -> (generic plans, custom plans)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        return {statement: (generic, custom) for statement, generic, custom in cursor.fetchall()}


def test_a_statement_answers_as_through_djangos_own_cursor():
    with prepared_cursor() as cursor:
        cursor.execute(STATEMENT, {"n": 41})
        prepared = cursor.fetchall()
    with connection.cursor() as cursor:
        cursor.execute(STATEMENT, {"n": 41})
        assert prepared == cursor.fetchall() == [(42,)]


def test_its_errors_are_djangos():
    with pytest.raises(DatabaseError), prepared_cursor() as cursor:
        cursor.execute("SELECT no_such_column FROM accounts_user")


@pytest.mark.postgres
def test_a_statement_is_prepared_once_and_then_planned_once_per_connection():
    # When the same statement runs seven times through prepared_cursor
    for n in range(7):
        with prepared_cursor() as cursor:
            cursor.execute(STATEMENT, {"n": n})
            assert cursor.fetchone() == (n + 1,)

    # Then PostgreSQL holds it prepared: five custom plans, as it always tries first, then the
    # generic plan it keeps
    generic, custom = prepared_statements()["SELECT CAST($1 AS integer) + 1 AS next"]
    assert (generic, custom) == (2, 5)


@pytest.mark.postgres
def test_djangos_own_statements_are_never_prepared():
    for n in range(7):
        with connection.cursor() as cursor:
            cursor.execute(STATEMENT, {"n": n})
    assert not [statement for statement in prepared_statements() if "AS next" in statement]


@pytest.mark.postgres
def test_a_prepared_statement_is_logged_with_its_parameters():
    with CaptureQueriesContext(connection) as queries, prepared_cursor() as cursor:
        cursor.execute(STATEMENT, {"n": 1234})
    assert [query["sql"] for query in queries.captured_queries] == ["SELECT CAST(1234 AS integer) + 1 AS next"]


@pytest.mark.postgres
def test_the_session_check_of_every_request_is_a_prepared_statement():
    session = auth_session_start(user=UserFactory(), product="cerebro").session
    assert user_of_live_session(session.pk, product="cerebro") is not None
    assert [statement for statement in prepared_statements() if "accounts_authsession" in statement]


@pytest.mark.postgres
def test_prepared_statements_are_on_by_default_and_can_be_turned_off_for_a_pooler():
    assert settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"] == 0
    read = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS']['prepare_threshold'])"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {read}"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_PREPARED_STATEMENTS": "0"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "None"


@pytest.mark.postgres
def test_with_them_off_a_statement_is_bound_on_the_server_and_never_prepared():
    connection.ensure_connection()
    threshold = connection.connection.prepare_threshold
    connection.connection.prepare_threshold = None  # what DATABASE_PREPARED_STATEMENTS=0 gives
    try:
        for n in range(7):
            with prepared_cursor() as cursor:
                cursor.execute(STATEMENT, {"n": n})
                assert cursor.fetchone() == (n + 1,)
    finally:
        connection.connection.prepare_threshold = threshold
    assert not [statement for statement in prepared_statements() if "AS next" in statement]

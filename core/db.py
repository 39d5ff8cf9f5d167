"""Fixed statements of the hot paths: prepared once per connection, and read into model instances.

``prepared_cursor`` runs a statement bound on the server and prepared on its first execution on a
connection, so PostgreSQL plans it once per connection instead of on every execution (Django's own
cursors bind on the client, and a client-bound statement is planned each time it runs: for
cerebro's working set the planning took a third of the statement's time, docs/BENCHMARKS.md).

The ORM compiles a queryset on each evaluation, and a raw queryset maps its cursor's columns to
the model's fields on each evaluation too; on the query that checks every request's session that
work cost more than the query (docs/BENCHMARKS.md). ``ModelRows`` does that mapping once: its
statement selects the model's concrete fields in order (``columns``), and a row becomes an
instance through Django's own converters (``SQLCompiler.get_converters``), found once per
database alias, and ``Model.from_db``, so the instance is the one a queryset would give.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Model
from django.db.models.sql import Query
from django.utils.asyncio import async_unsafe


@async_unsafe
def prepared_cursor(using: str = DEFAULT_DB_ALIAS) -> CursorWrapper:
    """A cursor for a fixed statement run on every request of a hot path.

    On PostgreSQL its parameters are bound on the server, and psycopg prepares each statement the
    first time the connection runs it (``prepare_threshold`` 0, set by
    ``DATABASE_PREPARED_STATEMENTS``; with it off the statement is bound on the server and planned
    each time). It is Django's cursor wrapper all the same: errors are Django's, the statement is
    logged and counted, execute wrappers apply. Elsewhere (SQLite) it is the connection's own cursor.

    A statement for it computes what depends on a parameter once (in a CTE or a scalar subquery),
    not per row: a generic plan cannot fold a function of a parameter into a constant as a
    client-bound statement's plan does with its literals.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return connection.cursor()
    import psycopg
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        cursor = psycopg.Cursor(connection.connection)
        # As Django's own cursors: the connection's time zone, should its adapters still hold another.
        timestamptz = psycopg.postgres.types["timestamptz"].oid
        loader = connection.connection.adapters.get_loader(timestamptz, psycopg.pq.Format.TEXT)
        if loader is not None and connection.timezone != loader.timezone:
            register_tzloader(connection.timezone, cursor)
    return _PreparedDebugCursor(cursor, connection) if connection.queries_logged else connection.make_cursor(cursor)


class _PreparedDebugCursor(CursorDebugWrapper):
    """Django's query log for a prepared statement. psycopg keeps no text of a prepared execution,
    where Django's log reads it (``last_executed_query`` gave None), so the statement is logged as
    Django logs a server-bound one: composed with its parameters."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return CursorWrapper.execute(self, sql, params)


class ModelRows:
    """Instances of ``model`` from rows whose columns are ``columns(...)``: its concrete fields, in order."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model
        self.fields = tuple(model._meta.concrete_fields)
        self.attnames = [field.attname for field in self.fields]
        self._columns: dict[tuple[str, str], str] = {}
        self._converters_by_alias: dict[str, list[tuple[int, list, Any]]] = {}

    def columns(self, table_alias: str, *, using: str) -> str:
        """The select list of a statement whose rows ``instance`` reads: ``alias."column", ...``."""
        columns = self._columns.get((table_alias, using))
        if columns is None:
            quote = connections[using].ops.quote_name
            columns = ", ".join(f"{table_alias}.{quote(field.column)}" for field in self.fields)
            self._columns[(table_alias, using)] = columns
        return columns

    def instance(self, row: Sequence[Any], *, using: str) -> Model:
        connection = connections[using]
        values = list(row)
        for position, field_converters, expression in self._converters(using):
            for convert in field_converters:
                values[position] = convert(values[position], expression, connection)
        return self.model.from_db(using, self.attnames, values)

    def _converters(self, using: str) -> list[tuple[int, list, Any]]:
        converters = self._converters_by_alias.get(using)
        if converters is None:
            compiler = Query(self.model).get_compiler(using)
            table = self.model._meta.db_table
            found = compiler.get_converters([field.get_col(table) for field in self.fields])
            converters = [(position, convs, expression) for position, (convs, expression) in found.items()]
            self._converters_by_alias[using] = converters
        return converters

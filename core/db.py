"""Model instances read by a fixed statement, for the queries every request makes.

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

from django.db import connections
from django.db.models import Model
from django.db.models.sql import Query


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

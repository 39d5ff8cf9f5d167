"""The rows the data migrations load are back after every test that flushes the database.

A transactional test (``django_db(transaction=True)``, ``transactional_db``, ``live_server``) ends
with Django flushing every table. The ``post_migrate`` signal then recreates content types and
permissions, but nothing reloads the rows the data migrations inserted (the coder's model catalog,
the marketplace's templates, telemetry's first pattern-set version). Django's and pytest-django's
answer is order: every plain ``db`` test runs before the transactional ones. Under pytest-xdist
that order no longer holds: a worker that has run its transactional tests takes plain tests from
another worker's queue (``--dist worksteal``), and those would find the catalog empty.

So, before the first transactional test of the run, this plugin keeps the rows every table other
than content types and permissions holds (on a freshly migrated test database, exactly the data
migrations' rows), and after each transactional test's flush it loads them again, with their
primary keys, the way Django's ``serialized_rollback`` does. Serial runs get the same treatment,
so a test sees a freshly migrated database whatever ran before it, in any order.

Registered from tests/conftest.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Generator

import pytest

_FLUSHING_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}


class _MigratedRows:
    """The serialized rows (Django's JSON format) and the blocker that lets us reach the database."""

    data: str | None = None
    blocker = None


_KEPT = _MigratedRows()


def flushes_the_database(item: pytest.Item) -> bool:
    """True for a test pytest-django runs as a ``TransactionTestCase`` (it flushes at teardown)."""
    marker = item.get_closest_marker("django_db")
    if marker is not None:
        transaction = marker.kwargs.get("transaction", marker.args[0] if marker.args else False)
        reset_sequences = marker.kwargs.get("reset_sequences", marker.args[1] if len(marker.args) > 1 else False)
        if transaction or reset_sequences:
            return True
    return bool(_FLUSHING_FIXTURES & set(getattr(item, "fixturenames", ())))


def _serialize_migrated_rows() -> str:
    from django.apps import apps
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.core import serializers

    recreated_by_post_migrate = {ContentType, Permission}
    models = [
        model
        for model in apps.get_models()
        if model._meta.managed
        and not model._meta.proxy
        and model not in recreated_by_post_migrate
        and model._base_manager.exists()
    ]
    ordered = serializers.sort_dependencies([(None, models)], allow_cycles=True)
    rows = itertools.chain.from_iterable(model._base_manager.order_by(model._meta.pk.name) for model in ordered)
    # Natural keys for foreign keys: the permissions of the staff groups (analytics 0004) are
    # recreated by post_migrate after a flush, under new primary keys.
    return serializers.serialize("json", rows, use_natural_foreign_keys=True)


@pytest.fixture(autouse=True)
def _migrated_rows_kept(request: pytest.FixtureRequest) -> None:
    """Before the first transactional test, while the database is as the migrations left it."""
    if _KEPT.data is not None or not flushes_the_database(request.node):
        return
    request.getfixturevalue("django_db_setup")
    _KEPT.blocker = request.getfixturevalue("django_db_blocker")
    with _KEPT.blocker.unblock():
        _KEPT.data = _serialize_migrated_rows()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    result = yield
    # After every fixture's teardown, so after the flush; never after the last test, whose teardown
    # also destroyed the test database.
    if nextitem is not None and _KEPT.data and flushes_the_database(item):
        from django.db import connection

        with _KEPT.blocker.unblock():
            connection.creation.deserialize_db_from_string(_KEPT.data)
            connection.close()
    return result

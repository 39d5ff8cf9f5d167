"""core.db.ModelRows: a row its statement reads becomes the instance a queryset gives, on SQLite and
PostgreSQL alike (the full-stack run covers PostgreSQL)."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from accounts.models import User
from accounts.selectors import user_of_live_session
from accounts.services import auth_session_revoke, auth_session_start
from core.db import ModelRows
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def field_values(instance):
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_a_row_becomes_the_instance_a_queryset_gives():
    user = UserFactory(
        email="rows@example.com",
        email_verified_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        last_login=datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC),
        display_name="Rows",
        is_staff=True,
    )
    rows = ModelRows(User)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.columns('u', using='default')} FROM accounts_user u WHERE u.id = %s",
            [User._meta.pk.get_db_prep_value(user.pk, connection)],
        )
        instance = rows.instance(cursor.fetchone(), using="default")
    assert field_values(instance) == field_values(User.objects.get(pk=user.pk))
    assert instance._state.adding is False
    assert instance._state.db == "default"
    assert instance == user


def test_the_session_check_reads_the_sessions_user_and_refuses_a_revoked_one(django_assert_num_queries):
    user = UserFactory(email_verified_at=datetime(2026, 5, 6, tzinfo=UTC))
    session = auth_session_start(user=user, product="cerebro").session
    with django_assert_num_queries(1):
        found = user_of_live_session(session.pk, product="cerebro")
    assert field_values(found) == field_values(User.objects.get(pk=user.pk))
    assert user_of_live_session(session.pk, product="coder") is None
    auth_session_revoke(session=session, reason="test")
    assert user_of_live_session(session.pk, product="cerebro") is None

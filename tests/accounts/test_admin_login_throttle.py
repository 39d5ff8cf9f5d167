"""/admin/login/ is throttled per account and per client (django-axes, counters in the cache)."""

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff(db):
    user = UserFactory(username="staffer", is_staff=True, is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def log_in(username: str, password: str, *, client_address: str = "192.0.2.1"):
    return Client(REMOTE_ADDR=client_address).post(LOGIN, {"username": username, "password": password})


def test_a_right_password_logs_in(staff):
    r = log_in("staffer", PASSWORD)

    assert r.status_code == 302, r.content[:300]


def test_an_account_is_locked_after_five_wrong_passwords_from_anywhere(staff):
    # given five wrong passwords for one account, each from another client: the fifth locks it
    wrong = [log_in("staffer", "guess", client_address=f"198.51.100.{n}").status_code for n in range(5)]

    # when a sixth client tries, even with the right password, it is refused
    locked = log_in("staffer", PASSWORD, client_address="203.0.113.7")

    assert wrong == [200] * 4 + [429]  # the form again, with its error, then the lockout
    assert locked.status_code == 429, locked.content[:300]
    assert b"Too many log-in attempts" in locked.content


def test_a_client_is_locked_after_five_wrong_passwords_for_any_accounts(staff):
    # given one client trying five accounts: the fifth locks the client out
    answers = [log_in(f"someone{n}", "guess", client_address="198.51.100.9").status_code for n in range(5)]
    assert answers == [200] * 4 + [429]

    # then it may not try the staff account either, while another client still may
    assert (r := log_in("staffer", PASSWORD, client_address="198.51.100.9")).status_code == 429, r.content
    assert (r := log_in("staffer", PASSWORD, client_address="203.0.113.50")).status_code == 302, r.content

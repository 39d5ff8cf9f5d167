"""GET/PUT /users/me and the credit ledger listing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from coder.models import CoderAccount, CreditTransaction
from coder.services.credits import account_ensure, credits_add, credits_debit
from core.errors import DomainError

pytestmark = pytest.mark.django_db

ME = "/coder/api/users/me"
TRANSACTIONS = "/coder/api/users/me/credits/transactions"


def test_me_has_the_spec_fields(signed_in, coder_user):
    r = signed_in.get(ME)

    assert r.status_code == 200, r.json()
    data = r.json()["data"]
    assert set(data) == {
        "id", "email", "username", "displayName", "avatarUrl", "credits", "totalCreditsUsed", "subscriptionTier",
        "isGithubConnected", "createdAt", "updatedAt",
    }  # fmt: skip
    assert data["id"] == str(coder_user.pk) and data["credits"] == 100 and data["totalCreditsUsed"] == 0


def test_me_creates_the_account_of_a_user_who_signed_in_elsewhere(api_client, user):
    from tests.conftest import bearer_for

    r = api_client.get(ME, **bearer_for(user, "coder"))

    assert r.status_code == 200, r.json()
    assert r.json()["data"]["credits"] == 100
    assert CreditTransaction.objects.filter(user=user, key=f"signup:{user.pk}").count() == 1


def test_put_me_updates_display_name_and_avatar(signed_in, coder_user):
    r = signed_in.put(ME, {"displayName": "New Name", "avatarUrl": "https://new-avatar-url.com/a.png"}, format="json")

    assert r.status_code == 200, r.json()
    assert r.json()["data"]["displayName"] == "New Name"
    coder_user.refresh_from_db()
    assert coder_user.avatar_url == "https://new-avatar-url.com/a.png"


@pytest.mark.parametrize("body", [{}, {"avatarUrl": "not a url"}, {"displayName": "x" * 151}])
def test_put_me_validates(signed_in, body):
    r = signed_in.put(ME, body, format="json")

    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"


@pytest.fixture
def ledger(coder_user):
    """Five ledger lines over five days: 100 -> credit 50 -> debit 30 -> refund 10 -> debit 20 -> credit 5."""
    moves = [("credit", 50), ("debit", 30), ("refund", 10), ("debit", 20), ("credit", 5)]
    now = timezone.now()
    for days_ago, (kind, amount) in zip(range(5, 0, -1), moves, strict=True):
        if kind == "debit":
            line = credits_debit(user_id=coder_user.pk, amount=amount, description="Task execution")
        else:
            line = credits_add(user_id=coder_user.pk, amount=amount, type=kind, description=kind)
        CreditTransaction.objects.filter(pk=line.pk).update(created_at=now - timedelta(days=days_ago))
    return now


def test_transactions_newest_first_with_balance_after_and_meta(signed_in, ledger):
    r = signed_in.get(TRANSACTIONS, {"limit": 2})

    assert r.status_code == 200, r.json()
    body = r.json()
    lines = body["data"]["transactions"]
    assert [(t["type"], t["amount"], t["balanceAfter"]) for t in lines] == [("credit", 5, 115), ("debit", -20, 110)]
    assert set(lines[0]) == {"id", "type", "amount", "description", "balanceAfter", "taskId", "createdAt"}
    assert (body["data"]["total"], body["data"]["page"], body["data"]["limit"]) == (5, 1, 2)
    assert body["meta"] == {"page": 1, "limit": 2, "total": 5, "totalPages": 3}


def test_transactions_filter_by_type_and_dates(signed_in, ledger):
    debits = signed_in.get(TRANSACTIONS, {"type": "debit"}).json()["data"]["transactions"]
    start, end = ledger - timedelta(days=4, hours=1), ledger - timedelta(days=2, hours=1)
    window = signed_in.get(TRANSACTIONS, {"startDate": start.isoformat(), "endDate": end.isoformat()}).json()["data"][
        "transactions"
    ]

    assert [t["amount"] for t in debits] == [-20, -30]
    assert [t["amount"] for t in window] == [10, -30]


@pytest.mark.parametrize(
    "query", [{"limit": 101}, {"limit": 0}, {"page": 0}, {"type": "gift"}, {"startDate": "yesterday"},
              {"startDate": "2024-02-01T00:00:00Z", "endDate": "2024-01-01T00:00:00Z"}]
)  # fmt: skip
def test_transactions_query_is_validated(signed_in, query):
    r = signed_in.get(TRANSACTIONS, query)

    assert r.status_code == 400, r.json()


def test_transactions_page_past_the_end_is_empty(signed_in, ledger):
    body = signed_in.get(TRANSACTIONS, {"page": 9}).json()

    assert body["data"]["transactions"] == [] and body["meta"]["total"] == 5


def test_transactions_query_count(signed_in, coder_user, django_assert_max_num_queries):
    for _ in range(40):
        credits_add(user_id=coder_user.pk, amount=1, description="grant")

    with django_assert_max_num_queries(4):
        r = signed_in.get(TRANSACTIONS, {"limit": 40})

    assert len(r.json()["data"]["transactions"]) == 40


def test_a_debit_larger_than_the_balance_changes_nothing(coder_user):
    with pytest.raises(DomainError) as raised:
        credits_debit(user_id=coder_user.pk, amount=101, description="too much")

    assert raised.value.code == "INSUFFICIENT_CREDITS" and raised.value.status == 402
    assert CoderAccount.objects.get(user=coder_user).credits == 100
    assert not CreditTransaction.objects.filter(user=coder_user).exists()


def test_a_keyed_movement_happens_once(coder_user):
    first = credits_add(user_id=coder_user.pk, amount=5, description="x", key="once")
    second = credits_add(user_id=coder_user.pk, amount=5, description="x", key="once")

    assert first is not None and second is None
    assert CoderAccount.objects.get(user=coder_user).credits == 105


def test_account_ensure_is_idempotent(user):
    first = account_ensure(user=user)
    second = account_ensure(user=user)

    assert first.pk == second.pk and second.credits == 100
    assert CreditTransaction.objects.filter(user=user).count() == 1

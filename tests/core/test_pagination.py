"""One pagination rule (core.pagination) behind every list: an out-of-range number is a 400 in the
API's own envelope, never a 500 from a database integer overflow."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from core import pagination
from core.errors import DomainError
from tests.coder.factories import CoderAccountFactory
from tests.conftest import bearer_for

HUGE = "99999999999999999999999"
PAST_BIGINT = str(2**63)


def _error_code(product: str, body: dict) -> str:
    """The error code where each API's envelope keeps it."""
    if product == "cerebro":
        return body["error"]
    return body["error"]["code"]


# (product whose token signs in, path, parameter)
PAGE_STYLE = [
    ("coder", "/coder/api/tasks", "page"),
    ("coder", "/coder/api/repositories", "page"),
    ("coder", "/coder/api/users/me/credits/transactions", "page"),
    ("marketplace", "/marketplace/v1/datasets", "page"),
    ("marketplace", "/marketplace/v1/models", "page"),
    ("marketplace", "/marketplace/v1/users/datasets", "page"),
    ("marketplace", "/marketplace/v1/users/models", "page"),
    ("marketplace", "/marketplace/v1/users/purchases", "page"),
    ("cerebro", "/cerebro/api/history", "offset"),
]


@pytest.fixture
def product_client(db):
    """``product_client(user, product)``: a client signed in as ``user`` on ``product``'s API (this module
    walks every API, so it names the product each time)."""

    def make(user, product: str) -> APIClient:
        client = APIClient()
        client.credentials(**bearer_for(user, product))
        return client

    return make


@pytest.fixture
def coder_user(user):
    CoderAccountFactory(user=user, credits=100)
    return user


@pytest.mark.django_db
@pytest.mark.parametrize("value", [HUGE, PAST_BIGINT, str(pagination.MAX_PAGE + 1)])
@pytest.mark.parametrize(("product", "path", "parameter"), PAGE_STYLE)
def test_an_out_of_range_page_or_offset_is_a_400_in_the_apis_envelope(
    product_client, coder_user, product, path, parameter, value
):
    # Given a signed-in user of the API
    client = product_client(coder_user, product)
    if parameter == "offset":
        value = str(int(value) * pagination.MAX_LIMIT)

    # When they ask for a page no database integer can hold
    r = client.get(path, {parameter: value})

    # Then the answer is a validation error naming the parameter, not a 500
    assert r.status_code == 400, r.json()
    assert _error_code(product, r.json()) in ("VALIDATION_ERROR", "validation_error"), r.json()
    assert parameter in str(r.json()), r.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("product", "path", "parameter"), [*PAGE_STYLE, *[(p, path, "limit") for p, path, _ in PAGE_STYLE]]
)
@pytest.mark.parametrize("value", ["\uff12", "\u0662", "2\u2003", "+\uff12", "1_0"])
def test_a_number_not_written_in_ascii_digits_is_a_400_in_the_apis_envelope(
    product_client, coder_user, product, path, parameter, value
):
    # Given a signed-in user of the API
    client = product_client(coder_user, product)

    # When a page, offset or limit is written in digits only Python's int() reads (full-width,
    # Arabic-Indic, with a Unicode space, with an underscore)
    r = client.get(path, {parameter: value})

    # Then the answer is a validation error naming the parameter
    assert r.status_code == 400, r.json()
    assert _error_code(product, r.json()) in ("VALIDATION_ERROR", "validation_error"), r.json()
    assert parameter in str(r.json()), r.json()


@pytest.mark.django_db
@pytest.mark.parametrize(("product", "path", "parameter"), PAGE_STYLE)
def test_the_last_allowed_page_or_offset_answers_an_empty_page(product_client, coder_user, product, path, parameter):
    client = product_client(coder_user, product)
    value = pagination.MAX_PAGE if parameter == "page" else pagination.MAX_OFFSET

    r = client.get(path, {parameter: value, "limit": 100})

    assert r.status_code == 200, r.json()


@pytest.fixture
def ledger_object(product_client, user) -> str:
    r = product_client(user, "cerebro").post(
        "/cerebro/api/ledger/objects", {"typeName": "contract", "data": {"title": "Lease"}}, format="json"
    )
    assert r.status_code == 200, r.json()
    return r.json()["object"]["id"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", [HUGE, PAST_BIGINT])
def test_the_ledger_transactions_of_an_object_refuse_a_huge_offset(product_client, user, ledger_object, value):
    transactions = f"/cerebro/api/ledger/objects/{ledger_object}/transactions"
    r = product_client(user, "cerebro").get(transactions, {"offset": value})

    assert r.status_code == 400, r.json()
    assert r.json()["error"] == "validation_error", r.json()
    assert "offset" in r.json()["details"], r.json()


@pytest.mark.django_db
def test_the_ledger_transactions_of_an_object_refuse_an_offset_in_full_width_digits(
    product_client, user, ledger_object
):
    transactions = f"/cerebro/api/ledger/objects/{ledger_object}/transactions"
    r = product_client(user, "cerebro").get(transactions, {"offset": "\uff11"})

    assert r.status_code == 400, r.json()
    assert r.json()["error"] == "validation_error", r.json()
    assert "offset" in r.json()["details"], r.json()


@pytest.mark.django_db
@pytest.mark.parametrize("value", [int(HUGE), 2**63, pagination.MAX_OFFSET + 1])
def test_the_ledger_filter_refuses_a_huge_offset(product_client, user, ledger_object, value):
    r = product_client(user, "cerebro").post(
        "/cerebro/api/ledger/objects", {"filter": {"typeName": "contract"}, "offset": value}, format="json"
    )

    assert r.status_code == 400, r.json()
    assert r.json()["error"] == "validation_error", r.json()
    assert "offset" in r.json()["details"], r.json()


@pytest.mark.django_db
def test_the_ledger_filter_pages_through_every_object(product_client, user):
    client = product_client(user, "cerebro")
    for number in range(3):
        r = client.post("/cerebro/api/ledger/objects", {"typeName": "note", "data": {"n": number}}, format="json")
        assert r.status_code == 200, r.json()

    first = client.post("/cerebro/api/ledger/objects", {"filter": {}, "limit": 2}, format="json").json()
    second = client.post("/cerebro/api/ledger/objects", {"filter": {}, "limit": 2, "offset": 2}, format="json").json()

    assert (first["total"], first["hasMore"], len(first["objects"])) == (3, True, 2), first
    assert (second["total"], second["hasMore"], len(second["objects"])) == (3, False, 1), second
    assert {o["id"] for o in first["objects"]}.isdisjoint(o["id"] for o in second["objects"])


@pytest.mark.django_db
def test_paginate_refuses_bounds_its_serializers_would_refuse(user):
    from accounts.models import User

    with pytest.raises(DomainError) as refused:
        pagination.paginate(User.objects.order_by("pk"), page=pagination.MAX_PAGE + 1, limit=10)
    assert refused.value.status == 400
    with pytest.raises(DomainError):
        pagination.paginate_offset(User.objects.order_by("pk"), offset=2**63, limit=10)
    with pytest.raises(DomainError):
        pagination.paginate_offset(User.objects.order_by("pk"), offset=0, limit=pagination.MAX_LIMIT + 1)

    page = pagination.paginate(User.objects.order_by("pk"), page=1, limit=10)
    assert (page.items, page.total, page.meta["totalPages"]) == ([user], 1, 1)


@pytest.mark.django_db
def test_cursor_pages_never_repeat_and_reach_the_oldest_row():
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import User
    from tests.factories import UserFactory

    # Given five users, two of them joined at the same moment (ties are broken by key)
    now = timezone.now()
    for minutes in (5, 4, 4, 2, 1):
        UserFactory(date_joined=now - timedelta(minutes=minutes))
    newest_first = list(User.objects.order_by("-date_joined", "-pk"))

    # When read two at a time, each page starting after the last row of the one before
    pages, after = [], None
    while True:
        page = pagination.paginate_cursor(User.objects.all(), order_field="date_joined", limit=2, after=after)
        pages.append(page.items)
        if not page.has_more:
            break
        after = page.items[-1]

    # Then every row comes once, in order, and reading back before a row gives the page before it
    assert [user for items in pages for user in items] == newest_first
    back = pagination.paginate_cursor(User.objects.all(), order_field="date_joined", limit=2, before=newest_first[3])
    assert back.items == newest_first[1:3] and back.has_more


def test_the_cursor_query_takes_one_direction():
    both = pagination.CursorQuerySerializer(data={"starting_after": "a", "ending_before": "b"})
    assert not both.is_valid()
    assert pagination.CursorQuerySerializer(data={"limit": 101}).is_valid() is False

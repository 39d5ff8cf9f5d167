"""The objects query's data filter (issue 15): keys are plain field names, operators an explicit
list; nothing a client sends becomes a Django lookup of its own choosing (``title__regex``)."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.django_db

OBJECTS = "/cerebro/api/ledger/objects"


@pytest.fixture
def contracts(owner_client) -> dict[str, dict]:
    made = {}
    for name, data in {
        "small": {"title": "Cleaning", "amount": 500, "currency": "EUR", "signed": True},
        "large": {"title": "Solar farm", "amount": 250000, "currency": "USD", "signed": False},
        "draft": {"title": "Solar roof", "amount": 12000, "currency": "EUR"},
        "tricky": {"regex": "(a+)+$", "title": "aaaaaaaaaaaaaaaaaaaaaaaa!"},
    }.items():
        r = owner_client.post(OBJECTS, {"typeName": "contract", "data": data}, format="json")
        assert r.status_code == 200, r.json()
        made[name] = r.json()["object"]
    return made


def titles_for(owner_client, data: dict) -> list[str]:
    r = owner_client.post(OBJECTS, {"filter": {"typeName": "contract", "data": data}}, format="json")
    assert r.status_code == 200, r.json()
    return sorted(o["data"].get("title", "") for o in r.json()["objects"])


@pytest.mark.parametrize(
    "key",
    ["title__regex", "title__iregex", "amount__gt", "title__contains", "__class__", "1st", "a b", "ti-tle", "x" * 65],
)
def test_a_key_that_is_not_a_plain_field_name_is_a_400_in_the_envelope(owner_client, contracts, key):
    started = time.monotonic()

    r = owner_client.post(OBJECTS, {"filter": {"data": {key: "(a+)+$"}}}, format="json")

    assert r.status_code == 400, r.json()
    assert r.json()["error"] == "validation_error"
    assert "field name" in r.json()["details"]["filter"]["data"][0]
    assert time.monotonic() - started < 1.0


def test_a_backtracking_pattern_is_never_run(owner_client, contracts):
    # On the old code this key became `data__title__regex` and the pattern ran in the database:
    # each character more doubled the time (24 characters: 2.4 s); an invalid one answered 503.
    started = time.monotonic()

    r = owner_client.post(OBJECTS, {"filter": {"data": {"title__regex": "(a|aa)+" * 4 + "$"}}}, format="json")
    invalid = owner_client.post(OBJECTS, {"filter": {"data": {"title__regex": "(unclosed"}}}, format="json")

    assert r.status_code == 400 and invalid.status_code == 400, invalid.json()
    assert time.monotonic() - started < 1.0


def test_a_key_named_like_a_lookup_is_just_a_field_of_the_data(owner_client, contracts):
    # "regex" as a key is the object's field "regex", compared for equality, never a lookup.
    assert titles_for(owner_client, {"regex": "(a+)+$"}) == ["aaaaaaaaaaaaaaaaaaaaaaaa!"]
    assert titles_for(owner_client, {"regex": "a"}) == []
    assert titles_for(owner_client, {"contains": "Solar"}) == []


@pytest.mark.parametrize(
    ("data", "titles"),
    [
        ({"currency": "EUR"}, ["Cleaning", "Solar roof"]),
        ({"currency": {"eq": "EUR"}}, ["Cleaning", "Solar roof"]),
        ({"currency": {"ne": "EUR"}}, ["Solar farm"]),  # present and different
        ({"currency": {"ne": "EUR"}, "amount": {"exists": True}}, ["Solar farm"]),
        ({"amount": {"gte": 12000}}, ["Solar farm", "Solar roof"]),
        ({"amount": {"gt": 500, "lt": 250000}}, ["Solar roof"]),
        ({"amount": {"lte": 500}}, ["Cleaning"]),
        ({"currency": {"in": ["USD", "GBP"]}}, ["Solar farm"]),
        ({"title": {"contains": "solar"}}, ["Solar farm", "Solar roof"]),
        ({"title": {"contains": "%"}}, []),
        ({"signed": {"exists": False}, "amount": {"exists": True}}, ["Solar roof"]),
        ({"signed": True}, ["Cleaning"]),
    ],
)
def test_the_operators(owner_client, contracts, data, titles):
    assert titles_for(owner_client, data) == titles


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"amount": {"regex": "5.*"}}, "unknown operator 'regex'"),
        ({"amount": {}}, "name an operator"),
        ({"amount": {"gt": True}}, "compare with a number or a string"),
        ({"amount": {"in": []}}, "a list of 1 to 100"),
        ({"amount": {"in": [{"a": 1}]}}, "a list of 1 to 100"),
        ({"title": {"contains": ""}}, "a text of 1 to 200"),
        ({"title": {"exists": "yes"}}, "true or false"),
        ({"party": {"name": "x"}}, "unknown operator 'name'"),
        ({"party": ["x"]}, "compare with a string, number, boolean or null"),
        ({f"k{n}": n for n in range(21)}, "At most 20 conditions"),
    ],
)
def test_an_invalid_condition_names_its_problem(owner_client, contracts, data, problem):
    r = owner_client.post(OBJECTS, {"filter": {"data": data}}, format="json")

    assert r.status_code == 400, r.json()
    assert problem in r.json()["details"]["filter"]["data"][0]

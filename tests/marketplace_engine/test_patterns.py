"""Pattern-driven strings: any regular expression RE2 runs (and Python parses), matched in full."""

from __future__ import annotations

import time

import numpy as np
import orjson
import pytest
import re2
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import DomainError
from marketplace.engine.regex import pattern_generator
from tests.marketplace.conftest import API, client_for
from tests.marketplace.factories import WalletProfileFactory
from tests.marketplace_engine.conftest import field, request_for, rows_of

PATTERNS = [
    r"^[A-Z]{3}-\d{4}$",
    r"ORD-[0-9]{8}",
    r"(cat|dog|bird)s?",
    r"[a-z]+@[a-z]+\.(com|org)",
    r"\w{2,5}\s\W",
    r"[^abc]{3}",
    r"[é-ï]{2}x",
    r"(?i)hello",
    r"a*b+c?",
    r".{0,3}",
    r"\bfoo\b",
    "[\u4e00-\u4e0f]{1,3}",
    r"\d{3}(-\d{2})?",
    r"[A-F0-9]{8}-[A-F0-9]{4}",
    r"(?:ab){2,4}",
    r"(x|yz){1,3}q",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_every_value_matches_the_whole_pattern(pattern):
    column = rows_of(request_for([field("v", "string", pattern=pattern, required=True)], 2000)).column(0)
    compiled = re2.compile(pattern)
    assert all(compiled.fullmatch(value) for value in column.to_pylist()), pattern


def test_alternatives_and_optional_parts_are_all_used():
    column = rows_of(request_for([field("v", "string", pattern=r"(cat|dog)s?", required=True)], 500)).column(0)
    assert set(column.to_pylist()) == {"cat", "cats", "dog", "dogs"}


def test_fixed_length_patterns_can_be_decoded_from_an_index():
    generator = pattern_generator(r"[A-C]{2}\d")
    positions = generator.positions()
    assert [len(choices) for choices in positions] == [3, 3, 10]


def test_pattern_and_length_bounds_together_are_honoured():
    column = rows_of(request_for([field("v", "string", pattern=r"[a-z]{1,12}", min=4, max=6, required=True)], 1000))
    assert all(4 <= len(value) <= 6 for value in column.column(0).to_pylist())


def test_a_fixed_length_pattern_outside_the_length_bounds_is_refused():
    with pytest.raises(DomainError, match="outside the length bounds"):
        rows_of(request_for([field("v", "string", pattern=r"\d{4}", max=3)], 10))


def test_a_pattern_nothing_can_match_fails_clearly():
    with pytest.raises(DomainError, match="'v'"):
        rows_of(request_for([field("v", "string", pattern=r"a^b", required=True)], 10))


def test_generation_is_vectorised_for_a_whole_column():
    generator = pattern_generator(r"[A-Z]{3}-\d{4}")
    values = generator.generate(np.random.default_rng(0), 100_000)
    assert len(values) == 100_000 and generator.exact


@pytest.mark.parametrize(
    ("pattern", "named"),
    [
        (r"(a|b)\1", "backreference"),
        (r"(?P<y>\d\d)-(?P=y)", "backreference"),
        (r"(?=.*\d)[a-z0-9]{6}", "lookahead"),
        (r"(?!x)[xyz]{2}", "negative lookahead"),
        (r"(?<=a)b", "lookbehind"),
        (r"(?>ab)c", "atomic group"),
        (r"a++b", "possessive"),
        (r"(a)?(?(1)b|c)", "conditional"),
        (r"abc\Z", "RE2 cannot run it"),
    ],
)
def test_a_pattern_that_needs_backtracking_is_refused_naming_the_construct(pattern, named):
    with pytest.raises(DomainError, match=named):
        rows_of(request_for([field("v", "string", pattern=pattern, required=True)], 10))


# --- through the API: every client pattern is RE2's, or a 400 naming the construct ----------------

# On Python's backtracking ``re``, a value of k ``a`` followed by ``c`` costs 2^k steps to refuse
# (k up to 40 here: days); RE2 answers in time linear in the value.
BACKTRACKING_BOMB = r"(a|a){1,40}(\bc|d)"


@pytest.mark.django_db
@pytest.mark.timeout(60)
def test_a_preview_checks_generated_values_in_linear_time(creator_client):
    # Given a pattern whose values are checked one by one (the word boundary), and that makes a
    # backtracking matcher take exponential time on half of them
    schema = [field("code", "string", pattern=BACKTRACKING_BOMB, required=True)]

    # When a preview is asked for
    started = time.monotonic()
    r = creator_client.post(f"{API}/generation/preview", {"config": {"schema": schema, "rows": 20}}, format="json")

    # Then it answers at once, with values that all match
    assert r.status_code == 200, r.json()
    assert time.monotonic() - started < 10
    values = [row["code"] for row in r.json()["preview"]]
    assert len(values) == 20 and all(re2.fullmatch(BACKTRACKING_BOMB, value) for value in values), values


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_a_verified_dataset_of_a_backtracking_pattern_is_generated_and_verified_in_linear_time(engine_registered):
    # Given a dataset whose every row is verified against the pattern
    client = client_for(WalletProfileFactory().user)
    body = {
        "name": "codes",
        "category": "testing",
        "schema": [field("code", "string", pattern=BACKTRACKING_BOMB, required=True)],
        "config": {"rows": 2000, "format": "csv", "verification": True},
    }

    # When it is created (the job runs in-process here)
    started = time.monotonic()
    r = client.post(f"{API}/datasets", body, format="json")

    # Then the job is complete, fully verified, in seconds
    assert r.status_code == 201, r.json()
    job = client.get(f"{API}/generation/jobs/{r.json()['generationJob']['id']}").json()["job"]
    assert job["status"] == "completed", job
    assert job["result"]["verification"]["full"] is True and job["result"]["verification"]["violations"] == 0, job
    assert time.monotonic() - started < 60


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("pattern", "named"),
    [
        (r"^(\w+)\s\1$", "backreference"),
        (r"(?=.*\d)[a-z0-9]{8}", "lookahead"),
        (r"(?<!x)y", "negative lookbehind"),
        (r"(?>a|ab)c", "atomic group"),
    ],
)
def test_a_pattern_needing_backtracking_is_a_400_naming_the_construct(creator_client, pattern, named):
    schema = [field("code", "string", pattern=pattern)]

    created = creator_client.post(
        f"{API}/datasets", {"name": "x", "category": "c", "schema": schema, "config": {"rows": 10}}, format="json"
    )
    previewed = creator_client.post(f"{API}/generation/preview", {"config": {"schema": schema}}, format="json")

    for r in (created, previewed):
        assert r.status_code == 400, r.json()
        error = r.json()["error"]
        assert error["code"] == "VALIDATION_ERROR", error
        assert named in error["message"] and "RE2" in error["message"], error
        assert "constraints.pattern" in str(error["details"]["schema[0]"]), error


@pytest.mark.django_db
def test_an_uploaded_schema_file_with_a_lookahead_is_refused(creator_client):
    schema_file = SimpleUploadedFile(
        "schema.json", orjson.dumps([field("code", "string", pattern=r"(?=x)x+")]), content_type="application/json"
    )

    r = creator_client.post(f"{API}/storage/upload", {"file": schema_file, "type": "schema"}, format="multipart")

    assert r.status_code == 400, r.json()
    assert "lookahead" in r.json()["error"]["message"], r.json()

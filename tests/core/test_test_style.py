"""The tests' own house rules (docs/testing.md), checked so that a new test copies the right example."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent

# `assert r.status_code == 201` with nothing after it: a failure would show two numbers, not why.
BARE_STATUS_ASSERTION = re.compile(r"^\s*assert .*status_code == \d+\s*(#.*)?$")


def test_every_status_assertion_shows_the_answer_on_failure():
    bare = [
        f"{path.relative_to(TESTS)}:{number}"
        for path in sorted(TESTS.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if BARE_STATUS_ASSERTION.match(line)
    ]

    assert bare == [], "add the body (`, r.json()` or `, r.content`; a streamed answer: `, r`):\n" + "\n".join(bare)

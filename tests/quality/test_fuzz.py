"""Fuzzing gate: Schemathesis against each API's own OpenAPI document on a live gunicorn.

Each API is fuzzed through its ``<base>/schema/`` with a valid credential of its own scheme (a
staff user, so staff-only operations are reached too). Three phases run: the documented examples,
the coverage phase (boundary and invalid values of every parameter, deterministic) and random
generation (``QUALITY_FUZZ_EXAMPLES`` cases per operation, 5 by default; the seed is fixed so a
CI failure reproduces, ``QUALITY_FUZZ_SEED`` changes it).

What fails the gate (every Schemathesis check, except two that are reported only):

- any 5xx (``not_a_server_error``), outside the few documented 503s of an outside service that
  is not configured here (``tests/quality/schemathesis.toml``);
- a status code the document does not list, a body that does not match the documented schema
  (errors included, so the error envelope is checked too), a wrong or missing content type, a
  missing documented header.

Reported, not failing: ``ST201`` (a request outside the schema was accepted) and ``ST202`` (a
request inside the schema was refused). They measure how precisely the document describes the
validation rules, and some rules cannot be written in OpenAPI at all (an Ethereum signature that
must verify, a file that must parse as the declared type). ``ignored_auth`` is not run: with a
fixed credential header it cannot send an unauthenticated request; tests/quality/
test_authorization.py covers anonymous and foreign callers instead.

The number of generated cases per API is printed in the "quality gates" section at the end of the
pytest run (and appended to ``QUALITY_REPORT_FILE`` when set).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from accounts import services as account_services
from tests.factories import UserFactory
from tests.integration.conftest import VENV_BIN

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CONFIG_FILE = Path(__file__).with_name("schemathesis.toml")
EXAMPLES_PER_OPERATION = int(os.environ.get("QUALITY_FUZZ_EXAMPLES", "5"))
SEED = int(os.environ.get("QUALITY_FUZZ_SEED", "20261123"))
FUZZ_TIMEOUT_SECONDS = 280
# Precision of the document's validation rules: reported, not failing (see the module docstring).
REPORTED_ONLY = {"ST201", "ST202"}
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
    "response_schema_conformance,negative_data_rejection,positive_data_acceptance,missing_required_header,"
    "unsupported_method,allow_header_conformance,use_after_free,ensure_resource_availability"
)


def bearer(product: str) -> Callable:
    def headers(user) -> dict[str, str]:
        issued = account_services.auth_session_start(user=user, product=product)
        return {"Authorization": f"Bearer {issued.tokens.access}"}

    return headers


def staff_session(user) -> dict[str, str]:
    """The admin session of a staff user, with its CSRF token: all analytics' staff endpoint takes."""
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    client = Client()
    user.refresh_from_db()
    client.force_login(user)
    csrf = _get_new_csrf_string()
    session = client.cookies["sessionid"].value
    return {"Cookie": f"sessionid={session}; csrftoken={csrf}", "X-CSRFToken": csrf}


def telemetry_key(user) -> dict[str, str]:
    from telemetry.services.keys import api_key_issue

    issued = api_key_issue(email=user.email)
    return {"Authorization": f"Bearer {issued.raw_key}", "X-User-Id": "anon-quality-fuzzer"}


@dataclass(frozen=True)
class FuzzedApi:
    name: str
    base_path: str
    credentials: Callable[[object], dict[str, str]]


APIS = [
    pytest.param(FuzzedApi("marketplace", "/marketplace/v1", bearer("marketplace")), id="marketplace"),
    pytest.param(FuzzedApi("coder", "/coder", bearer("coder")), id="coder"),
    pytest.param(FuzzedApi("telemetry", "/telemetry", telemetry_key), id="telemetry"),
    pytest.param(FuzzedApi("analytics", "/analytics/api/v1", staff_session), id="analytics"),
    pytest.param(FuzzedApi("cerebro", "/cerebro", bearer("cerebro")), id="cerebro"),
]


@dataclass(frozen=True)
class FuzzOutcome:
    cases: int
    operations: int
    failures: list[dict]
    errors: list[dict]
    output: str

    @property
    def gating(self) -> list[dict]:
        return [failure for failure in self.failures if failure["code"] not in REPORTED_ONLY]

    @property
    def reported(self) -> list[dict]:
        return [failure for failure in self.failures if failure["code"] in REPORTED_ONLY]

    def failures_text(self, limit: int = 12_000) -> str:
        """The FAILURES and ERRORS sections of the Schemathesis output, credentials filtered."""
        match = re.search(r"=+ (ERRORS|FAILURES) =+.*?(?==+ (WARNINGS|SUMMARY) =+)", self.output, re.S)
        text = match.group(0) if match else self.output[-limit:]
        return text[:limit]


def summarize(failures: list[dict]) -> str:
    return "; ".join(f"{f['code']} {f['title']} x{f['count']}: {', '.join(f['operations'])}" for f in failures)


def run_schemathesis(server_url: str, api: FuzzedApi, headers: dict[str, str], workdir: Path) -> FuzzOutcome:
    report_path = workdir / f"schemathesis-{api.name}.json"
    command = [
        str(VENV_BIN / "schemathesis"),
        "--config-file",
        str(CONFIG_FILE),
        "--no-color",
        "run",
        f"{server_url}{api.base_path}/schema/?format=json",
        "--url",
        server_url,
        "--phases",
        "examples,coverage,fuzzing",
        "--checks",
        CHECKS,
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--seed",
        str(SEED),
        # One worker: hypothesis' strategy descriptions are not thread-safe on CPython 3.11.
        "--workers",
        "1",
        "--no-shrink",
        "--continue-on-failure",
        "--generation-with-security-parameters",
        "false",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--report",
        "json",
        "--report-json-path",
        str(report_path),
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    completed = subprocess.run(  # the report decides, not the exit code
        command, cwd=workdir, capture_output=True, text=True, timeout=FUZZ_TIMEOUT_SECONDS
    )
    output = completed.stdout + completed.stderr
    if not report_path.exists():
        pytest.fail(f"schemathesis wrote no report (exit {completed.returncode}):\n{output[-6000:]}")
    report = json.loads(report_path.read_text())
    return FuzzOutcome(
        cases=report["test_cases"]["generated"],
        operations=report["operations"]["tested"],
        failures=report["failures"],
        errors=report["errors"],
        output=output,
    )


@pytest.mark.parametrize("api", APIS)
def test_api_survives_fuzzing_and_matches_its_document(api, quality_server, quality_report, tmp_path):
    # Given a staff user signed in with the API's own credential
    staff = UserFactory(is_staff=True)
    headers = api.credentials(staff)

    # When Schemathesis fuzzes every operation of the API's document on the live server
    outcome = run_schemathesis(quality_server.url, api, headers, tmp_path)
    quality_report.add(
        f"fuzz {api.name}: {outcome.cases} cases over {outcome.operations} operations; "
        f"failing: {len(outcome.gating)}; errors: {len(outcome.errors)}"
        + (f"; reported only: {summarize(outcome.reported)}" if outcome.reported else "")
    )

    # Then it generated cases, no server error happened and every answer matched the document
    assert outcome.cases > 0 and outcome.operations > 0, outcome.output[-4000:]
    assert not outcome.errors, f"schemathesis errors {outcome.errors}:\n{outcome.failures_text()}"
    assert not outcome.gating, f"{summarize(outcome.gating)}\n{outcome.failures_text()}"

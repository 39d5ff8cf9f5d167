"""The NextGen CLI's cloud client (issue 16): its requests, built the way it builds them, work.

The client (Avinash-1994/Nexxo, ``src/ai/cloud/api.ts`` and ``telemetry.ts``) hashes
``error.signature + JSON.stringify(error.context)`` and ``JSON.stringify(fix)`` with SHA-256, takes
``framework`` from the error's context (``'unknown'`` when there is none), sends durations as
measured (decimals), and posts ``JSON.stringify({userId, sessionId, learnings})`` with
``Authorization: Bearer``, ``X-User-Id`` and its anonymous id ``'anon-' + Math.random()...``.
Node builds every body here the same way, so hashing and serialization are JavaScript's own.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from telemetry import fix_text
from telemetry.models import Error, Fix, Learning
from telemetry.services.pattern_set import pattern_set_rebuild
from tests.telemetry.conftest import issue_key

BASE_URL = "/telemetry"

# Builds learnings as TelemetryCollector.anonymize does, and the request as CloudAPI.uploadLearnings.
CLIENT = r"""
const crypto = require('crypto');
const spec = JSON.parse(process.argv[1]);
const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');
const learnings = spec.learnings.map((item) => {
  const learning = {
    errorSignature: sha256(item.error.signature + JSON.stringify(item.error.context)),
    fixSignature: sha256(JSON.stringify(item.fix)),
    success: item.success,
    durationMs: item.durationMs,
    projectSize: item.projectSize,
    framework: item.error.context.framework || 'unknown',
    anonymized: true,
  };
  if (spec.sendFix) learning.fix = item.fix;
  return learning;
});
const userId = 'anon-' + Math.random().toString(36).substring(2, 15);
const body = JSON.stringify({userId, sessionId: `session-${Date.now()}`, learnings});
process.stdout.write(JSON.stringify({userId, body, learnings}));
"""

pytestmark = [pytest.mark.django_db, pytest.mark.tool("node")]


def built_by_client(learnings: list[dict], *, send_fix: bool = False) -> dict:
    spec = json.dumps({"learnings": learnings, "sendFix": send_fix})
    done = subprocess.run(["node", "-e", CLIENT, spec], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def upload(api_client, key, request: dict):
    """POST the client's body with the client's headers."""
    return api_client.post(
        f"{BASE_URL}/api/v1/learnings",
        request["body"],
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key.raw_key}",
        HTTP_X_USER_ID=request["userId"],
    )


def outcome(signature: str, *, framework: str | None = "react", fix: dict | None = None, **fields) -> dict:
    context = {"framework": framework, "configHash": "c0ffee"} if framework else {"configHash": "c0ffee"}
    values = {
        "error": {"signature": signature, "context": context},
        "fix": fix
        or {
            "type": "SHELL_COMMAND",
            "description": "Install missing dependency: lodash",
            "command": "npm install lodash",
            "confidence": 0.95,
        },
        "success": True,
        "durationMs": 1500,
        "projectSize": 250,
    }
    values.update(fields)
    return values


def test_decimal_durations_and_framework_names_with_spaces_are_stored(api_client, free_key):
    # given: durations as measured, a framework with a space, and one without any
    request = built_by_client(
        [
            outcome("Cannot find module 'lodash'", durationMs=1234.5, framework="React Native"),
            outcome("Port 3000 is in use", durationMs=87.49, projectSize=12.7, framework=None),
        ]
    )
    # when
    r = upload(api_client, free_key, request)
    # then
    assert r.status_code == 200, r.json()
    assert (r.json()["newPatterns"], r.json()["refused"]) == (2, [])
    stored = {row.framework: (row.duration_ms, row.project_size) for row in Learning.objects.all()}
    assert stored == {"react native": (1235, 250), "unknown": (87, 13)}
    assert set(Error.objects.values_list("framework", flat=True)) == {"react native", "unknown"}
    # and the framework filter takes the name as the client writes it
    pattern_set_rebuild()
    filtered = api_client.get(f"{BASE_URL}/api/v1/patterns?framework=React%20Native", **free_key.headers())
    assert filtered.status_code == 200, filtered.json()


def test_an_empty_batch_answers_200_with_no_new_patterns(api_client, free_key):
    r = upload(api_client, free_key, built_by_client([]))
    assert r.status_code == 200, r.json()
    assert r.json() == {
        "success": True,
        "newPatterns": 0,
        "improvedAccuracy": "+0.0%",
        "modelVersion": "v1.0.0",
        "refused": [],
    }
    assert not Learning.objects.exists()


def test_one_bad_learning_does_not_lose_the_others(api_client, free_key):
    # given: a batch whose second learning has a negative duration (a clock that went back)
    request = built_by_client(
        [outcome("error one"), outcome("error two", durationMs=-12.5), outcome("error three", durationMs=3.25)]
    )
    # when
    r = upload(api_client, free_key, request)
    # then: the two good ones are stored, and the answer says which one was not
    assert r.status_code == 200, r.json()
    assert r.json()["newPatterns"] == 2
    (refused,) = r.json()["refused"]
    assert (refused["index"], list(refused["errors"])) == (1, ["durationMs"])
    assert "number from 0" in refused["errors"]["durationMs"][0]
    stored = set(Learning.objects.values_list("error_signature", flat=True))
    assert stored == {request["learnings"][0]["errorSignature"], request["learnings"][2]["errorSignature"]}


def test_file_edit_fixes_keep_their_file_and_diff(api_client, free_key):
    # given: a FILE_EDIT fix as the client's FixAction holds it, its signature JSON.stringify's
    fix = {
        "type": "FILE_EDIT",
        "description": 'Import the hook from "react" ✓',
        "file": "src/App.tsx",
        "diff": "--- a/src/App.tsx\n+++ b/src/App.tsx\n@@ -1 +1 @@\n-import {useState} from 'preact'\n"
        "+import {useState} from 'react'\n\t// 100%",
        "confidence": 0.8,
    }
    request = built_by_client([outcome("useState is not a function", fix=fix)], send_fix=True)
    # when: three confirmed accounts report it
    for number in range(3):
        key = issue_key(f"dev{number}@example.com", confirmed=True)
        r = upload(api_client, key, request)
        assert r.status_code == 200, r.json()
        assert r.json()["refused"] == []
    pattern_set_rebuild()
    # then: another client downloads it with its file and diff
    r = api_client.get(f"{BASE_URL}/api/v1/patterns?limit=10", **free_key.headers())
    assert r.status_code == 200, r.json()
    (pattern,) = r.json()["patterns"]
    assert pattern["fixSignature"] == request["learnings"][0]["fixSignature"]
    assert {member: pattern["fix"].get(member) for member in ("type", "description", "file", "diff")} == {
        member: fix[member] for member in ("type", "description", "file", "diff")
    }
    assert Fix.objects.get().fix_data["file"] == "src/App.tsx"


def test_health_at_the_clients_path_carries_a_timestamp(api_client):
    # when: CloudAPI.checkHealth: GET `${baseUrl}/health` with its X-User-Id
    before = time.time() * 1000
    r = api_client.get(f"{BASE_URL}/health", HTTP_X_USER_ID="anon-k2j4h5g6f7d8s")
    # then
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "ok"
    assert before - 1 <= r.json()["timestamp"] <= time.time() * 1000 + 1


def test_with_cors_enabled_a_browser_may_send_x_user_id(api_client, settings):
    # given
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    # when: the preflight of an upload
    r = api_client.options(
        f"{BASE_URL}/api/v1/learnings",
        HTTP_ORIGIN="https://app.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type,x-user-id",
    )
    # then
    assert r.status_code == 200, r.content
    assert r["Access-Control-Allow-Origin"] == "https://app.example"
    assert "x-user-id" in [header.strip() for header in r["Access-Control-Allow-Headers"].split(",")]


STRINGIFY = r"""
const fixes = JSON.parse(process.argv[1]);
process.stdout.write(JSON.stringify(fixes.map((fix) => JSON.stringify(fix))));
"""


def test_the_canonical_form_is_what_json_stringify_writes():
    # given: fixes whose members are in canonical order, with every kind of character and number
    texts = ["plain", 'quote " backslash \\ slash /', "\b\f\n\r\t\x00\x01\x1f\x7f", "é ✓ 😀 \u2028\u2029", ""]
    numbers = [0, 1, 0.5, 0.95, 1e-7, 0.000001, 0.30000000000000004, 2.5e-6, 1e-4, 1 / 3]
    fixes = [
        {"type": "SHELL_COMMAND", "description": text, "command": None, "confidence": number}
        for text, number in zip(texts * 2, numbers, strict=True)
    ]
    fixes.append({"type": "FILE_EDIT", "description": "d", "file": "src/a.ts", "diff": "-a\n+b"})
    # when
    done = subprocess.run(
        ["node", "-e", STRINGIFY, json.dumps(fixes)], capture_output=True, text=True, timeout=60, check=True
    )
    # then
    assert [fix_text.canonical_fix(fix).decode() for fix in fixes] == json.loads(done.stdout)

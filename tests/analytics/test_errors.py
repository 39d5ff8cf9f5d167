"""POST /errors/report (201/400), fingerprint grouping, resolve/reopen and the regression rule."""

from __future__ import annotations

import pytest

from analytics.grouping import fingerprint, is_newer, normalize_message, version_key
from analytics.models import AuditLogEntry, ErrorGroup, ErrorGroupStatus, ErrorReport, Feedback
from analytics.services.triage import error_groups_reopen, error_groups_resolve
from tests.analytics.conftest import USER_ID, error_payload, feedback_payload, post


@pytest.mark.django_db
def test_report_is_stored_scrubbed_in_a_new_group(client, install_registered):
    # Given a report whose message and trace hold a path, an e-mail and a token
    payload = error_payload(
        error_message="cannot open /home/alice/acme/config.yaml for alice@acme.com",
        stack_trace='Traceback (most recent call last):\n  File "/home/alice/acme/app.py", line 42, in run\n'
        "    connect(token='ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8')\nModuleExecutionError: boom",
    )

    # When reported
    response = post(client, "/errors/report", payload)

    # Then it is stored scrubbed, keeping exception type, line numbers and function names
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "ok" and body["stored"] is True
    report = ErrorReport.objects.get(pk=body["error_id"])
    for leak in ("alice", "acme", "config.yaml", "app.py", "ghp_"):
        assert leak not in report.error_message + report.stack_trace
    assert "line 42, in run" in report.stack_trace and "ModuleExecutionError: boom" in report.stack_trace
    group = ErrorGroup.objects.get(pk=body["group_id"])
    assert (group.count, group.users_affected, group.versions, group.platforms) == (1, 1, ["1.2.0"], ["Linux"])


@pytest.mark.django_db
def test_phone_numbers_and_git_remotes_are_scrubbed_before_storing(client, install_registered):
    # Given a report naming a private repository's scp-style remote, and feedback with phone numbers
    payload = error_payload(
        error_message="fatal: Could not read from remote repository git@github.com:acme-corp/payroll-engine.git",
        stack_trace="subprocess.CalledProcessError: Command '['git', 'fetch', "
        "'ssh://git@git.acme.io:2222/ops/infra.git']' returned non-zero exit status 128.",
    )
    feedback = feedback_payload(message="Call me on +44 (20) 7946 0958 or +1 (415) 555-0100 about the crash")

    # When they are sent
    reported = post(client, "/errors/report", payload)
    submitted = post(client, "/feedback/submit", feedback)

    # Then neither the repository nor the numbers are stored, and the rest of each line is
    assert reported.status_code == 201, reported.json()
    assert submitted.status_code == 201, submitted.json()
    report = ErrorReport.objects.get()
    assert report.error_message == "fatal: Could not read from remote repository <git-remote>"
    assert "acme" not in report.stack_trace and "returned non-zero exit status 128." in report.stack_trace
    assert Feedback.objects.get().message == "Call me on <phone> or <phone> about the crash"


@pytest.mark.django_db
def test_report_without_stack_trace_is_accepted(client):
    payload = error_payload()
    del payload["stack_trace"]

    response = post(client, "/errors/report", payload)

    assert response.status_code == 201, response.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {"error_type": ""},
        {"error_message": 42},
        {"stack_trace": 42},
        {"session_id": "abc"},
        {"system_info": {"platform": "Linux", "python_version": "3.12.1"}},
        {"context": {"execution_time": -5}},
        {"severity": "high"},
    ],
)
def test_report_rejects_invalid_data(client, overrides):
    response = post(client, "/errors/report", error_payload(**overrides))

    assert response.status_code == 400, response.json()
    assert not ErrorReport.objects.exists()


@pytest.mark.django_db
def test_reports_differing_only_in_numbers_and_ids_share_a_group(client):
    # Given the same failure with different counts, addresses and ids, from two installs
    messages = [
        "worker 12 failed after 3 retries at 0x7f3a2b1c (job 3f2b8c1e-4d5a-4f6b-9c7d-8e9f0a1b2c3d)",
        "worker 7 failed after 10 retries at 0x7f00aa11 (job 11111111-2222-4333-8444-555555555555)",
    ]
    group_ids = set()
    for number, message in enumerate(messages):
        user_id = f"{number:016x}"
        response = post(client, "/errors/report", error_payload(user_id=user_id, error_message=message))
        assert response.status_code == 201, response.json()
        group_ids.add(response.json()["group_id"])

    # Then they are one group, counted twice, with two users affected
    assert len(group_ids) == 1
    group = ErrorGroup.objects.get()
    assert (group.count, group.users_affected) == (2, 2)
    assert group.message == "worker <n> failed after <n> retries at <hex> (job <uuid>)"


@pytest.mark.django_db
def test_a_second_report_of_the_same_user_does_not_count_a_new_user(client):
    post(client, "/errors/report", error_payload())
    post(client, "/errors/report", error_payload())

    group = ErrorGroup.objects.get()
    assert (group.count, group.users_affected) == (2, 1)


@pytest.mark.django_db
def test_different_error_types_are_different_groups(client):
    post(client, "/errors/report", error_payload(error_type="ValueError"))
    post(client, "/errors/report", error_payload(error_type="KeyError"))

    assert ErrorGroup.objects.count() == 2


@pytest.mark.django_db
def test_group_tracks_versions_platforms_and_first_last_seen(client):
    post(client, "/errors/report", error_payload(timestamp="2024-05-02T00:00:00Z", version="1.2.0"))
    payload = error_payload(timestamp="2024-05-01T00:00:00Z", version="1.3.0")
    payload["system_info"]["platform"] = "Windows"
    post(client, "/errors/report", payload)

    group = ErrorGroup.objects.get()
    assert group.versions == ["1.2.0", "1.3.0"] and group.platforms == ["Linux", "Windows"]
    assert group.first_seen.isoformat().startswith("2024-05-01")
    assert group.last_seen.isoformat().startswith("2024-05-02")
    assert group.latest_version == "1.3.0"


@pytest.mark.django_db
def test_resolving_marks_the_group_and_its_reports(group_resolved_at_1_2_0):
    group = group_resolved_at_1_2_0

    assert group.status == ErrorGroupStatus.RESOLVED
    assert group.resolved_in_version == "1.2.0"
    assert not ErrorReport.objects.filter(group=group, resolved=False).exists()
    assert AuditLogEntry.objects.filter(action="error_group.resolve").exists()


@pytest.mark.django_db
def test_a_report_from_a_newer_version_reopens_a_resolved_group_as_regression(client, group_resolved_at_1_2_0):
    # When the same error comes from 1.3.0, newer than the version it was resolved at
    response = post(client, "/errors/report", error_payload(version="1.3.0"))

    # Then the group is open again, flagged as a regression, and the audit log says so
    assert response.status_code == 201, response.json()
    group = ErrorGroup.objects.get(pk=group_resolved_at_1_2_0.pk)
    assert group.status == ErrorGroupStatus.UNRESOLVED
    assert group.is_regression and group.regressed_at is not None
    assert not ErrorReport.objects.filter(group=group, resolved=True).exists()
    assert AuditLogEntry.objects.filter(action="error_group.regression", target=f"error_group:{group.pk}").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["1.2.0", "1.1.9", "1.2.0-rc.1"])
def test_a_report_from_the_resolved_or_an_older_version_leaves_the_group_resolved(
    client, group_resolved_at_1_2_0, version
):
    response = post(client, "/errors/report", error_payload(version=version))

    assert response.status_code == 201, response.json()
    group = ErrorGroup.objects.get(pk=group_resolved_at_1_2_0.pk)
    assert group.status == ErrorGroupStatus.RESOLVED and not group.is_regression
    assert group.count == 2
    assert ErrorReport.objects.get(pk=response.json()["error_id"]).resolved


@pytest.mark.django_db
def test_reopen_then_resolve_again(group_resolved_at_1_2_0, staff_user):
    assert error_groups_reopen(group_ids=[group_resolved_at_1_2_0.pk], actor=staff_user) == 1
    assert error_groups_reopen(group_ids=[group_resolved_at_1_2_0.pk], actor=staff_user) == 0
    assert ErrorGroup.objects.get().status == ErrorGroupStatus.UNRESOLVED
    assert error_groups_resolve(group_ids=[group_resolved_at_1_2_0.pk], actor=staff_user) == 1


@pytest.mark.django_db
def test_report_from_an_opted_out_install_is_not_stored(client, install_opted_out):
    response = post(client, "/errors/report", error_payload())

    assert response.status_code == 201, response.json()
    assert response.json()["stored"] is False
    assert not ErrorReport.objects.exists() and not ErrorGroup.objects.exists()


def test_normalize_message_replaces_numbers_hex_and_uuids():
    assert normalize_message("took 12.5s  at 0xdeadbeef id 3f2b8c1e-4d5a-4f6b-9c7d-8e9f0a1b2c3d") == (
        "took <n>s at <hex> id <uuid>"
    )
    assert normalize_message("py3 utf8 line 42") == "py3 utf8 line <n>"


def test_fingerprint_depends_on_type_and_normalised_message():
    assert fingerprint("ValueError", "bad 1")[0] == fingerprint("ValueError", "bad 2")[0]
    assert fingerprint("ValueError", "bad 1")[0] != fingerprint("KeyError", "bad 1")[0]
    assert fingerprint("ValueError", "bad a")[0] != fingerprint("ValueError", "bad b")[0]


@pytest.mark.parametrize(
    ("newer", "older"),
    [
        ("1.10.0", "1.9.0"),
        ("1.2.0", "1.2.0-rc.1"),
        ("1.2.0-rc.2", "1.2.0-rc.1"),
        ("2.0.0", ""),
        ("1.0.0-beta", "1.0.0-2"),
    ],
)
def test_version_order(newer, older):
    assert version_key(newer) > version_key(older)
    assert is_newer(newer, older) and not is_newer(older, newer)


@pytest.mark.parametrize("version", ["\u0661.\u0662.\u0663", "1.2.3\n", "\u0661.2.3-rc.1"])
def test_a_version_of_other_digits_is_not_a_version(version):
    assert version_key(version) == (-1,)


@pytest.mark.django_db
def test_report_with_versions_in_other_digits_is_refused(client):
    info = {"platform": "Linux", "python_version": "\u0663.\u0661\u0662", "jeeves_version": "\u0661.\u0662.\u0663"}

    response = post(client, "/errors/report", error_payload(system_info=info))

    assert response.status_code == 400, response.json()
    assert set(response.json()["error"]["details"]["system_info"]) == {"python_version", "jeeves_version"}
    assert not ErrorReport.objects.exists()


def test_user_id_fixture_is_a_valid_hash():
    assert len(USER_ID) == 16

"""E-mail alerts: one per new error group and one per regression, never one per report, sent after
the ingest transaction commits (issue 18)."""

from __future__ import annotations

import smtplib
from datetime import UTC, timedelta

import pytest
from django.core import mail
from django.db.models import F

from analytics import conf
from analytics.models import ErrorGroup, ErrorGroupAlert, NewGroupAlertHour
from analytics.services.alerts import ALERT_SEND_TASK, error_group_alert_send
from analytics.services.triage import error_groups_resolve
from analytics.tasks import error_group_alert_send_task
from tests.analytics.conftest import error_payload, post

RECIPIENTS = ["triage@example.com", "oncall@example.com"]


@pytest.fixture
def alert_recipients(monkeypatch):
    monkeypatch.setattr(conf, "ALERT_EMAILS", RECIPIENTS)
    monkeypatch.setattr(conf, "ALERT_SITE_URL", "https://platform.example.com")
    return RECIPIENTS


def report(client, **overrides):
    response = post(client, "/errors/report", error_payload(**overrides))
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.mark.django_db
def test_a_new_group_is_mailed_once_whatever_the_number_of_reports(
    client, install_registered, alert_recipients, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = report(client)
        for _ in range(3):
            report(client)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == RECIPIENTS
    assert message.subject.startswith("[analytics] New error group: ModuleExecutionError: module")
    assert f"https://platform.example.com/admin/analytics/errorgroup/{first['group_id']}/change/" in message.body
    assert "first reported from version 1.2.0" in message.body
    assert ErrorGroupAlert.objects.get().recipients == 2


@pytest.mark.django_db
def test_mail_goes_out_only_once_the_report_is_committed(
    client, install_registered, alert_recipients, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report(client)

    assert mail.outbox == []  # nothing is sent inside the ingest transaction
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_a_regression_is_mailed_once(
    client, install_registered, staff_user, alert_recipients, django_capture_on_commit_callbacks
):
    group_id = report(client, version="1.2.0")["group_id"]
    error_groups_resolve(group_ids=[group_id], actor=staff_user)

    with django_capture_on_commit_callbacks(execute=True):
        report(client, version="1.2.0")  # an old install: not a regression
        report(client, version="1.3.0")
        report(client, version="1.3.0")
        report(client, version="1.4.0")

    assert [message.subject.split(":")[0] for message in mail.outbox] == ["[analytics] Regression"]
    assert "a report from version 1.3.0, newer than 1.2.0" in mail.outbox[0].body
    assert ErrorGroup.objects.get(pk=group_id).is_regression


@pytest.mark.django_db
def test_no_recipients_no_alert(client, install_registered, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report(client)

    assert mail.outbox == []
    assert not ErrorGroupAlert.objects.exists()


@pytest.mark.django_db
def test_a_task_run_twice_sends_once(client, install_registered, alert_recipients, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report(client)
    alert = ErrorGroupAlert.objects.get()

    assert error_group_alert_send_task.apply(args=[alert.pk]).get() is False

    assert len(mail.outbox) == 1
    assert ErrorGroupAlert.objects.get().sent_at is not None


@pytest.mark.django_db
def test_a_failed_send_gives_the_alert_back_for_a_retry(
    client, install_registered, alert_recipients, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=False):
        report(client)
    alert = ErrorGroupAlert.objects.get()

    def refused(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("analytics.services.alerts.send_mail", refused)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        error_group_alert_send(alert_id=alert.pk)
    assert ErrorGroupAlert.objects.get().sent_at is None

    monkeypatch.undo()
    monkeypatch.setattr(conf, "ALERT_EMAILS", RECIPIENTS)
    assert error_group_alert_send(alert_id=alert.pk) is True
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_text_from_the_client_cannot_break_the_subject(
    client, install_registered, alert_recipients, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report(client, error_type="Evil\r\nBcc: victim@example.com", error_message="x" * 5000)

    message = mail.outbox[0]
    assert "\n" not in message.subject and "\r" not in message.subject
    assert len(message.subject) <= 150
    assert message.bcc == []


@pytest.mark.django_db
def test_the_report_is_stored_when_the_alert_cannot_be_queued(
    client, install_registered, alert_recipients, django_capture_on_commit_callbacks, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(error_group_alert_send_task, "apply_async", broker_down)

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, "/errors/report", error_payload())

    assert response.status_code == 201, response.json()
    assert ErrorGroup.objects.count() == 1
    assert ErrorGroupAlert.objects.get().sent_at is None
    assert mail.outbox == []


@pytest.mark.django_db
def test_new_group_alerts_stop_at_the_hourly_limit_with_one_summary(
    client, alert_recipients, monkeypatch, django_capture_on_commit_callbacks
):
    # Given a limit of 3 new-group alerts an hour
    monkeypatch.setattr(conf, "ALERT_NEW_GROUPS_PER_HOUR", 3)

    # When an anonymous client creates 30 new groups
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(30):
            report(client, user_id="anonymous", error_type=f"Injected{number}x")

    # Then 3 groups are mailed, then one summary that quotes no client text in its subject
    assert ErrorGroup.objects.count() == 30
    assert len(mail.outbox) == 4
    assert [message.subject.startswith("[analytics] New error group: Injected") for message in mail.outbox] == [
        True,
        True,
        True,
        False,
    ]
    hour = ErrorGroupAlert.objects.get(kind="new_over_limit").created_at.astimezone(UTC)
    assert mail.outbox[3].subject == f"[analytics] More than 3 new error groups in the hour from {hour:%H}:00 UTC"
    assert "https://platform.example.com/admin/analytics/errorgroup/" in mail.outbox[3].body


@pytest.mark.django_db
def test_new_group_alerts_resume_once_the_hour_has_passed(
    client, alert_recipients, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(conf, "ALERT_NEW_GROUPS_PER_HOUR", 1)
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(3):
            report(client, user_id="anonymous", error_type=f"Early{number}x")
    NewGroupAlertHour.objects.update(hour=F("hour") - timedelta(hours=1))  # that hour is over

    with django_capture_on_commit_callbacks(execute=True):
        report(client, user_id="anonymous", error_type="Later")

    assert len(mail.outbox) == 3  # Early0x, the summary, Later
    assert mail.outbox[-1].subject.startswith("[analytics] New error group: Later")


@pytest.mark.django_db
def test_regressions_are_not_limited(client, install_registered, alert_recipients, monkeypatch, staff_user,
                                     django_capture_on_commit_callbacks):  # fmt: skip
    monkeypatch.setattr(conf, "ALERT_NEW_GROUPS_PER_HOUR", 0)
    with django_capture_on_commit_callbacks(execute=True):
        group_id = report(client, version="1.2.0")["group_id"]
    error_groups_resolve(group_ids=[group_id], actor=staff_user)

    with django_capture_on_commit_callbacks(execute=True):
        report(client, version="1.3.0")

    assert [message.subject.split(" in the hour")[0].split(":")[0] for message in mail.outbox] == [
        "[analytics] More than 0 new error groups",
        "[analytics] Regression",
    ]


def test_the_alert_task_is_registered_under_the_name_the_service_sends():
    assert error_group_alert_send_task.name == ALERT_SEND_TASK

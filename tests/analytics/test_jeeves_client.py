"""The Jeeves4coders client (its ``UserAnalytics`` class) loses nothing it sends.

Payloads are built the way that client builds them: ``platform.system()``, ``platform.version()``,
``platform.machine()`` and ``platform.python_version()`` as they come, ``datetime.now(timezone.utc)
.isoformat()`` timestamps, a hard-coded ``jeeves_version`` "1.0.0", the user_id as the first 16 hex
digits of SHA-256 of ``"{node}-{system}-{machine}"`` (or "anonymous" when it cannot keep its id
file), ``None`` for a missing stack trace or rating, and event data sent as the caller gave it.
"""

from __future__ import annotations

import hashlib
import platform
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import pytest

from analytics import conf
from analytics.models import AnalyticsUser, ErrorReport, Feedback, UsageEvent
from tests.analytics.conftest import BASE, post, proof

MARK = conf.TRUNCATION_MARK


@dataclass
class JeevesInstall:
    """One machine running the client: what its ``platform`` module answers."""

    node: str = field(default_factory=platform.node)
    system: str = field(default_factory=platform.system)
    version: str = field(default_factory=platform.version)
    machine: str = field(default_factory=platform.machine)
    python_version: str = field(default_factory=platform.python_version)
    user_id: str = ""
    session_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if not self.user_id:
            identity = f"{self.node}-{self.system}-{self.machine}"
            self.user_id = hashlib.sha256(identity.encode()).hexdigest()[:16]

    def now(self) -> str:
        return datetime.now(UTC).isoformat()

    def register(self) -> dict:
        return {
            "user_id": self.user_id,
            "registration_date": self.now(),
            "system_info": {
                "platform": self.system,
                "platform_version": self.version,
                "architecture": self.machine,
                "python_version": self.python_version,
                "jeeves_version": "1.0.0",
            },
            "privacy_consent": {
                "privacy_policy_version": "1.0.0",
                "consent_date": self.now(),
                "analytics_enabled": True,
                "code_safety_acknowledged": True,
            },
        }

    def usage(self, event_type: str = "workflow_executed", event_data: dict | None = None) -> dict:
        return {
            "user_id": self.user_id,
            "session_id": self.session_id,
            "event_type": event_type,
            "timestamp": self.now(),
            "event_data": event_data or {},
            "system_context": {
                "platform": self.system,
                "jeeves_version": "1.0.0",
                "session_duration": time.time() - self.started,
            },
        }

    def error(
        self,
        error_type: str = "ModuleExecutionError",
        error_message: str = "module failed",
        context: dict | None = None,
        stack_trace: str | None = None,
    ) -> dict:
        return {
            "user_id": self.user_id,
            "session_id": self.session_id,
            "error_type": error_type,
            "error_message": error_message,
            "stack_trace": stack_trace,
            "timestamp": self.now(),
            "context": context or {},
            "system_info": {"platform": self.system, "python_version": self.python_version, "jeeves_version": "1.0.0"},
        }

    def feedback(self, message: str = "works well", rating: int | None = None, metadata: dict | None = None) -> dict:
        return {
            "user_id": self.user_id,
            "feedback_type": "general",
            "message": message,
            "rating": rating,
            "timestamp": self.now(),
            "metadata": metadata or {},
            "system_info": {"platform": self.system, "jeeves_version": "1.0.0"},
        }

    def heartbeat(self) -> dict:
        return {
            "user_id": self.user_id,
            "session_id": self.session_id,
            "timestamp": self.now(),
            "session_duration": time.time() - self.started,
            "jeeves_version": "1.0.0",
        }


# What platform.system() / version() / machine() answer on machines the client runs on.
APPLE_SILICON = [
    "Darwin Kernel Version 23.1.0: Mon Oct  9 21:27:24 PDT 2023; root:xnu-10002.41.9~6/RELEASE_ARM64_T8103",
    "Darwin Kernel Version 23.6.0: Mon Jul 29 21:14:30 PDT 2024; root:xnu-10063.141.2~1/RELEASE_ARM64_T6020",
]
PLATFORMS = {
    # name: (system, version, machine, stored as)
    "cygwin": ("CYGWIN_NT-10.0-19045", "2024-02-01 11:07 UTC", "x86_64", "Cygwin"),
    "msys": ("MSYS_NT-10.0-19045", "2023-10-04 11:30 UTC", "x86_64", "MSYS"),
    "openbsd": ("OpenBSD", "GENERIC.MP#1397", "amd64", "OpenBSD"),
    "sunos": ("SunOS", "11.4.42.111.0", "i86pc", "SunOS"),
    "aix": ("AIX", "3", "00F9C1964C00", "AIX"),
    "android": ("Android", "#1 SMP PREEMPT Mon Oct 6 16:41:23 UTC 2023", "aarch64", "Android"),
    "undetermined": ("", "", "", ""),
}


def install_on(name: str) -> JeevesInstall:
    system, version, machine, _ = PLATFORMS[name]
    return JeevesInstall(node="build-host", system=system, version=version, machine=machine)


# --- platform_version of Apple-Silicon macOS ---------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("version", APPLE_SILICON)
def test_apple_silicon_platform_version_is_stored_cut_and_marked(client, version):
    # Given a Mac whose platform.version() is longer than the spec's 100-character column
    assert len(version) in (101, 102)
    mac = JeevesInstall(node="MacBook-Pro.local", system="Darwin", version=version, machine="arm64")

    # When it registers
    response = post(client, "/users/register", mac.register())

    # Then it is registered, with the version cut to the column and marked as cut
    assert response.status_code == 201, response.json()
    stored = AnalyticsUser.objects.get(pk=mac.user_id)
    assert stored.platform == "macOS" and stored.architecture == "arm64"
    assert len(stored.platform_version) == 100
    assert stored.platform_version == version[: 100 - len(MARK)] + MARK


# --- any platform name ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(PLATFORMS))
def test_every_platform_the_client_can_report_is_accepted_everywhere(client, name):
    # Given an install on a platform beyond Windows, Linux and macOS
    machine = install_on(name)
    expected = PLATFORMS[name][3]

    # When it registers, tracks, reports an error and sends feedback
    statuses = [
        post(client, "/users/register", machine.register()).status_code,
        post(client, "/usage/track", machine.usage()).status_code,
        post(client, "/errors/report", machine.error()).status_code,
        post(client, "/feedback/submit", machine.feedback()).status_code,
    ]

    # Then each is accepted and stored under the platform's name
    assert statuses == [201, 200, 201, 201]
    install = AnalyticsUser.objects.get(pk=machine.user_id)
    assert install.platform == expected and install.architecture == machine.machine
    assert UsageEvent.objects.get().platform == expected
    assert ErrorReport.objects.get().platform == expected
    assert Feedback.objects.get().platform == expected


@pytest.mark.django_db
def test_an_unknown_platform_name_is_scrubbed_and_cut(client):
    machine = JeevesInstall(system="alice@example.com " + "x" * 80)

    response = post(client, "/usage/track", machine.usage())

    assert response.status_code == 200, response.json()
    stored = UsageEvent.objects.get().platform
    assert "alice" not in stored and len(stored) == 50 and stored.endswith(MARK)


# --- the fallback user_id ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_fallback_user_id_anonymous_is_accepted_and_stored_unlinked(client):
    # Given an install that could not keep its id file
    machine = JeevesInstall(user_id="anonymous")

    # When it sends what the client sends
    track = post(client, "/usage/track", machine.usage())
    error = post(client, "/errors/report", machine.error())
    feedback = post(client, "/feedback/submit", machine.feedback(rating=5))
    heartbeat = post(client, "/users/heartbeat", machine.heartbeat())

    # Then everything is accepted; the rows are stored linked to no install
    assert (track.status_code, error.status_code, feedback.status_code, heartbeat.status_code) == (200, 201, 201, 200)
    assert track.json()["stored"] and error.json()["stored"] and feedback.json()["stored"]
    assert heartbeat.json()["stored"] is False  # no install to count active
    assert UsageEvent.objects.get().user_id is None
    assert ErrorReport.objects.get().user_id is None
    assert Feedback.objects.get().user_id is None
    assert not AnalyticsUser.objects.exists()


@pytest.mark.django_db
def test_the_fallback_user_id_in_a_batch(client):
    machine = JeevesInstall(user_id="anonymous")

    response = post(client, "/usage/batch", {"events": [machine.usage(), machine.usage()]})

    assert response.status_code == 200, response.json()
    assert response.json()["stored"] == 2
    assert UsageEvent.objects.filter(user__isnull=True).count() == 2


# --- long text is cut and marked, never refused ------------------------------------------------------------


@pytest.mark.django_db
def test_over_long_error_reports_are_cut_and_marked(client):
    machine = JeevesInstall()
    message = "ModuleExecutionError: " + "step failed; " * 800  # ~10.4 K characters
    trace = "Traceback (most recent call last):\n" + '  File "<frozen>", line 1, in run\n' * 3000  # ~100 K
    error_type = "Workflow Step Failure " * 8  # spaces, 176 characters

    response = post(client, "/errors/report", machine.error(error_type, message, stack_trace=trace))

    assert response.status_code == 201, response.json()
    report = ErrorReport.objects.get()
    assert len(report.error_message) == conf.MAX_ERROR_MESSAGE_LENGTH and report.error_message.endswith(MARK)
    assert report.error_message.startswith("ModuleExecutionError: step failed;")
    assert len(report.stack_trace) == conf.MAX_STACK_TRACE_LENGTH and report.stack_trace.endswith(MARK)
    assert len(report.error_type) == 100 and report.error_type.startswith("Workflow Step Failure")
    assert report.group.error_type == report.error_type


@pytest.mark.django_db
def test_over_long_feedback_is_cut_and_marked(client):
    machine = JeevesInstall()

    response = post(client, "/feedback/submit", machine.feedback("I like it. " * 1000, metadata={"log": "y" * 6000}))

    assert response.status_code == 201, response.json()
    feedback = Feedback.objects.get()
    assert len(feedback.message) == conf.MAX_FEEDBACK_LENGTH and feedback.message.endswith(MARK)
    assert len(feedback.metadata["log"]) == conf.MAX_STRING_LENGTH and feedback.metadata["log"].endswith(MARK)


@pytest.mark.django_db
def test_over_long_event_strings_are_cut_and_marked(client):
    # Given an event whose type has spaces and is long, and whose data holds long strings (the
    # client means to shorten those but sends the original: its sanitiser's result is discarded)
    machine = JeevesInstall()
    event_data = {
        "module_name": "Code Review " * 10,
        "output": "z" * 5000,
        "steps": ["s" * 4500],
        "success": True,
        "execution_time": 1.5,
    }

    response = post(client, "/usage/track", machine.usage("workflow executed: " + "review " * 30, event_data))

    # Then it is stored, each long string cut to its bound and marked
    assert response.status_code == 200, response.json()
    event = UsageEvent.objects.get()
    assert len(event.event_type) == 100 and event.event_type.startswith("workflow executed: review")
    assert event.event_type.endswith(MARK)
    assert len(event.event_data["module_name"]) == 100 and event.event_data["module_name"].endswith(MARK)
    assert len(event.event_data["output"]) == conf.MAX_STRING_LENGTH and event.event_data["output"].endswith(MARK)
    assert event.event_data["steps"][0].endswith(MARK)
    assert (event.event_data["success"], event.event_data["execution_time"]) == (True, 1.5)


@pytest.mark.django_db
def test_event_data_over_the_size_bound_is_shortened_not_refused(client):
    # Given six strings of 4,000 characters (24 KB, over the 16 KB bound of a free-form object)
    machine = JeevesInstall()
    event_data = {f"part_{n}": chr(103 + n) * 4000 for n in range(6)}  # g..l: not hex

    response = post(client, "/usage/track", machine.usage(event_data=event_data))

    # Then every key is kept and the strings are shortened until the object fits
    assert response.status_code == 200, response.json()
    stored = UsageEvent.objects.get().event_data
    assert set(stored) == set(event_data)
    assert all(value.endswith(MARK) and value.startswith(event_data[key][:64]) for key, value in stored.items())
    assert len(orjson.dumps(stored)) <= conf.MAX_OBJECT_BYTES


# --- a null stack trace -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_null_stack_trace_stays_null(client):
    # Given a registered install whose error had no traceback (the client sends null)
    machine = JeevesInstall()
    secret = post(client, "/users/register", machine.register()).json()["install_secret"]

    # When it reports the error, and one with an empty trace
    assert (r := post(client, "/errors/report", machine.error(stack_trace=None))).status_code == 201, r.content
    assert (r := post(client, "/errors/report", machine.error(stack_trace=""))).status_code == 201, r.content

    # Then the first keeps no trace and the second an empty one, in the rows and in the export
    assert list(ErrorReport.objects.order_by("id").values_list("stack_trace", flat=True)) == [None, ""]
    export = client.get(f"{BASE}/users/{machine.user_id}/data", **proof(secret))
    assert [report["stack_trace"] for report in export.json()["error_reports"]] == [None, ""]


# --- a whole session on this machine -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_session_of_the_client_on_this_machine_is_stored_whole(client):
    # Given the client on this machine, as its platform module describes it
    machine = JeevesInstall()

    # When it registers and runs a session
    statuses = [
        post(client, "/users/register", machine.register()).status_code,
        post(client, "/usage/track", machine.usage("tool_started", {"module_name": "code_review"})).status_code,
        post(client, "/errors/report", machine.error(context={"module_name": "code_review"})).status_code,
        post(client, "/feedback/submit", machine.feedback()).status_code,
        post(client, "/users/heartbeat", machine.heartbeat()).status_code,
    ]

    # Then every call got the status the client checks for, and everything was stored
    assert statuses == [201, 200, 201, 201, 200]
    assert UsageEvent.objects.count() == ErrorReport.objects.count() == Feedback.objects.count() == 1
    assert AnalyticsUser.objects.get(pk=machine.user_id).last_seen is not None

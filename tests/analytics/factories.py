import uuid
from datetime import UTC, datetime

import factory

from analytics.grouping import fingerprint
from analytics.models import AnalyticsUser, ErrorGroup, ErrorReport, Feedback, UsageEvent


class AnalyticsUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnalyticsUser

    user_id = factory.Sequence(lambda n: f"{n:016x}")
    registration_date = factory.LazyFunction(lambda: datetime.now(UTC))
    platform = "Linux"
    platform_version = "6.5.0"
    architecture = "x64"
    python_version = "3.12.1"
    jeeves_version = "1.2.0"
    privacy_consent_version = "1.0.0"
    analytics_enabled = True


class UsageEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UsageEvent

    user = factory.SubFactory(AnalyticsUserFactory)
    session_id = factory.LazyFunction(uuid.uuid4)
    event_type = "workflow_executed"
    timestamp = factory.LazyFunction(lambda: datetime.now(UTC))
    event_data = factory.LazyFunction(lambda: {"module_name": "code_review", "execution_time": 1.5, "success": True})
    system_context = factory.LazyFunction(lambda: {"platform": "Linux", "jeeves_version": "1.2.0"})
    platform = "Linux"
    jeeves_version = "1.2.0"


class ErrorGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ErrorGroup

    error_type = "ModuleExecutionError"
    # Letters, not digits: the fingerprint normalises numbers away.
    message = factory.Sequence(lambda n: "module failed variant " + "".join(chr(97 + int(d)) for d in str(n)))
    fingerprint = factory.LazyAttribute(lambda group: fingerprint(group.error_type, group.message)[0])
    count = 1
    users_affected = 1
    first_seen = factory.LazyFunction(lambda: datetime.now(UTC))
    last_seen = factory.LazyFunction(lambda: datetime.now(UTC))
    versions = factory.LazyFunction(lambda: ["1.2.0"])
    platforms = factory.LazyFunction(lambda: ["Linux"])
    latest_version = "1.2.0"


class ErrorReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ErrorReport

    user = factory.SubFactory(AnalyticsUserFactory)
    group = factory.SubFactory(ErrorGroupFactory)
    session_id = factory.LazyFunction(uuid.uuid4)
    error_type = factory.LazyAttribute(lambda report: report.group.error_type)
    error_message = factory.LazyAttribute(lambda report: report.group.message)
    timestamp = factory.LazyFunction(lambda: datetime.now(UTC))
    platform = "Linux"
    python_version = "3.12.1"
    jeeves_version = "1.2.0"


class FeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feedback

    user = factory.SubFactory(AnalyticsUserFactory)
    feedback_type = "bug"
    message = factory.Sequence(lambda n: f"feedback number {n}")
    rating = 4
    timestamp = factory.LazyFunction(lambda: datetime.now(UTC))
    platform = "Linux"
    jeeves_version = "1.2.0"

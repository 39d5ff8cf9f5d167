"""Factories and builders for telemetry tests."""

from __future__ import annotations

import hashlib
import itertools

import factory

from telemetry import fix_text
from telemetry.models import Pattern, Team, TelemetryAccount, Tier
from telemetry.services.learnings import LearningInput, UploadResult, learnings_upload
from tests.factories import UserFactory

_counter = itertools.count()


def sha(text: str | None = None) -> str:
    """A SHA-256 hex signature; a fresh one each call unless ``text`` is given."""
    return hashlib.sha256((text if text is not None else f"signature-{next(_counter)}").encode()).hexdigest()


def learning(**overrides) -> dict:
    """One valid learning as a client sends it."""
    body = {
        "errorSignature": sha(),
        "fixSignature": sha(),
        "success": True,
        "durationMs": 1500,
        "projectSize": 250,
        "framework": "react",
        "anonymized": True,
    }
    body.update(overrides)
    return body


def fix_with_signature(**fix) -> tuple[dict, str]:
    """A fix object as a client builds it, and the fixSignature it must be uploaded under."""
    return fix, fix_text.fix_signature(fix)


def upload_body(learnings: list[dict], *, session_id: str = "session-1234567890", user_id: str | None = None) -> dict:
    body = {"sessionId": session_id, "learnings": learnings}
    if user_id:
        body["userId"] = user_id
    return body


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"team {n}")


class TelemetryAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TelemetryAccount

    user = factory.SubFactory(UserFactory)
    tier = Tier.FREE


class PatternFactory(factory.django.DjangoModelFactory):
    """A published pattern, for download tests that need many rows fast."""

    class Meta:
        model = Pattern

    id = factory.LazyFunction(sha)
    error_signature = factory.LazyFunction(sha)
    fix_signature = factory.LazyFunction(sha)
    framework = "react"
    team = None
    success_count = 90
    fail_count = 10
    success_rate = 0.9
    confidence = factory.Sequence(lambda n: round(0.5 + (n % 400) / 1000, 4))
    fix_type = "SHELL_COMMAND"
    fix_description = "Install missing dependency"
    fix_command = "npm install lodash"
    visible = True
    changed_sequence = 1


def contributors(count: int) -> list[int]:
    """The ids of ``count`` distinct accounts, as a confirmed key of each passes them to uploads."""
    return [TelemetryAccountFactory().pk for _ in range(count)]


def report(
    error: str,
    fix: str,
    outcomes: list[bool],
    *,
    contributor_id: int | None = None,
    user_id: str = "anon-abc123",
    team_id: int | None = None,
    framework: str | None = "react",
    fix_data: dict | None = None,
) -> UploadResult:
    """One upload, through the service, of ``outcomes`` for one pair (fix text not re-checked)."""
    return learnings_upload(
        user_id=user_id,
        session_id="s-1",
        team_id=team_id,
        contributor_id=contributor_id,
        learnings=[LearningInput(error, fix, outcome, 10, 10, framework, fix_data) for outcome in outcomes],
    )


def reported_by(accounts: list[int], *, error: str | None = None, fix: str | None = None, **kwargs) -> tuple[str, str]:
    """A pair each of ``accounts`` reported a success with (today): publishable once enough did."""
    error, fix = error or sha(), fix or sha()
    for account_id in accounts:
        report(error, fix, [True], contributor_id=account_id, **kwargs)
    return error, fix

"""Factories and builders for telemetry tests."""

from __future__ import annotations

import hashlib
import itertools

import factory

from telemetry.models import Pattern, Team, TelemetryAccount, Tier
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

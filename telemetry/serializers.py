"""Input validation and output shapes of the NextGen Cloud API.

Two hot paths skip DRF's per-field machinery, because a batch holds 1000 learnings and a download
10,000 patterns: ``LearningsField`` validates a whole batch in one plain loop, and
``patterns_as_json`` builds download rows directly. Their DRF twins (``LearningSerializer``,
``PatternSerializer``) document the same shapes in the OpenAPI schema, and the tests check that
both agree.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core import errors
from telemetry import conf
from telemetry import errors as telemetry_errors
from telemetry.services.learnings import LearningInput

# anon- and 6..59 of [a-z0-9-]: the whole id fits the spec's VARCHAR(64).
USER_ID_PATTERN = re.compile(r"anon-[a-z0-9-]{6,59}")
SESSION_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
FRAMEWORK_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,49}$"
VERSION_PATTERN = r"^v\d{1,6}\.\d{1,9}\.\d{1,9}$"
MAX_INT = 2**31 - 1
MAX_DESCRIPTION = 500
MAX_COMMAND = 1000
# A rejected batch names at most this many bad items.
MAX_REPORTED_ITEMS = 50

_hex64 = re.compile(r"[0-9a-f]{64}").fullmatch
_framework = re.compile(FRAMEWORK_PATTERN[1:-1]).fullmatch
_fix_type = re.compile(r"[A-Z][A-Z0-9_]{0,39}").fullmatch

SIGNATURE_MESSAGE = "must be 64 lowercase hexadecimal characters (the SHA-256 of the text, never the text)"
COUNT_MESSAGE = f"must be a whole number from 0 to {MAX_INT}, or null"


def parse_user_id(value: str | None) -> str:
    """The X-User-Id header, checked; raises INVALID_USER_ID when it is missing or malformed."""
    if not value or not USER_ID_PATTERN.fullmatch(value):
        raise telemetry_errors.INVALID_USER_ID(details={"X-User-Id": [telemetry_errors.INVALID_USER_ID.message]})
    return value


# --- Keys ----------------------------------------------------------------------------------------


class KeyRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class KeyResponseSerializer(serializers.Serializer):
    apiKey = serializers.CharField(help_text="Shown once; only its hash is stored.")  # noqa: N815
    tier = serializers.ChoiceField(choices=["free", "pro", "team"])
    rateLimit = serializers.IntegerField(help_text="Requests a minute.")  # noqa: N815


# --- Learnings ------------------------------------------------------------------------------------


class FixSerializer(serializers.Serializer):
    type = serializers.RegexField(r"^[A-Za-z][A-Za-z0-9_]{0,39}$", help_text="e.g. SHELL_COMMAND (upper-cased)")
    description = serializers.CharField(max_length=MAX_DESCRIPTION, required=False, allow_null=True)
    command = serializers.CharField(max_length=MAX_COMMAND, required=False, allow_null=True)


class LearningSerializer(serializers.Serializer):
    """One learning (documentation of what ``LearningsField`` accepts)."""

    errorSignature = serializers.RegexField(r"^[0-9a-f]{64}$")  # noqa: N815
    fixSignature = serializers.RegexField(r"^[0-9a-f]{64}$")  # noqa: N815
    success = serializers.BooleanField()
    durationMs = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False, allow_null=True)  # noqa: N815
    projectSize = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False, allow_null=True)  # noqa: N815
    framework = serializers.RegexField(
        FRAMEWORK_PATTERN, required=False, allow_null=True, help_text="A short slug, lower-cased on arrival."
    )
    anonymized = serializers.BooleanField(help_text="Must be true.")
    fix = FixSerializer(required=False, allow_null=True, help_text="Stored, scrubbed, when the pair is first seen.")


def _count_problem(value: Any) -> bool:
    return value is not None and (type(value) is not int or not 0 <= value <= MAX_INT)


def _fix_of(value: Any, problems: dict) -> dict | None:
    if value is None:
        return None
    if type(value) is not dict:
        problems["fix"] = ["must be an object with type, description and command"]
        return None
    fix_problems = {}
    fix_type = value.get("type")
    fix_type = fix_type.upper() if type(fix_type) is str else fix_type
    if type(fix_type) is not str or not _fix_type(fix_type):
        fix_problems["type"] = ["must be a short name of letters, digits and '_', such as SHELL_COMMAND"]
    description, command = value.get("description"), value.get("command")
    if description is not None and (type(description) is not str or len(description) > MAX_DESCRIPTION):
        fix_problems["description"] = [f"must be text of at most {MAX_DESCRIPTION} characters, or null"]
    if command is not None and (type(command) is not str or len(command) > MAX_COMMAND):
        fix_problems["command"] = [f"must be text of at most {MAX_COMMAND} characters, or null"]
    if fix_problems:
        problems["fix"] = fix_problems
        return None
    return {"type": fix_type, "description": description, "command": command}


def _well_formed(item: Any) -> LearningInput | None:
    """The learning, when every field is right; None sends the item through ``_learning_of``.

    The common case of a batch of 1000 good learnings, in one expression per field.
    """
    if type(item) is not dict:
        return None
    get = item.get
    error_signature, fix_signature, framework, fix = (
        get("errorSignature"),
        get("fixSignature"),
        get("framework"),
        get("fix"),
    )
    duration_ms, project_size = get("durationMs"), get("projectSize")
    if not (
        type(error_signature) is str
        and _hex64(error_signature)
        and type(fix_signature) is str
        and _hex64(fix_signature)
        and type(get("success")) is bool
        and get("anonymized") is True
        and (duration_ms is None or (type(duration_ms) is int and 0 <= duration_ms <= MAX_INT))
        and (project_size is None or (type(project_size) is int and 0 <= project_size <= MAX_INT))
        and (framework is None or (type(framework) is str and _framework(framework)))
        and (fix is None or _well_formed_fix(fix))
    ):
        return None
    return LearningInput(error_signature, fix_signature, item["success"], duration_ms, project_size, framework, fix)


def _well_formed_fix(fix: Any) -> bool:
    """A fix object that needs no normalising (its type already upper-case); read-only use after."""
    if type(fix) is not dict:
        return False
    fix_type, description, command = fix.get("type"), fix.get("description"), fix.get("command")
    return (
        type(fix_type) is str
        and _fix_type(fix_type) is not None
        and (description is None or (type(description) is str and len(description) <= MAX_DESCRIPTION))
        and (command is None or (type(command) is str and len(command) <= MAX_COMMAND))
    )


def _learning_of(item: Any) -> tuple[LearningInput | None, dict]:
    """The learning and no problems, or None and what is wrong with each field."""
    if type(item) is not dict:
        return None, {"non_field_errors": ["must be an object"]}
    problems: dict = {}
    error_signature, fix_signature = item.get("errorSignature"), item.get("fixSignature")
    if type(error_signature) is not str or not _hex64(error_signature):
        problems["errorSignature"] = [SIGNATURE_MESSAGE]
    if type(fix_signature) is not str or not _hex64(fix_signature):
        problems["fixSignature"] = [SIGNATURE_MESSAGE]
    success = item.get("success")
    if type(success) is not bool:
        problems["success"] = ["must be true or false"]
    if item.get("anonymized") is not True:
        problems["anonymized"] = ["must be true: send only anonymized learnings"]
    duration_ms, project_size = item.get("durationMs"), item.get("projectSize")
    if _count_problem(duration_ms):
        problems["durationMs"] = [COUNT_MESSAGE]
    if _count_problem(project_size):
        problems["projectSize"] = [COUNT_MESSAGE]
    framework = item.get("framework")
    if type(framework) is str:
        framework = framework.lower() or None
    if framework is not None and (type(framework) is not str or not _framework(framework)):
        problems["framework"] = ["must be a short slug: up to 50 of a-z, 0-9, '.', '_' and '-'"]
    fix = _fix_of(item.get("fix"), problems)
    if problems:
        return None, problems
    return LearningInput(error_signature, fix_signature, success, duration_ms, project_size, framework, fix), problems


@extend_schema_field(LearningSerializer(many=True))
class LearningsField(serializers.Field):
    """1 to 1000 learnings, checked in one pass; a bad batch is refused naming its bad items."""

    def to_internal_value(self, data: Any) -> list[LearningInput]:
        limit = conf.MAX_LEARNINGS_PER_UPLOAD
        if type(data) is not list or not 1 <= len(data) <= limit:
            message = f"must be a list of 1 to {limit} learnings"
            raise errors.VALIDATION(f"Validation failed: learnings: {message}", details={"learnings": [message]})
        learnings = []
        bad_items: dict[str, dict] = {}
        for index, item in enumerate(data):
            learning = _well_formed(item)
            if learning is not None:
                if not bad_items:
                    learnings.append(learning)
                continue
            learning, problems = _learning_of(item)
            if problems:
                bad_items[str(index)] = problems
                if len(bad_items) >= MAX_REPORTED_ITEMS:
                    break
            elif not bad_items:
                learnings.append(learning)
        if bad_items:
            first_index, first_problems = next(iter(bad_items.items()))
            field, messages = next(iter(first_problems.items()))
            if isinstance(messages, dict):  # fix.type and the like
                inner, messages = next(iter(messages.items()))
                field = f"{field}.{inner}"
            where = f"learnings[{first_index}]" + ("" if field == "non_field_errors" else f".{field}")
            raise errors.VALIDATION(
                f"Validation failed: {where}: {messages[0]} ({len(bad_items)} bad learning(s))",
                details={"learnings": bad_items},
            )
        return learnings

    def to_representation(self, value: Any) -> Any:
        return value


class LearningUploadSerializer(serializers.Serializer):
    userId = serializers.CharField(  # noqa: N815
        required=False, max_length=64, help_text="Optional; must equal X-User-Id when sent."
    )
    sessionId = serializers.RegexField(SESSION_ID_PATTERN, help_text="1 to 64 of A-Z a-z 0-9 . _ : -")  # noqa: N815
    learnings = LearningsField()

    def validate_userId(self, value: str) -> str:  # noqa: N802
        if value != self.context["user_id"]:
            raise telemetry_errors.USER_ID_MISMATCH(details={"userId": [telemetry_errors.USER_ID_MISMATCH.message]})
        return value


class LearningUploadResponseSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    newPatterns = serializers.IntegerField(help_text="Error/fix pairs first seen in this upload.")  # noqa: N815
    improvedAccuracy = serializers.CharField(  # noqa: N815
        help_text="Change of the success rate of the known pairs this upload touched, in percentage points."
    )
    modelVersion = serializers.CharField(help_text="The pattern-set version (v<major>.<minor>.<patch>).")  # noqa: N815


# --- Patterns ---------------------------------------------------------------------------------------


class PatternsQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        required=False, min_value=1, help_text="At most the tier's maximum (free 1,000; pro and team 50,000)."
    )
    framework = serializers.CharField(required=False, max_length=50, help_text="A framework slug (any case).")
    since = serializers.RegexField(
        VERSION_PATTERN, required=False, help_text="Only patterns that changed after this version."
    )

    def validate_framework(self, value: str) -> str:
        value = value.lower()
        if not _framework(value):
            raise serializers.ValidationError("must be a short slug: up to 50 of a-z, 0-9, '.', '_' and '-'")
        return value


class PatternFixSerializer(serializers.Serializer):
    type = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_null=True)
    command = serializers.CharField(allow_null=True)
    confidence = serializers.FloatField(help_text="Wilson lower bound (95%) of the success rate.")


class PatternSerializer(serializers.Serializer):
    errorSignature = serializers.CharField()  # noqa: N815
    fixSignature = serializers.CharField()  # noqa: N815
    successRate = serializers.FloatField()  # noqa: N815
    usageCount = serializers.IntegerField()  # noqa: N815
    framework = serializers.CharField(allow_null=True)
    fix = PatternFixSerializer()


class WithdrawnPatternSerializer(serializers.Serializer):
    errorSignature = serializers.CharField()  # noqa: N815
    fixSignature = serializers.CharField()  # noqa: N815


class PatternListSerializer(serializers.Serializer):
    patterns = PatternSerializer(many=True)
    total = serializers.IntegerField(help_text="Patterns available to this caller (with the framework filter).")
    version = serializers.CharField()
    removed = WithdrawnPatternSerializer(
        many=True, required=False, help_text="With since only: patterns withdrawn after that version."
    )


def patterns_as_json(rows: list[tuple]) -> list[dict]:
    """Download rows (selectors.PATTERN_COLUMNS) in PatternSerializer's shape, without its overhead."""
    return [
        {
            "errorSignature": error_signature,
            "fixSignature": fix_signature,
            "successRate": success_rate,
            "usageCount": successes + failures,
            "framework": framework,
            "fix": {"type": fix_type, "description": description, "command": command, "confidence": confidence},
        }
        for (
            error_signature,
            fix_signature,
            success_rate,
            successes,
            failures,
            framework,
            fix_type,
            description,
            command,
            confidence,
        ) in rows
    ]


def withdrawn_as_json(rows: list[tuple[str, str]]) -> list[dict]:
    return [{"errorSignature": error, "fixSignature": fix} for error, fix in rows]


# --- Stats and health -------------------------------------------------------------------------------


class UserStatsSerializer(serializers.Serializer):
    userId = serializers.CharField(source="user_id")  # noqa: N815
    contributedPatterns = serializers.IntegerField(source="contributed_patterns")  # noqa: N815
    helpedUsers = serializers.IntegerField(source="helped_users")  # noqa: N815
    rank = serializers.CharField(help_text='"top-N%", N one of 1, 5, 10, 25, 50, 100.')
    joined = serializers.DateTimeField()


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField(help_text='"ok", or "unavailable" when the database is down')
    version = serializers.CharField()


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField(allow_null=True)


class ErrorEnvelopeSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    error = ErrorDetailSerializer()

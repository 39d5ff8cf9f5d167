"""What the NextGen Cloud API accepts: keys, learning batches, download queries.

A batch holds 1000 learnings, so ``LearningsField`` validates it in one plain loop rather than
through DRF's per-field machinery; its DRF twin ``LearningSerializer`` documents the same shape in
the OpenAPI schema.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core import errors
from core.fields import AsciiIntegerField, StringField, StringRegexField
from telemetry import conf, fix_text
from telemetry import errors as telemetry_errors
from telemetry.services.learnings import LearningInput

# anon- and 6..59 of [a-z0-9-]: the whole id fits the spec's VARCHAR(64).
USER_ID_PATTERN = re.compile(r"anon-[a-z0-9-]{6,59}")
SESSION_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
# A framework as stored: lower case, single spaces ("react native"), fits the spec's VARCHAR(50).
FRAMEWORK_PATTERN = r"^[a-z0-9][a-z0-9 ._+-]{0,49}$"
VERSION_PATTERN = r"^v\d{1,6}\.\d{1,9}\.\d{1,9}$"
MAX_INT = 2**31 - 1
MAX_DESCRIPTION = 500
MAX_COMMAND = 1000
MAX_FILE = 500
MAX_DIFF = 20_000
# A batch refused whole (every learning bad) names at most this many bad items.
MAX_REPORTED_ITEMS = 50

_hex64 = re.compile(r"[0-9a-f]{64}").fullmatch
_framework = re.compile(FRAMEWORK_PATTERN[1:-1]).fullmatch
_fix_type = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}").fullmatch
# (member, longest text) of the fix's text members.
_FIX_TEXT_LIMITS = (("description", MAX_DESCRIPTION), ("command", MAX_COMMAND), ("file", MAX_FILE), ("diff", MAX_DIFF))

SIGNATURE_MESSAGE = "must be 64 lowercase hexadecimal characters (the SHA-256 of the text, never the text)"
COUNT_MESSAGE = f"must be a number from 0 to {MAX_INT} (decimals are rounded), or null"
FRAMEWORK_MESSAGE = "must be a name of up to 50 letters, digits, spaces, '.', '_', '+' and '-'"
FIX_SIGNATURE_MISMATCH = (
    "does not hash to fixSignature: the signature must be the SHA-256 of the fix's canonical form "
    "(members type, description, command, file, diff, confidence in that order, as JSON.stringify writes them)"
)


def parse_user_id(value: str | None) -> str:
    """The X-User-Id header, checked; raises INVALID_USER_ID when it is missing or malformed."""
    if not value or not USER_ID_PATTERN.fullmatch(value):
        raise telemetry_errors.INVALID_USER_ID(details={"X-User-Id": [telemetry_errors.INVALID_USER_ID.message]})
    return value


def framework_name(value: str) -> str | None:
    """A framework as stored and filtered: trimmed, runs of spaces made one, lower case; None if blank.

    Non-ASCII is kept as sent, so the pattern refuses it: ``str.lower()`` maps some of it onto
    ASCII (KELVIN SIGN U+212A to "k").
    """
    name = " ".join(value.split())
    return (name.lower() if name.isascii() else name) or None


# --- Keys ----------------------------------------------------------------------------------------


class KeyRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class KeyConfirmSerializer(serializers.Serializer):
    code = StringField(max_length=64, help_text="The code e-mailed to the key's address.")


# --- Learnings ------------------------------------------------------------------------------------


class FixSerializer(serializers.Serializer):
    type = StringRegexField(r"^[A-Za-z][A-Za-z0-9_]{0,39}$", help_text="e.g. SHELL_COMMAND, FILE_EDIT")
    description = StringField(max_length=MAX_DESCRIPTION, required=False, allow_null=True)
    command = StringField(max_length=MAX_COMMAND, required=False, allow_null=True)
    file = StringField(max_length=MAX_FILE, required=False, allow_null=True, help_text="FILE_EDIT")
    diff = StringField(max_length=MAX_DIFF, required=False, allow_null=True, help_text="FILE_EDIT")
    confidence = serializers.FloatField(
        min_value=0, max_value=1, required=False, allow_null=True, help_text="The client's own; hashed, not stored."
    )


class LearningSerializer(serializers.Serializer):
    """One learning (documentation of what ``LearningsField`` accepts)."""

    errorSignature = StringRegexField(r"^[0-9a-f]{64}$")
    fixSignature = StringRegexField(
        r"^[0-9a-f]{64}$", help_text="With a fix: the SHA-256 of its canonical form (docs/telemetry.md)."
    )
    success = serializers.BooleanField()
    durationMs = serializers.FloatField(
        min_value=0, max_value=MAX_INT, required=False, allow_null=True, help_text="Rounded to a whole number."
    )
    projectSize = serializers.FloatField(
        min_value=0, max_value=MAX_INT, required=False, allow_null=True, help_text="Rounded to a whole number."
    )
    framework = StringField(
        max_length=50, required=False, allow_null=True, help_text="A name; stored lower-cased with single spaces."
    )
    anonymized = serializers.BooleanField(help_text="Must be true.")
    fix = FixSerializer(
        required=False, allow_null=True, help_text="Stored when its canonical form hashes to fixSignature."
    )


def _count_of(value: Any, field: str, problems: dict) -> int | None:
    """A whole count: null, or a number from 0 to MAX_INT, decimals rounded half up (1499.5 -> 1500)."""
    kind = type(value)
    if value is None or (kind is int and 0 <= value <= MAX_INT):
        return value
    if kind is float and 0 <= value < MAX_INT + 0.5:  # orjson never yields NaN or infinity
        return math.floor(value + 0.5)
    problems[field] = [COUNT_MESSAGE]
    return None


def _fix_of(value: Any, fix_signature: Any, problems: dict) -> dict | None:
    """The fix's stored members, once its shape is right and it hashes to ``fix_signature``."""
    if value is None:
        return None
    if type(value) is not dict:
        problems["fix"] = ["must be an object: type, description, command, file, diff, confidence"]
        return None
    fix_problems = {}
    if type(value.get("type")) is not str or not _fix_type(value["type"]):
        fix_problems["type"] = ["must be a short name of letters, digits and '_', such as SHELL_COMMAND"]
    for member, longest in _FIX_TEXT_LIMITS:
        text = value.get(member)
        if text is not None and (type(text) is not str or len(text) > longest):
            fix_problems[member] = [f"must be text of at most {longest} characters, or null"]
        elif text is not None and "\x00" in text:
            fix_problems[member] = ["must not contain NUL characters (PostgreSQL stores none)"]
    confidence = value.get("confidence")
    if confidence is not None and (type(confidence) not in (int, float) or not 0 <= confidence <= 1):
        fix_problems["confidence"] = ["must be a number from 0 to 1, or null"]
    if not fix_problems and type(fix_signature) is str and fix_text.fix_signature(value) != fix_signature:
        problems["fixSignature"] = [FIX_SIGNATURE_MISMATCH]
    if fix_problems:
        problems["fix"] = fix_problems
    return None if problems else fix_text.stored_fix(value)


def _well_formed(item: Any, verified_fixes: dict[str, tuple[dict, dict]]) -> LearningInput | None:
    """The learning, when every field is already in its stored form; None sends it to ``_learning_of``.

    The common case of a batch of 1000 good learnings, in one expression per field.
    ``verified_fixes`` (fix signature -> the fix as sent, its stored members) spares hashing a fix
    again for every learning of the same pair; a fix is that one only if its members are also of
    the same types (``True == 1`` in Python, yet ``true`` is no confidence and hashes otherwise).
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
        and (framework is None or (type(framework) is str and _framework(framework) and " " not in framework))
    ):
        return None
    if fix is not None:
        known = verified_fixes.get(fix_signature)
        if known is not None and _same_json(known[0], fix):
            fix = known[1]
        elif _well_formed_fix(fix) and fix_text.fix_signature(fix) == fix_signature:
            verified_fixes[fix_signature] = (fix, fix_text.stored_fix(fix))
            fix = verified_fixes[fix_signature][1]
        else:
            return None
    return LearningInput(error_signature, fix_signature, item["success"], duration_ms, project_size, framework, fix)


def _same_json(verified: dict, fix: Any) -> bool:
    """Whether ``fix`` is the JSON object ``verified`` (of a well-formed fix's flat members)."""
    return (
        type(fix) is dict
        and fix == verified
        and all(type(fix[member]) is type(value) for member, value in verified.items())
    )


def _well_formed_fix(fix: Any) -> bool:
    """A fix object of the right shape (what ``_fix_of`` checks, without saying what is wrong)."""
    if type(fix) is not dict or type(fix.get("type")) is not str or not _fix_type(fix["type"]):
        return False
    for member, longest in _FIX_TEXT_LIMITS:
        text = fix.get(member)
        if text is not None and (type(text) is not str or len(text) > longest or "\x00" in text):
            return False
    confidence = fix.get("confidence")
    return confidence is None or (type(confidence) in (int, float) and 0 <= confidence <= 1)


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
    duration_ms = _count_of(item.get("durationMs"), "durationMs", problems)
    project_size = _count_of(item.get("projectSize"), "projectSize", problems)
    framework = item.get("framework")
    if type(framework) is str:
        framework = framework_name(framework)
    if framework is not None and (type(framework) is not str or not _framework(framework)):
        problems["framework"] = [FRAMEWORK_MESSAGE]
    fix = _fix_of(item.get("fix"), fix_signature, problems)
    if problems:
        return None, problems
    return LearningInput(error_signature, fix_signature, success, duration_ms, project_size, framework, fix), problems


@dataclass(frozen=True)
class LearningBatch:
    learnings: list[LearningInput]
    # {"index", "errors"} of every learning refused (the others are stored).
    refused: list[dict]


@extend_schema_field(LearningSerializer(many=True))
class LearningsField(serializers.Field):
    """Up to 1000 learnings, checked in one pass: the good ones are kept, the bad ones listed.

    A batch whose every learning is bad is refused whole, naming its bad items.
    """

    def to_internal_value(self, data: Any) -> LearningBatch:
        limit = conf.MAX_LEARNINGS_PER_UPLOAD
        if type(data) is not list or len(data) > limit:
            message = f"must be a list of 0 to {limit} learnings"
            raise errors.VALIDATION(f"Validation failed: learnings: {message}", details={"learnings": [message]})
        learnings = []
        refused: list[dict] = []
        verified_fixes: dict[str, tuple[dict, dict]] = {}
        for index, item in enumerate(data):
            learning = _well_formed(item, verified_fixes)
            if learning is None:
                learning, problems = _learning_of(item)
                if problems:
                    refused.append({"index": index, "errors": problems})
                    continue
            learnings.append(learning)
        if refused and not learnings:
            self._refuse_whole(refused)
        return LearningBatch(learnings=learnings, refused=refused)

    @staticmethod
    def _refuse_whole(refused: list[dict]) -> None:
        first_problems = refused[0]["errors"]
        field, messages = next(iter(first_problems.items()))
        if isinstance(messages, dict):  # fix.type and the like
            inner, messages = next(iter(messages.items()))
            field = f"{field}.{inner}"
        where = f"learnings[{refused[0]['index']}]" + ("" if field == "non_field_errors" else f".{field}")
        raise errors.VALIDATION(
            f"Validation failed: {where}: {messages[0]} (every learning is bad: {len(refused)})",
            details={"learnings": {str(bad["index"]): bad["errors"] for bad in refused[:MAX_REPORTED_ITEMS]}},
        )

    def to_representation(self, value: Any) -> Any:
        return value


class LearningUploadSerializer(serializers.Serializer):
    userId = StringField(
        required=False, max_length=64, trim_whitespace=False, help_text="Optional; must equal X-User-Id when sent."
    )
    sessionId = StringRegexField(SESSION_ID_PATTERN, trim_whitespace=False, help_text="1 to 64 of A-Z a-z 0-9 . _ : -")
    learnings = LearningsField()

    def validate_userId(self, value: str) -> str:
        if value != self.context["user_id"]:
            raise telemetry_errors.USER_ID_MISMATCH(details={"userId": [telemetry_errors.USER_ID_MISMATCH.message]})
        return value


# --- Patterns ---------------------------------------------------------------------------------------


class PatternsQuerySerializer(serializers.Serializer):
    limit = AsciiIntegerField(
        required=False, min_value=1, help_text="At most the tier's maximum (free 1,000; pro and team 50,000)."
    )
    framework = serializers.CharField(
        required=False, max_length=200, help_text="A framework name (any case, spaces as uploaded)."
    )
    since = serializers.RegexField(
        VERSION_PATTERN,
        required=False,
        trim_whitespace=False,
        help_text="Only patterns that changed after this version.",
    )

    def validate_framework(self, value: str) -> str:
        name = framework_name(value)
        if name is None or not _framework(name):
            raise serializers.ValidationError(FRAMEWORK_MESSAGE)
        return name

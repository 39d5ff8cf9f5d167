"""What the NextGen Cloud API answers, in the spec's field names.

A download holds up to 50,000 patterns, so ``patterns_as_json`` builds its rows directly; its DRF
twin ``PatternSerializer`` documents the same shape in the OpenAPI schema, and the tests check
that both agree.
"""

from __future__ import annotations

from rest_framework import serializers

# --- Keys ----------------------------------------------------------------------------------------


class KeyResponseSerializer(serializers.Serializer):
    apiKey = serializers.CharField(help_text="Shown once; only its hash is stored.")
    tier = serializers.ChoiceField(choices=["free", "pro", "team"])
    rateLimit = serializers.IntegerField(help_text="Requests a minute.")


class KeyConfirmResponseSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    confirmed = serializers.BooleanField()
    tier = serializers.ChoiceField(choices=["free", "pro", "team"], help_text="The tier the key answers at now.")


# --- Learnings ------------------------------------------------------------------------------------


class RefusedLearningSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position in the uploaded learnings list, from 0.")
    errors = serializers.DictField(help_text="What is wrong, per field (as in a 400's details).")


class LearningUploadResponseSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    newPatterns = serializers.IntegerField(help_text="Error/fix pairs first seen in this upload.")
    improvedAccuracy = serializers.CharField(
        help_text="Change of the success rate of the known pairs this upload touched, in percentage points."
    )
    modelVersion = serializers.CharField(help_text="The pattern-set version (v<major>.<minor>.<patch>).")
    refused = RefusedLearningSerializer(
        many=True, help_text="The learnings not stored, by their index in the batch; the others were."
    )


# --- Patterns ---------------------------------------------------------------------------------------


class PatternFixSerializer(serializers.Serializer):
    type = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    command = serializers.CharField(allow_null=True)
    file = serializers.CharField(required=False, help_text="Only when the fix has one (FILE_EDIT).")
    diff = serializers.CharField(required=False, help_text="Only when the fix has one (FILE_EDIT).")
    confidence = serializers.FloatField(help_text="Wilson lower bound (95%) of the success rate.")


class PatternSerializer(serializers.Serializer):
    errorSignature = serializers.CharField()
    fixSignature = serializers.CharField()
    successRate = serializers.FloatField()
    usageCount = serializers.IntegerField()
    framework = serializers.CharField(allow_null=True)
    fix = PatternFixSerializer(required=False, help_text="Absent when the pair has no fix text.")


class WithdrawnPatternSerializer(serializers.Serializer):
    errorSignature = serializers.CharField()
    fixSignature = serializers.CharField()


class PatternListSerializer(serializers.Serializer):
    patterns = PatternSerializer(many=True)
    total = serializers.IntegerField(help_text="Patterns available to this caller (with the framework filter).")
    version = serializers.CharField()
    removed = WithdrawnPatternSerializer(
        many=True, required=False, help_text="With since only: patterns withdrawn after that version."
    )


def patterns_as_json(rows: list[tuple]) -> list[dict]:
    """Download rows (selectors.PATTERN_COLUMNS) in PatternSerializer's shape, without its overhead."""
    patterns = []
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
        file,
        diff,
        confidence,
    ) in rows:
        pattern = {
            "errorSignature": error_signature,
            "fixSignature": fix_signature,
            "successRate": success_rate,
            "usageCount": successes + failures,
            "framework": framework,
        }
        if fix_type is not None:
            fix = {"type": fix_type, "description": description, "command": command}
            if file is not None:
                fix["file"] = file
            if diff is not None:
                fix["diff"] = diff
            fix["confidence"] = confidence
            pattern["fix"] = fix
        patterns.append(pattern)
    return patterns


def withdrawn_as_json(rows: list[tuple[str, str]]) -> list[dict]:
    return [{"errorSignature": error, "fixSignature": fix} for error, fix in rows]


# --- Stats and health -------------------------------------------------------------------------------


class UserStatsSerializer(serializers.Serializer):
    userId = serializers.CharField(source="user_id")
    contributedPatterns = serializers.IntegerField(source="contributed_patterns")
    helpedUsers = serializers.IntegerField(source="helped_users")
    rank = serializers.CharField(help_text='"top-N%", N one of 1, 5, 10, 25, 50, 100.')
    joined = serializers.DateTimeField()


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField(help_text='"ok", or "unavailable" when the database is down')
    version = serializers.CharField()
    timestamp = serializers.IntegerField(help_text="The server's clock: milliseconds since 1970 (UTC).")

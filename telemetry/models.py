"""Telemetry tables: who may upload (accounts, teams, keys), what was learned, what is published.

``errors``, ``fixes`` and ``learnings`` are the spec's tables (same names, columns and indexes).
Their ids are derived, never random, so every process computes the same id for the same pair and
counters can be upserted without a read first:

    error id = sha256("<scope>:<framework>:<error signature>")
    fix id   = sha256("<error id>:<fix signature>")

where scope is ``public`` or ``team-<team id>`` (a team's private library). ``Pattern`` is the
ranked pattern set that downloads read: the rebuild task copies each changed pair into it, so a
download never joins or aggregates, and what it serves changes only when the version does.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast, Now


class Sha256Field(models.CharField):
    """64 lowercase hex characters (a SHA-256), compared only whole.

    Spelled ``character varying`` on PostgreSQL so Django adds no ``varchar_pattern_ops`` LIKE
    index beside each key: nobody searches hashes by prefix, and every index slows ingest.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(*args, **kwargs)

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return f"character varying({self.max_length})"
        return super().db_type(connection)


def library_scope(team_id: int | None) -> str:
    """The library a pair belongs to: the public one, or a team's private one."""
    return f"team-{team_id}" if team_id else "public"


def error_id_for(*, team_id: int | None, framework: str | None, signature: str) -> str:
    return hashlib.sha256(f"{library_scope(team_id)}:{framework or ''}:{signature}".encode()).hexdigest()


def fix_id_for(*, error_id: str, fix_signature: str) -> str:
    return hashlib.sha256(f"{error_id}:{fix_signature}".encode()).hexdigest()


class Tier(models.TextChoices):
    FREE = "free", "Free"
    PRO = "pro", "Pro"
    TEAM = "team", "Team"


class Team(models.Model):
    """A team on the team tier: its members share a private pattern library."""

    name = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "telemetry_team"

    def __str__(self) -> str:
        return self.name


class TelemetryAccount(models.Model):
    """The telemetry side of a user: tier and team, managed by staff in the admin."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="telemetry_account")
    tier = models.CharField(max_length=10, choices=Tier.choices, default=Tier.FREE)
    # PROTECT: a team with members can't vanish from under its team-tier accounts (the check
    # constraint below); staff move the members first.
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="members")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "telemetry_account"
        constraints = [
            models.CheckConstraint(
                condition=~Q(tier=Tier.TEAM) | Q(team__isnull=False),
                name="telemetry_account_team_tier_has_team",
                violation_error_message="An account on the team tier must belong to a team.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.tier})"


class KeyConfirmation(models.TextChoices):
    EMAIL = "email", "Code e-mailed to the address"
    STAFF = "staff", "Staff"


class TelemetryKey(models.Model):
    """An accounts API key of the telemetry product, and whether its holder proved to own the account.

    Anyone may ask POST /api/v1/keys for a key for any address, so a key is the account's only once
    confirmed (``confirmed_at``): by the code e-mailed to the address, or by staff. Until then it
    answers at the free tier without the team library, has rate limits of its own (it spends
    nothing of the account's), and its learnings never count toward what other clients download.
    """

    api_key = models.OneToOneField("accounts.ApiKey", on_delete=models.CASCADE, related_name="telemetry_key")
    account = models.ForeignKey(TelemetryAccount, on_delete=models.CASCADE, related_name="keys")
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the key's holder proved to own the account's address (or staff said so)."
    )
    confirmed_by = models.CharField(max_length=10, choices=KeyConfirmation.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "telemetry_key"

    def __str__(self) -> str:
        return f"key {self.api_key_id} of {self.account_id}"

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class Error(models.Model):
    id = Sha256Field(primary_key=True)
    signature = Sha256Field()
    framework = models.CharField(max_length=50, null=True, blank=True)  # noqa: DJ001 (the spec's NULL)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    first_seen = models.DateTimeField(db_default=Now())
    occurrence_count = models.IntegerField(db_default=1)

    class Meta:
        db_table = "errors"
        indexes = [models.Index(fields=["signature"], name="errors_idx_signature")]

    def __str__(self) -> str:
        return self.signature


class FixReview(models.TextChoices):
    PENDING = "pending", "Not reviewed"
    APPROVED = "approved", "Approved"
    BLOCKED = "blocked", "Blocked"


# The spec's success-rate expression, in floating point (the spec's integer division is always 0).
SUCCESS_RATE_EXPRESSION = Cast(F("success_count"), models.FloatField()) / (F("success_count") + F("fail_count") + 1)


class Fix(models.Model):
    id = Sha256Field(primary_key=True)
    error = models.ForeignKey(Error, on_delete=models.CASCADE, related_name="fixes", db_index=False)
    fix_signature = Sha256Field()
    # The fix text whose canonical form hashes to fix_signature (telemetry.fix_text), its members
    # among type, description, command, file, diff; or as staff edited it. {} until one arrives.
    fix_data = models.JSONField(default=dict, blank=True)
    success_count = models.IntegerField(db_default=0)
    fail_count = models.IntegerField(db_default=0)
    created_at = models.DateTimeField(db_default=Now())
    review = models.CharField(max_length=10, choices=FixReview.choices, default=FixReview.PENDING)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # Set by every change; the rebuild publishes dirty pairs and clears the flag. Deliberately
    # not indexed: every upload sets it on every pair it touches, while only the rebuild, every
    # half minute or so, looks for it.
    dirty = models.BooleanField(db_default=True)

    class Meta:
        db_table = "fixes"
        verbose_name_plural = "fixes"
        indexes = [
            models.Index(fields=["error"], name="fixes_idx_error"),
            models.Index(SUCCESS_RATE_EXPRESSION, name="fixes_idx_success_rate"),
        ]

    def __str__(self) -> str:
        return self.fix_signature


class Contribution(models.Model):
    """Who reported a pair first (user stats), written once per new pair.

    Kept out of ``fixes`` so that counter updates, which rewrite a fix row and every index on
    it, don't also maintain an index on the reporter.
    """

    fix = models.OneToOneField(Fix, on_delete=models.CASCADE, primary_key=True, related_name="contribution")
    user_id = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "telemetry_contribution"

    def __str__(self) -> str:
        return f"{self.user_id} first reported {self.fix_id}"


class ContributorDay(models.Model):
    """What one confirmed account reported about one pair on one day (UTC): the unit of evidence.

    The published figures count these, not learnings: however many learnings an account sends
    about a pair in a day, it is one contributor-day, a success when most of that day's reports
    were successes. Only confirmed keys write here (``TelemetryKey.confirmed_at``).
    """

    pk = models.CompositePrimaryKey("fix", "account", "day")
    # No database constraints, as on learnings: a per-row trigger would slow every upload; the
    # upload writes the fix in the same transaction, and Django cascades deletes itself.
    # No index of their own either: the primary key (fix first) serves the rebuild's lookups.
    fix = models.ForeignKey(Fix, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    account = models.ForeignKey(
        TelemetryAccount, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    day = models.DateField()
    successes = models.IntegerField(default=0)
    failures = models.IntegerField(default=0)

    class Meta:
        db_table = "telemetry_contributor_day"

    def __str__(self) -> str:
        return f"account {self.account_id} on {self.day}: {self.successes}/{self.successes + self.failures}"


class Learning(models.Model):
    # 64-bit, unlike the spec's SERIAL: telemetry outgrows 2^31 rows.
    id = models.BigAutoField(primary_key=True)
    user_id = models.CharField(max_length=64)
    session_id = models.CharField(max_length=64)
    error_signature = Sha256Field()
    fix_signature = Sha256Field()
    # No database constraint: a per-row foreign-key trigger would dominate bulk ingest, and the
    # upload writes the fix in the same transaction anyway.
    fix = models.ForeignKey(Fix, on_delete=models.CASCADE, related_name="learnings", db_constraint=False)
    success = models.BooleanField()
    duration_ms = models.IntegerField(null=True, blank=True)
    project_size = models.IntegerField(null=True, blank=True)
    framework = models.CharField(max_length=50, null=True, blank=True)  # noqa: DJ001 (the spec's NULL)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "learnings"
        indexes = [
            models.Index(fields=["user_id"], name="learnings_idx_user"),
            models.Index(fields=["error_signature"], name="learnings_idx_error"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.error_signature[:12]} -> {self.fix_signature[:12]}"


class PatternSetVersion(models.Model):
    """One published state of the pattern set: ``v<major>.<minor>.<patch>``.

    The rebuild bumps minor when a pair became downloadable (a new pattern) and patch when only
    figures or fix text changed; major is the ranking's own version. ``sequence`` orders them.
    """

    sequence = models.IntegerField(primary_key=True)
    label = models.CharField(max_length=32, unique=True)
    major = models.IntegerField()
    minor = models.IntegerField()
    patch = models.IntegerField()
    new_patterns = models.IntegerField(default=0)
    changed_patterns = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "telemetry_pattern_set_version"

    def __str__(self) -> str:
        return self.label


class Pattern(models.Model):
    """A published pair, ranked: what GET /api/v1/patterns serves, one row per fix."""

    id = Sha256Field(primary_key=True)  # the fix id
    error_signature = Sha256Field()
    fix_signature = Sha256Field()
    framework = models.CharField(max_length=50, null=True, blank=True)  # noqa: DJ001
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # Contributor-days (ContributorDay), not learnings: mostly successful days, and the others.
    success_count = models.IntegerField()
    fail_count = models.IntegerField()
    success_rate = models.FloatField()
    # The Wilson lower bound of the success rate: the rank, and the fix's confidence.
    confidence = models.FloatField()
    # Distinct confirmed accounts that reported the pair.
    contributors = models.IntegerField(default=0)
    # The fix text (None: the pair has none, and is served without a fix object).
    fix_type = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001
    fix_description = models.TextField(null=True, blank=True)  # noqa: DJ001
    fix_command = models.TextField(null=True, blank=True)  # noqa: DJ001
    fix_file = models.TextField(null=True, blank=True)  # noqa: DJ001
    fix_diff = models.TextField(null=True, blank=True)  # noqa: DJ001
    # False once withdrawn (a blocked fix); kept so `since` can tell clients to drop it.
    visible = models.BooleanField()
    changed_sequence = models.IntegerField()

    class Meta:
        db_table = "telemetry_pattern"
        indexes = [
            models.Index(F("confidence").desc(), "id", condition=Q(visible=True), name="telemetry_pattern_rank"),
            models.Index(
                "framework", F("confidence").desc(), "id", condition=Q(visible=True), name="telemetry_pattern_fw_rank"
            ),
            models.Index(fields=["changed_sequence"], name="telemetry_pattern_changed"),
        ]

    def __str__(self) -> str:
        return f"{self.error_signature[:12]} -> {self.fix_signature[:12]}"

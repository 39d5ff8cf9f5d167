"""Async Coder: credit accounts and their ledger, GitHub connections, repositories, AI models,
tasks and their results, and the GitHub webhook deliveries already processed."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class CoderAccount(models.Model):
    """A user's standing in Async Coder. ``credits`` is the spendable balance and never negative;
    every change to it is a ``CreditTransaction`` written in the same transaction."""

    class Tier(models.TextChoices):
        FREE = "free", "Free"
        PRO = "pro", "Pro"
        TEAM = "team", "Team"
        ENTERPRISE = "enterprise", "Enterprise"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="coder_account"
    )
    credits = models.IntegerField(default=0)
    total_credits_used = models.IntegerField(default=0)
    subscription_tier = models.CharField(max_length=20, choices=Tier.choices, default=Tier.FREE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(credits__gte=0), name="coder_account_credits_not_negative"),
            models.CheckConstraint(condition=Q(total_credits_used__gte=0), name="coder_account_used_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.credits} credits)"


class CreditTransaction(models.Model):
    """One line of a user's credit ledger: ``amount`` (signed) moved the balance to ``balance_after``.

    ``key`` makes a movement happen at most once (``task:<id>:reserve``, ``task:<id>:settle``), so
    a retried or re-delivered job can never debit or refund twice.
    """

    class Type(models.TextChoices):
        CREDIT = "credit", "Credit"
        DEBIT = "debit", "Debit"
        REFUND = "refund", "Refund"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_transactions")
    type = models.CharField(max_length=10, choices=Type.choices)
    amount = models.IntegerField()
    balance_after = models.IntegerField()
    description = models.CharField(max_length=255)
    task = models.ForeignKey("coder.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    key = models.CharField(max_length=100, unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="coder_credit_user_created")]
        constraints = [
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="coder_credit_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.amount:+d} -> {self.balance_after}"


class GitHubConnection(models.Model):
    """The GitHub account a user connected; the OAuth token is stored encrypted (core.crypto)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="github_connection"
    )
    github_user_id = models.BigIntegerField()
    login = models.CharField(max_length=100)
    name = models.CharField(max_length=255, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    access_token_encrypted = models.TextField(editable=False)
    scopes = models.CharField(max_length=255, blank=True)
    connected_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "GitHub connection"

    def __str__(self) -> str:
        return f"github:{self.login}"


class Repository(models.Model):
    """A repository the user can run tasks on, as last synced from GitHub.

    ``github_id`` is empty for repositories registered by staff with a plain git URL (self-hosted
    mirrors, tests); ``is_active`` turns false when a sync no longer finds the repository.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coder_repositories")
    github_id = models.BigIntegerField(null=True, blank=True)
    name = models.CharField(max_length=255)
    full_name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    is_private = models.BooleanField(default=False)
    default_branch = models.CharField(max_length=255, default="main")
    language = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=500, blank=True)
    clone_url = models.CharField(max_length=500)
    is_active = models.BooleanField(default=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "repositories"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "github_id"], condition=Q(github_id__isnull=False), name="coder_repository_user_github"
            ),
        ]
        indexes = [models.Index(fields=["user", "full_name"], name="coder_repository_user_name")]

    def __str__(self) -> str:
        return self.full_name


class AIModel(models.Model):
    """A model tasks can run on. ``name`` is what the language-model endpoint is asked for."""

    class Capability(models.TextChoices):
        DEBUG = "debug", "Debug"
        ASK = "ask", "Ask"
        DOCUMENTATION = "documentation", "Documentation"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)
    display_name = models.CharField(max_length=100)
    provider = models.CharField(max_length=50)
    description = models.TextField(blank=True)
    cost_per_token = models.DecimalField(max_digits=14, decimal_places=10, help_text="US dollars per token")
    max_tokens = models.PositiveIntegerField(help_text="Context window in tokens")
    capabilities = models.JSONField(default=list, help_text='Task types, e.g. ["debug", "ask", "documentation"]')
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = "AI model"
        constraints = [
            models.CheckConstraint(condition=Q(cost_per_token__gte=0), name="coder_aimodel_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return self.display_name


class Task(models.Model):
    """A unit of work on a repository: from ``pending`` through ``running`` to a final status.

    ``estimated_credits`` are reserved (debited) when the task is created. Settlement happens once
    (``settled_at`` set by a conditional update): ``credits_used`` stays debited, the rest is
    refunded.
    """

    class Type(models.TextChoices):
        DEBUG = "debug", "Debug"
        ASK = "ask", "Ask"
        DOCUMENTATION = "documentation", "Documentation"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE_STATUSES = (Status.PENDING, Status.RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coder_tasks")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="tasks")
    ai_model = models.ForeignKey(AIModel, on_delete=models.PROTECT, related_name="tasks")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    prompt = models.TextField()
    branch = models.CharField(max_length=255)
    target_branch = models.CharField(max_length=255)
    type = models.CharField(max_length=20, choices=Type.choices)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    estimated_credits = models.PositiveIntegerField()
    credits_used = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    run_id = models.CharField(max_length=64, blank=True, help_text="Celery task id of the run")
    attempts = models.PositiveSmallIntegerField(default=0)
    error_message = models.TextField(blank=True)
    work_branch = models.CharField(max_length=255, blank=True)
    commit_sha = models.CharField(max_length=64, blank=True)
    pull_request_url = models.URLField(max_length=500, blank=True)
    pull_request_number = models.PositiveIntegerField(null=True, blank=True)
    pull_request_state = models.CharField(max_length=20, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-created_at"], name="coder_task_user_created"),
            models.Index(fields=["user", "status"], name="coder_task_user_status"),
            models.Index(fields=["status", "updated_at"], name="coder_task_status_updated"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="coder_task_progress_max_100"),
            models.CheckConstraint(
                condition=Q(credits_used__lte=models.F("estimated_credits")), name="coder_task_used_within_reserved"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class TaskResult(models.Model):
    """What a run produced: code changes (a diff and its pull request), an answer or documentation."""

    class ResultType(models.TextChoices):
        CODE_CHANGES = "code_changes", "Code changes"
        ANSWER = "answer", "Answer"
        DOCUMENTATION = "documentation", "Documentation"
        ERROR = "error", "Error"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="results")
    result_type = models.CharField(max_length=20, choices=ResultType.choices)
    content = models.TextField(blank=True)
    summary = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["task", "created_at"], name="coder_result_task_created")]

    def __str__(self) -> str:
        return f"{self.result_type} of {self.task_id}"


class GitHubWebhookDelivery(models.Model):
    """A GitHub delivery already processed; its id makes redelivery a no-op."""

    delivery_id = models.CharField(max_length=100, primary_key=True)
    event = models.CharField(max_length=50)
    action = models.CharField(max_length=50, blank=True)
    task = models.ForeignKey(Task, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "GitHub webhook delivery"
        verbose_name_plural = "GitHub webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event}/{self.delivery_id}"

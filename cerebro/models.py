"""cerebro's tables: layered memories, chats and their messages, uploads and their knowledge chunks,
and what the minicontratos app keeps beside its chats: votes on answers, versioned documents and
the suggestions made on them.

Full-text search on PostgreSQL reads ``search_vector`` columns that a trigger fills from
``search_text`` (english configuration) and GIN indexes (migration 0002); on SQLite those columns
stay empty and search runs in Python (cerebro/retrieval/text.py). ``secret`` and ``pii`` memories
keep their content only as a Fernet token (``content_encrypted``); their ``content``,
``search_text`` (beyond the key and tags) and ``embedding`` hold nothing derived from it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone


class Layer(models.TextChoices):
    CONTEXT = "context", "Context"
    TEMPORARY = "temporary", "Temporary"
    PERMANENT = "permanent", "Permanent"


class Sensitivity(models.TextChoices):
    PUBLIC = "public", "Public"
    CONFIDENTIAL = "confidential", "Confidential"
    SECRET = "secret", "Secret"
    PII = "pii", "Personal data"


ENCRYPTED_SENSITIVITIES = frozenset({Sensitivity.SECRET, Sensitivity.PII})
# In a fixed order, for index conditions and the SQL that must match them.
WORKING_SET_EXCLUDED = sorted(ENCRYPTED_SENSITIVITIES)


class WithoutSearchVector(models.Manager):
    """Rows without their ``search_vector``: only the database reads it, so don't ship it around."""

    def get_queryset(self):
        return super().get_queryset().defer("search_vector")


class Memory(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cerebro_memories")
    key = models.CharField(max_length=255)
    layer = models.CharField(max_length=16, choices=Layer.choices)
    sensitivity = models.CharField(max_length=16, choices=Sensitivity.choices, default=Sensitivity.PUBLIC)
    content = models.JSONField(null=True, blank=True)
    content_encrypted = models.TextField(blank=True)
    confidence = models.FloatField()
    tags = models.JSONField(default=list, blank=True)
    search_text = models.TextField(blank=True)
    search_vector = SearchVectorField(null=True, editable=False)
    # Sparse embedding {dimension: weight} of the searchable text; None for secret/pii.
    embedding = models.JSONField(null=True, blank=True, editable=False)
    token_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)

    objects = WithoutSearchVector()

    class Meta:
        verbose_name_plural = "memories"
        constraints = [
            # One key per user across every layer: a key names one memory.
            models.UniqueConstraint(fields=["user", "key"], name="cerebro_memory_user_key"),
            models.CheckConstraint(
                condition=models.Q(confidence__gte=0) & models.Q(confidence__lte=1), name="cerebro_memory_confidence"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "layer"]),
            models.Index(fields=["expires_at"]),
            # The working set's pool reads, per layer, the most recent and the most confident
            # memories that may enter a working set: one short scan of each of these, in the
            # lists' exact order (the id breaks ties) and covering what the lists read, so
            # PostgreSQL answers from the index alone (an index-only scan).
            models.Index(
                fields=["user", "layer", "-updated_at", "-confidence", "id"],
                include=["expires_at"],
                condition=~models.Q(sensitivity__in=WORKING_SET_EXCLUDED),
                name="cerebro_memory_ws_recent",
            ),
            models.Index(
                fields=["user", "layer", "-confidence", "-updated_at", "id"],
                include=["expires_at"],
                condition=~models.Q(sensitivity__in=WORKING_SET_EXCLUDED),
                name="cerebro_memory_ws_confident",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.layer}:{self.key}"

    @property
    def is_encrypted(self) -> bool:
        return self.sensitivity in ENCRYPTED_SENSITIVITIES


class MemoryTerm(models.Model):
    """One lexeme of one memory's ``search_vector``, with its full-text weight and what the working
    set scores a memory by: the working set's matches are read from here, index-only, instead of
    visiting and ranking each matching memory (cerebro/retrieval/memory_sql.py).

    PostgreSQL only, written by triggers on ``cerebro_memory`` and never by the ORM (migration
    0011): a row per lexeme of every memory the working set may show (not ``secret``, not ``pii``),
    rewritten whenever the memory's text, layer, confidence, sensitivity or times change. On SQLite
    the table stays empty (the embedded default ranks in Python).

    ``weight`` is what ``ts_rank`` adds for this lexeme when a query holds it (PostgreSQL's
    ``calc_rank_or``, default weights), so a memory's rank against a query of n distinct lexemes is
    the sum of its rows' weights over n.
    """

    pk = models.CompositePrimaryKey("memory_id", "lexeme")
    memory_id = models.UUIDField()
    lexeme = models.TextField()
    user_id = models.UUIDField()
    weight = models.FloatField()
    layer = models.CharField(max_length=16, choices=Layer.choices)
    confidence = models.FloatField()
    updated_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            # The working set's matches: every column it reads, so an index-only scan answers.
            models.Index(
                fields=["user_id", "lexeme"],
                include=["memory_id", "weight", "layer", "confidence", "updated_at", "expires_at"],
                name="cerebro_memoryterm_lookup",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.memory_id}:{self.lexeme}"


class Chat(models.Model):
    class Visibility(models.TextChoices):
        PRIVATE = "private", "Private"
        PUBLIC = "public", "Public"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cerebro_chats")
    title = models.CharField(max_length=120)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE)
    model_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-updated_at"])]

    def __str__(self) -> str:
        return self.title


class ChatMessage(models.Model):
    class Role(models.TextChoices):
        SYSTEM = "system", "System"
        USER = "user", "User"
        ASSISTANT = "assistant", "Assistant"

    # Made by the client for the user's messages in the app's shape; by the server otherwise.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10, choices=Role.choices)
    # The message's text (what prompts and the working set read).
    content = models.TextField()
    # The message as the AI SDK's UI parts (text and file parts), when it came or went in that shape.
    parts = models.JSONField(default=list, blank=True)
    provider = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=100, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    usage_estimated = models.BooleanField(default=False)
    # False when the answer stopped early (the model failed or the client went away).
    complete = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["chat", "created_at"])]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


class Upload(models.Model):
    class KnowledgeStatus(models.TextChoices):
        NONE = "none", "Not for the knowledge base"
        PENDING = "pending", "Waiting to be indexed"
        INDEXED = "indexed", "Indexed"
        FAILED = "failed", "Indexing failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cerebro_uploads")
    cid = models.CharField(max_length=100, help_text="Content identifier in core.storage.")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    knowledge_status = models.CharField(max_length=10, choices=KnowledgeStatus.choices, default=KnowledgeStatus.NONE)
    knowledge_error = models.CharField(max_length=255, blank=True)
    indexed_at = models.DateTimeField(null=True, blank=True)
    # Beaten while the indexing runs; a pending upload whose heartbeat is stale is sent again (core/jobs.py).
    index_heartbeat_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "knowledge_status"]),
            models.Index(fields=["knowledge_status", "index_heartbeat_at"], name="cerebro_upload_index_watch"),
        ]

    def __str__(self) -> str:
        return self.filename


class KnowledgeChunk(models.Model):
    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="chunks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    search_vector = SearchVectorField(null=True, editable=False)
    embedding = models.JSONField(default=dict, editable=False)
    token_count = models.PositiveIntegerField(default=0)

    objects = WithoutSearchVector()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["upload", "ordinal"], name="cerebro_chunk_position")]
        indexes = [models.Index(fields=["user"])]

    def __str__(self) -> str:
        return f"{self.upload_id}#{self.ordinal}"


class Vote(models.Model):
    """The user's thumbs up or down on one message of their chat (one vote per message)."""

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="votes")
    message = models.OneToOneField(ChatMessage, on_delete=models.CASCADE, related_name="vote")
    is_upvoted = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["chat"])]

    def __str__(self) -> str:
        return f"{'up' if self.is_upvoted else 'down'} on {self.message_id}"


class Document(models.Model):
    """A document the app edits beside a chat (its artifact). The id is the client's; the first
    save makes the saver its owner, and every save adds a version."""

    id = models.UUIDField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cerebro_documents")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.id)


class DocumentVersion(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        CODE = "code", "Code"
        IMAGE = "image", "Image"
        SHEET = "sheet", "Sheet"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    # Whole milliseconds (what the client's JavaScript dates hold, so a timestamp it sends back
    # names exactly one version) and strictly increasing within a document.
    created_at = models.DateTimeField()
    title = models.CharField(max_length=255)
    content = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "created_at"], name="cerebro_document_version_moment"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.created_at:%Y-%m-%d %H:%M:%S})"


class Suggestion(models.Model):
    """A proposed edit of one version of a document."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="suggestions")
    original_text = models.TextField()
    suggested_text = models.TextField()
    description = models.TextField(blank=True)
    is_resolved = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["version", "created_at"])]

    def __str__(self) -> str:
        return self.description or self.suggested_text[:40]

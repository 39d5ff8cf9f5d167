"""Ledger objects and their append-only, hash-chained transactions.

Each object's transactions form a chain: transaction n stores ``previous_hash`` (the hash of
transaction n-1, or 64 zeros for the first) and ``hash = sha256(previous_hash + canonical JSON of
the transaction)``. Changing any stored field, removing a transaction or reordering them breaks
the chain at that point, which ``ledger.services.verify`` reports. The object row holds the chain
head (``head_hash``, ``head_sequence``) and the state the transactions produced (``data``).

Transactions are never updated or deleted: the model and its queryset refuse, and on PostgreSQL a
trigger refuses at the database (migration 0002).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

GENESIS_HASH = "0" * 64


class ImmutableRecordError(Exception):
    """Raised when code tries to change or remove a ledger transaction."""


class LedgerObject(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_objects")
    type_name = models.CharField(max_length=100)
    data = models.JSONField(default=dict)
    # The object's ``data.status`` when it is a string, kept in a column for the aggregates.
    status = models.CharField(max_length=100, blank=True)
    head_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    head_sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["owner", "type_name", "created_at"]),
            models.Index(fields=["owner", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.type_name} {self.id}"


class TransactionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRecordError("Ledger transactions are append-only")

    def delete(self):
        raise ImmutableRecordError("Ledger transactions are append-only")


class LedgerTransaction(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    ledger_object = models.ForeignKey(LedgerObject, on_delete=models.PROTECT, related_name="transactions")
    sequence = models.PositiveIntegerField()
    action = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    # Taken from the request, never from the client's body: the spec's audit trail.
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = TransactionQuerySet.as_manager()

    class Meta:
        constraints = [
            # Two appends can never both claim the same place in a chain.
            models.UniqueConstraint(fields=["ledger_object", "sequence"], name="ledger_transaction_chain_position"),
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.action} #{self.sequence} on {self.ledger_object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecordError("Ledger transactions are append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError("Ledger transactions are append-only")


class IdempotencyRecord(models.Model):
    """The first answer to a POST carrying ``Idempotency-Key``, replayed for the same key and body."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=100)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(default=200)
    response_body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="ledger_idempotency_user_key"),
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"

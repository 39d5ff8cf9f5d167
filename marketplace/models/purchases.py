"""Purchases: a payment checked with its provider that gives a buyer a dataset."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from marketplace.models.datasets import Currency, Dataset


class Purchase(models.Model):
    class PaymentMethod(models.TextChoices):
        CRYPTO = "crypto", "Ethereum transaction"
        STRIPE = "stripe", "Stripe PaymentIntent"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="purchase_rows")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="marketplace_purchases")
    amount = models.DecimalField(max_digits=36, decimal_places=18)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    payment_method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    # The Ethereum transaction hash (lower case) or the Stripe PaymentIntent id; never used twice.
    transaction_hash = models.CharField(max_length=255, unique=True)
    payee_address = models.CharField(max_length=42, blank=True)
    block_number = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=255, blank=True)
    check_attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["buyer", "dataset", "status"]),
            models.Index(fields=["dataset", "status", "completed_at"]),
        ]
        constraints = [
            # One completed purchase of a dataset per buyer.
            models.UniqueConstraint(
                fields=["buyer", "dataset"], condition=Q(status="completed"), name="mkt_purchase_one_completed"
            ),
        ]

    def __str__(self) -> str:
        return f"purchase {self.id} ({self.status})"

"""Input validation and output shapes of the ledger endpoints."""

from __future__ import annotations

from rest_framework import serializers

from cerebro.api import js_timestamp
from cerebro.fields import IsoMomentField, JsonObjectField
from core.pagination import OffsetQuerySerializer
from ledger.models import LedgerObject, LedgerTransaction

DATA_KEY_PATTERN = r"^[A-Za-z0-9_]{1,64}$"
NAME_PATTERN = r"^[A-Za-z0-9_.:\-]+$"


# --- input --------------------------------------------------------------------------------------


class ObjectCreateInput(serializers.Serializer):
    typeName = serializers.RegexField(NAME_PATTERN, max_length=100)  # noqa: N815
    data = JsonObjectField()


class ObjectFilterInput(serializers.Serializer):
    typeName = serializers.CharField(max_length=100, required=False)  # noqa: N815
    status = serializers.CharField(max_length=100, required=False)
    data = JsonObjectField(
        required=False, help_text="Top-level keys of the object's data and the values they must equal."
    )
    createdFrom = IsoMomentField(required=False)  # noqa: N815
    createdTo = IsoMomentField(required=False, end_of_day=True)  # noqa: N815

    def validate_data(self, value: dict) -> dict:
        import re

        for key, item in value.items():
            if not re.match(DATA_KEY_PATTERN, key):
                raise serializers.ValidationError(f"{key!r}: keys are letters, digits and _ (at most 64)")
            if isinstance(item, (dict, list)):
                raise serializers.ValidationError(f"{key!r}: compare with a string, number, boolean or null")
        return value


class ObjectQueryInput(OffsetQuerySerializer):
    filter = ObjectFilterInput()


class TransactionInput(serializers.Serializer):
    objectId = serializers.UUIDField()  # noqa: N815
    action = serializers.RegexField(NAME_PATTERN, max_length=64)
    data = JsonObjectField(required=False, default=dict)
    metadata = serializers.DictField(
        required=False,
        help_text="Accepted for compatibility and ignored: ip and userAgent are taken from the request.",
    )


class AggregatesQuery(serializers.Serializer):
    typeName = serializers.CharField(max_length=100, required=False)  # noqa: N815
    to = IsoMomentField(required=False, end_of_day=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = IsoMomentField(required=False)  # "from" is a Python keyword
        return fields


class TransactionsPage(OffsetQuerySerializer):
    """``limit`` (default 50) and ``offset``, by the platform's one rule (core.pagination)."""


# --- output -------------------------------------------------------------------------------------


class LedgerObjectOutput(serializers.Serializer):
    id = serializers.UUIDField()
    typeName = serializers.CharField(source="type_name")  # noqa: N815
    data = serializers.JSONField()
    status = serializers.CharField()
    createdAt = serializers.SerializerMethodField()  # noqa: N815
    updatedAt = serializers.SerializerMethodField()  # noqa: N815
    createdBy = serializers.CharField(source="owner_id")  # noqa: N815
    headHash = serializers.CharField(source="head_hash")  # noqa: N815
    transactionCount = serializers.IntegerField(source="head_sequence")  # noqa: N815

    def get_createdAt(self, obj: LedgerObject) -> str:  # noqa: N802
        return js_timestamp(obj.created_at)

    def get_updatedAt(self, obj: LedgerObject) -> str:  # noqa: N802
        return js_timestamp(obj.updated_at)


class LedgerTransactionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    objectId = serializers.UUIDField(source="ledger_object_id")  # noqa: N815
    sequence = serializers.IntegerField()
    action = serializers.CharField()
    data = serializers.JSONField()
    createdAt = serializers.SerializerMethodField()  # noqa: N815
    createdBy = serializers.CharField(source="created_by_id")  # noqa: N815
    previousHash = serializers.CharField(source="previous_hash")  # noqa: N815
    hash = serializers.CharField()

    def get_createdAt(self, obj: LedgerTransaction) -> str:  # noqa: N802
        return js_timestamp(obj.created_at)


class ObjectEnvelope(serializers.Serializer):
    object = LedgerObjectOutput()


class ObjectListOutput(serializers.Serializer):
    objects = LedgerObjectOutput(many=True)
    total = serializers.IntegerField()
    hasMore = serializers.BooleanField()  # noqa: N815


class TransactionEnvelope(serializers.Serializer):
    transaction = LedgerTransactionOutput()


class TransactionListOutput(serializers.Serializer):
    transactions = LedgerTransactionOutput(many=True)
    total = serializers.IntegerField()
    hasMore = serializers.BooleanField()  # noqa: N815


class AggregatesBody(serializers.Serializer):
    totalObjects = serializers.IntegerField()  # noqa: N815
    totalTransactions = serializers.IntegerField()  # noqa: N815
    byType = serializers.DictField(child=serializers.IntegerField())  # noqa: N815
    byStatus = serializers.DictField(child=serializers.IntegerField())  # noqa: N815


class AggregatesOutput(serializers.Serializer):
    aggregates = AggregatesBody()


class BrokenLinkOutput(serializers.Serializer):
    sequence = serializers.IntegerField()
    transactionId = serializers.UUIDField(allow_null=True, source="transaction_id")  # noqa: N815
    reason = serializers.ChoiceField(
        choices=["sequence_gap", "previous_hash_mismatch", "hash_mismatch", "head_mismatch", "state_mismatch"]
    )


class VerifyOutput(serializers.Serializer):
    objectId = serializers.UUIDField(source="object_id")  # noqa: N815
    valid = serializers.BooleanField()
    transactionCount = serializers.IntegerField(source="transaction_count")  # noqa: N815
    headHash = serializers.CharField(source="head_hash")  # noqa: N815
    firstBrokenLink = BrokenLinkOutput(source="broken", allow_null=True)  # noqa: N815
